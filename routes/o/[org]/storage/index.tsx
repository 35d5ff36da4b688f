import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import type { StorageVolumeView } from "../../../../lib/snapshots/volumes.ts";
import type { TargetView } from "../../../../lib/snapshots/targets.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { StatCard } from "../../../../components/StatCard.tsx";
import { bytes } from "../../../../components/format.ts";
import { Time } from "../../../../components/Time.tsx";
import { type PageKit, render } from "../../../_render.tsx";
import { count, orgBase } from "../_docker.tsx";
import { StorageFlash, StorageTabs, SyncBadge, targetsHref, volumeHref } from "./_storage.tsx";

const PAGE = 100;

/** Sums of the org's volumes: how many, how many protected, their size, and failures. */
export function storageTotals(volumes: StorageVolumeView[]) {
  return {
    volumes: volumes.length,
    protected: volumes.filter((v) => v.last_snapshot_at !== null).length,
    failed: volumes.filter((v) => v.sync_state === "failed").length,
    bytes: volumes.reduce((n, v) => n + (v.size_bytes ?? 0), 0),
  };
}

/** The size of the volumes of each owner's apps (the user who made the app), largest first. */
function byOwner(
  volumes: StorageVolumeView[],
  ownerOf: Map<string, string>,
): { owner: string; volumes: number; bytes: number }[] {
  const sums = new Map<string, { volumes: number; bytes: number }>();
  for (const v of volumes) {
    const owner = v.app_id ? ownerOf.get(v.app_id) ?? "unknown" : "not in an app";
    const s = sums.get(owner) ?? { volumes: 0, bytes: 0 };
    s.volumes++;
    s.bytes += v.size_bytes ?? 0;
    sums.set(owner, s);
  }
  return [...sums].map(([owner, s]) => ({ owner, ...s })).sort((a, b) => b.bytes - a.bytes);
}

function VolumesTable(
  { c, volumes, targets, appNames }: {
    c: AppContext;
    volumes: StorageVolumeView[];
    targets: Map<string, TargetView>;
    appNames: Map<string, string>;
  },
) {
  const defaultTarget = [...targets.values()].find((t) => t.is_default);
  return (
    <div class="table-wrap">
      <table class="table-cards storage-volumes">
        <thead>
          <tr>
            <th scope="col">Volume</th>
            <th scope="col">Host</th>
            <th scope="col">App</th>
            <th scope="col">Size</th>
            <th scope="col">Target</th>
            <th scope="col">Last snapshot</th>
            <th scope="col">Sync</th>
          </tr>
        </thead>
        <tbody>
          {volumes.map((v) => {
            const target = v.target_id ? targets.get(v.target_id) : defaultTarget;
            const app = v.app_id ? appNames.get(v.app_id) : undefined;
            return (
              <tr key={v.ref} data-volume={v.volume}>
                <td class="card-title">
                  <a href={volumeHref(c, v.host_id, v.volume)}>{v.volume}</a>
                  {v.present === false && <div class="muted small">not on the host now</div>}
                </td>
                <td data-label="Host">
                  {v.host_name}
                  {!v.host_online && <span class="muted small">(offline)</span>}
                </td>
                <td data-label="App">
                  {app
                    ? <a href={`${orgBase(c)}/apps/${encodeURIComponent(app)}`}>{app}</a>
                    : <span class="muted">—</span>}
                  {v.service && <span class="muted small">· {v.service}</span>}
                </td>
                <td data-label="Size" class="nowrap" data-size>
                  {v.size_bytes !== null ? bytes(v.size_bytes) : <span class="muted">—</span>}
                </td>
                <td data-label="Target">
                  {target
                    ? (
                      <>
                        {target.name} {!v.target_id && <span class="muted small">(default)</span>}
                      </>
                    )
                    : <span class="muted">none</span>}
                </td>
                <td data-label="Last snapshot" class="nowrap">
                  {v.last_snapshot_at
                    ? <Time ms={v.last_snapshot_at} />
                    : <span class="muted">never</span>}
                </td>
                <td data-label="Sync">
                  <SyncBadge state={v.sync_state} error={v.sync_error} />
                  {v.sync && <div class="muted small">restores on start</div>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

async function storagePage(c: AppContext) {
  const { org } = orgScopeOf(c);
  const { storageVolumes, storageTargets, apps, users } = c.var.services;
  const hostId = c.req.query("host") || undefined;
  const after = c.req.query("after") || undefined;
  const [{ items, next_after }, targetList] = await Promise.all([
    storageVolumes.list(org.id, { host_id: hostId, after, limit: PAGE }),
    storageTargets.list(org.id),
  ]);
  const targets = new Map(targetList.map((t) => [t.id, t]));
  // The apps and their owners of this page's volumes only (a page holds at most PAGE).
  const appIds = [...new Set(items.flatMap((v) => v.app_id ? [v.app_id] : []))];
  const appList =
    (await Promise.all(appIds.map((id) => apps.store.get(org.id, id).catch(() => undefined))))
      .filter((a) => a !== undefined);
  const appNames = new Map(appList.map((a) => [a.id, a.name]));
  const names = new Map<string, string>();
  for (const id of new Set(appList.flatMap((a) => a.created_by ? [a.created_by] : []))) {
    const u = await users.byId(id);
    names.set(id, u ? u.name || u.email : "a former user");
  }
  const ownerOf = new Map(
    appList.map((a) => [a.id, a.created_by ? names.get(a.created_by)! : "unknown"]),
  );
  const totals = storageTotals(items);
  const owners = byOwner(items, ownerOf);
  const self = `${orgBase(c)}/storage`;
  return render(
    c,
    <>
      <PageHeader
        title="Storage"
        sub="Every volume of your hosts, how much it holds, and how fresh its last snapshot is."
      />
      <StorageTabs c={c} current="volumes" />
      <StorageFlash c={c} />
      {targetList.length === 0 && (
        <Alert kind="warn">
          No storage target yet: snapshots need one.{" "}
          <a href={targetsHref(c)}>Add a storage target</a>.
        </Alert>
      )}
      <div class="stats">
        <StatCard label={after ? "volumes on this page" : "volumes"} value={totals.volumes} />
        <StatCard label="with a snapshot" value={totals.protected} />
        <StatCard label="in volumes" value={bytes(totals.bytes)} />
        <StatCard label="failed" value={totals.failed} />
      </div>
      {items.length
        ? <VolumesTable c={c} volumes={items} targets={targets} appNames={appNames} />
        : (
          <EmptyState title="No volumes">
            <p>
              Named volumes of your hosts show here, with their apps and snapshots. Create one on
              the <a href={`${orgBase(c)}/volumes`}>Volumes</a> page or give an app a volume.
            </p>
          </EmptyState>
        )}
      {next_after && (
        <p>
          <a
            class="btn"
            href={`${self}?${new URLSearchParams({
              ...(hostId ? { host: hostId } : {}),
              after: next_after,
            })}`}
          >
            Next {PAGE} volumes
          </a>
        </p>
      )}
      {owners.length > 1 && (
        <section class="card" aria-labelledby="by-owner">
          <h2 id="by-owner">By owner</h2>
          <table class="table-compact">
            <thead>
              <tr>
                <th scope="col">Owner of the apps</th>
                <th scope="col">Volumes</th>
                <th scope="col">Size</th>
              </tr>
            </thead>
            <tbody>
              {owners.map((o) => (
                <tr key={o.owner}>
                  <td>{o.owner}</td>
                  <td>{count(o.volumes, "volume")}</td>
                  <td>{bytes(o.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </>,
    { title: "Storage", active: "storage" },
  );
}

/** The storage overview: the org's volumes by host with size, app, target, last snapshot, sync. */
export function register(app: Hono<AppEnv>, _kit: PageKit): void {
  page(app, "GET", "/o/:org/storage", "org:viewer", (c) => storagePage(c));
}
