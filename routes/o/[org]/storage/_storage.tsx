/**
 * What the storage pages share: their paths, the tabs between them, the flash after an action,
 * and the badge of a target's verification (a volume's sync badge is components/SyncBadge.tsx).
 */
import type { AppContext } from "../../../../lib/http/context.ts";
import type { TargetView } from "../../../../lib/snapshots/targets.ts";
import { Alert } from "../../../../components/Alert.tsx";
import { Badge } from "../../../../components/Badge.tsx";
import { Time } from "../../../../components/Time.tsx";
import { orgBase } from "../_docker.tsx";

export { SyncBadge } from "../../../../components/SyncBadge.tsx";

export const storageHref = (c: AppContext) => `${orgBase(c)}/storage`;
export const targetsHref = (c: AppContext) => `${orgBase(c)}/storage/targets`;
export const nasHref = (c: AppContext) => `${orgBase(c)}/storage/nas`;
/** A volume's page: by host and name, so a volume never snapshotted has one too. */
export const volumeHref = (c: AppContext, hostId: string, volume: string) =>
  `${orgBase(c)}/storage/hosts/${encodeURIComponent(hostId)}/volumes/${encodeURIComponent(volume)}`;

const DONE: Record<string, string> = {
  target_created: "Storage target added.",
  target_updated: "Storage target saved.",
  target_deleted: "Storage target removed. Its repository and the data in it were left in place.",
  target_default: "Default target changed: new snapshots go there.",
  target_verify_started:
    "Verification started: restic checks the repository, then a test restore of the newest snapshot runs. Its badge shows the outcome.",
  snapshot_started: "Snapshot started.",
  snapshots_deleted: "Snapshots deleted.",
  restore_started: "Restore started.",
  volume_saved: "Volume settings saved.",
  schedule_saved: "Schedule saved.",
  schedule_deleted: "Schedule removed.",
};

/** The flash message of the request's `?done=`, if it is one of ours. */
export function StorageFlash({ c }: { c: AppContext }) {
  const key = c.req.query("done");
  return key && Object.hasOwn(DONE, key) ? <Alert kind="ok">{DONE[key]}</Alert> : null;
}

/** The tabs between volumes, targets and NAS backup status. */
export function StorageTabs(
  { c, current }: { c: AppContext; current: "volumes" | "targets" | "nas" },
) {
  const tabs = [
    ["volumes", storageHref(c), "Volumes"],
    ["targets", targetsHref(c), "Targets"],
    ["nas", nasHref(c), "NAS backups"],
  ] as const;
  return (
    <nav class="tabs" aria-label="Storage">
      {tabs.map(([key, href, label]) => (
        <a key={key} href={href} aria-current={key === current ? "page" : undefined}>{label}</a>
      ))}
    </nav>
  );
}

/** A target's verification: verified with its date, failed, running, or never. */
export function VerifiedBadge(
  { t }: { t: Pick<TargetView, "verify_status" | "verified_at" | "verify_error"> },
) {
  switch (t.verify_status) {
    case "ok":
      return (
        <span data-verify="ok">
          <Badge tone="ok">verified</Badge>{" "}
          <span class="muted small">
            <Time ms={t.verified_at} />
          </span>
        </span>
      );
    case "failed":
      return (
        <span data-verify="failed" title={t.verify_error ?? undefined}>
          <Badge tone="error">verification failed</Badge>
        </span>
      );
    case "running":
      return <Badge tone="warn">verifying…</Badge>;
    default:
      return <span class="muted" data-verify="none">not verified yet</span>;
  }
}
