/**
 * "Test connection" of a storage target. S3: the hub writes, reads back and deletes a probe object
 * (s3_probe.ts) through the outbound policy of notification channels, trusting the target's own CA
 * for those requests only, and names the step that failed. Filesystem and SFTP live on (or are
 * reached from) a host, so an online agent of the org lists the repository's snapshots with
 * restic: that makes nothing, and an unreachable SFTP server or a refused key fails with restic's
 * message. (A filesystem folder that does not exist yet answers an empty list: restic makes it on
 * the first snapshot.) The outcome is recorded on the target and audited; no message ever holds a
 * secret.
 */
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { Clock } from "../util/clock.ts";
import type { OutboundPolicy } from "../net/outbound.ts";
import { probeS3Target, s3TargetSchema } from "./s3_probe.ts";
import { agentMessage, type AgentPicker } from "./online.ts";
import type { Targets } from "./targets.ts";

/** The outcome of a connection test, as answered. */
export interface ConnectionResult {
  ok: boolean;
  /** Where it was tried from: "hub" for S3, else the host's id. */
  from: string;
  /** The step that failed (S3: check, write, read, delete; else "list"). */
  step: string | null;
  /** Why, for the page to pick its hint (S3's failure classes; "restic" otherwise). */
  failure: string | null;
  message: string | null;
  elapsed_ms: number;
}

export interface ConnectionDeps {
  targets: Pick<Targets, "open" | "recordTest">;
  pickAgent: AgentPicker;
  audit: AuditLog;
  clock: Clock;
  outbound: OutboundPolicy;
  /** The folder of the org's repository on a host when a filesystem target names none. */
  repoPath: (orgId: string) => string;
}

/** How long an agent may take to list a repository (an SFTP login included). */
const LIST_TIMEOUT_MS = 120_000;

export function createConnectionTest(deps: ConnectionDeps) {
  const { targets, audit, clock } = deps;

  async function attempt(orgId: string, id: string, hostId?: string): Promise<ConnectionResult> {
    const started = clock.now();
    const opened = await targets.open(orgId, id, deps.repoPath);
    const t = opened.target;
    if (t.kind === "s3") {
      const s3 = s3TargetSchema.parse({
        endpoint: t.endpoint,
        region: t.region || undefined,
        bucket: t.bucket,
        prefix: t.prefix,
        access_key_id: t.access_key_id,
        secret_access_key: t.secret_access_key,
        path_style: t.path_style,
        ...(t.ca_cert_pem ? { ca_pem: t.ca_cert_pem } : {}),
      });
      const r = await probeS3Target(s3, deps.outbound);
      return r.ok
        ? {
          ok: true,
          from: "hub",
          step: null,
          failure: null,
          message: null,
          elapsed_ms: r.elapsedMs,
        }
        : {
          ok: false,
          from: "hub",
          step: r.step,
          failure: r.failure,
          message: r.message,
          elapsed_ms: clock.now() - started,
        };
    }
    const { host, agent } = await deps.pickAgent(orgId, hostId);
    try {
      await agent.call(
        "snapshots.list",
        { target: t, password: opened.password },
        LIST_TIMEOUT_MS,
      );
      return {
        ok: true,
        from: host.id,
        step: null,
        failure: null,
        message: null,
        elapsed_ms: clock.now() - started,
      };
    } catch (err) {
      const message = agentMessage(err, [
        opened.password,
        t.kind === "sftp" ? t.private_key : undefined,
      ]);
      return {
        ok: false,
        from: host.id,
        step: "list",
        failure: "restic",
        message: `From host "${host.name}": ${message}`.slice(0, 2000),
        elapsed_ms: clock.now() - started,
      };
    }
  }

  return {
    /** Tests target `id` (from `hostId`'s agent for filesystem and SFTP, when given). */
    async test(
      ctx: ActionContext,
      orgId: string,
      id: string,
      opts: { host_id?: string } = {},
    ): Promise<ConnectionResult> {
      const started = clock.now();
      const r = await attempt(orgId, id, opts.host_id);
      await targets.recordTest(orgId, id, r.ok, r.ok ? null : r.message);
      await audit.record({
        ctx,
        orgId,
        action: "storage_target.tested",
        target: { type: "storage_target", id },
        status: r.ok ? "ok" : "error",
        error: r.ok ? undefined : r.message ?? undefined,
        durationMs: clock.now() - started,
        metadata: { from: r.from, ...(r.step ? { step: r.step } : {}) },
      });
      return r;
    },
  };
}

export type ConnectionTest = ReturnType<typeof createConnectionTest>;
