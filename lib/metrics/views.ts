/**
 * What the fleet overview, the host page and the storage settings show, assembled from the
 * metrics reads and the hosts' container cache. Shapes here are JSON-ready: the same objects are
 * island props and API bodies.
 */
import type { Db, Dialect } from "../db/mod.ts";
import type { ChunkMigrationStatus } from "./chunk_migration.ts";
import {
  type HostStorage,
  type MetricOverview,
  ROW_BYTES,
  type RowSize,
  type Stamped,
} from "./overview.ts";

/** Host figures older than this no longer count as current (an agent reports every 10 s). */
export const STALE_MS = 120_000;
/** Points per fleet sparkline. */
export const SPARK_POINTS = 60;
/** How far back sparkline points are looked for: 60 samples at 1 s, with slack for late batches. */
const SPARK_WINDOW_MS = 3 * 60_000;
/** Container rows shown per host; the rest are counted. */
export const CONTAINER_LIMIT = 200;

/** A host's agent as the fleet page shows it. */
export type HostState = "online" | "offline" | "waiting";

/** The per-host figures fleet totals are summed from (every host of the organization). */
export interface FleetHost {
  id: string;
  status: HostState;
  running: number | null;
  containers: number | null;
  /** Time of the newest sample, ms. */
  t: number | null;
  cpu: number | null;
  mem: number | null;
  memUsed: number | null;
  memTotal: number | null;
  rx: number | null;
  tx: number | null;
}

/** One host card: name, link and its sparkline points `[t, cpu %, mem %]`, oldest first. */
export interface FleetCard {
  id: string;
  name: string;
  href: string;
  local: boolean;
  points: [number, number | null, number | null][];
}

/** The fleet page's data. */
export interface FleetData {
  hosts: FleetHost[];
  cards: FleetCard[];
}

const sumFamily = (values: Record<string, Stamped>, prefix: string) => {
  let total: number | null = null;
  for (const k in values) if (k.startsWith(prefix)) total = (total ?? 0) + values[k].v;
  return total;
};

/** Every host's current figures and the sparklines of the hosts on this page of cards. */
export async function fleetData(
  overview: MetricOverview,
  now: number,
  hosts: {
    id: string;
    name: string;
    local: boolean;
    status: HostState;
    running: number | null;
    containers: number | null;
  }[],
  page: { offset: number; limit: number; href: (id: string) => string },
): Promise<FleetData> {
  const latest = await overview.hostLatest(hosts.map((h) => h.id), now - STALE_MS, {
    keys: ["cpu.total_pct", "mem.used_pct", "mem.used_bytes", "mem.total_bytes"],
    prefixes: ["net.rx_bps{", "net.tx_bps{"],
  });
  const fleet: FleetHost[] = hosts.map((h) => {
    const l = latest.get(h.id) ?? {};
    let t: number | null = null;
    for (const k in l) t = Math.max(t ?? 0, l[k].t);
    return {
      id: h.id,
      status: h.status,
      running: h.running,
      containers: h.containers,
      t,
      cpu: l["cpu.total_pct"]?.v ?? null,
      mem: l["mem.used_pct"]?.v ?? null,
      memUsed: l["mem.used_bytes"]?.v ?? null,
      memTotal: l["mem.total_bytes"]?.v ?? null,
      rx: sumFamily(l, "net.rx_bps{"),
      tx: sumFamily(l, "net.tx_bps{"),
    };
  });
  const shown = hosts.slice(page.offset, page.offset + page.limit);
  const recent = await overview.recent(
    shown.map((h) => h.id),
    ["cpu.total_pct", "mem.used_pct"],
    now - SPARK_WINDOW_MS,
    SPARK_POINTS,
  );
  const cards = shown.map((h): FleetCard => {
    const r = recent.get(h.id) ?? {};
    // CPU and memory come from the same samples; join them by time.
    const byT = new Map<number, [number, number | null, number | null]>();
    for (const [t, v] of r["cpu.total_pct"] ?? []) byT.set(t, [t, round1(v), null]);
    for (const [t, v] of r["mem.used_pct"] ?? []) {
      const p = byT.get(t);
      if (p) p[2] = round1(v);
      else byT.set(t, [t, null, round1(v)]);
    }
    const points = [...byT.values()].sort((a, b) => a[0] - b[0]).slice(-SPARK_POINTS);
    return { id: h.id, name: h.name, href: page.href(h.id), local: h.local, points };
  });
  return { hosts: fleet, cards };
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

/** A container of a host with its newest resource figures (null when it has not reported). */
export interface ContainerUsage {
  id: string;
  name: string;
  image: string;
  state: string;
  status: string;
  t: number | null;
  cpu_pct: number | null;
  cpu_limit_pct: number | null;
  mem_used_bytes: number | null;
  mem_limit_bytes: number | null;
  mem_pct: number | null;
  net_rx_bps: number | null;
  net_tx_bps: number | null;
}

/**
 * A host's containers from the hub's cache (running first, then by name) joined with their newest
 * `ctr.*` values; `total` counts every cached container, `items` at most CONTAINER_LIMIT.
 */
export async function containerUsage(
  db: Db,
  overview: MetricOverview,
  orgId: string,
  hostId: string,
  now: number,
): Promise<{ items: ContainerUsage[]; total: number }> {
  const rows = await db.selectFrom("containers").select(["id", "name", "image", "state", "status"])
    .where("org_id", "=", orgId).where("host_id", "=", hostId).orderBy("name").limit(5000)
    .execute();
  rows.sort((a, b) => Number(b.state === "running") - Number(a.state === "running"));
  const shown = rows.slice(0, CONTAINER_LIMIT);
  // Container series arrive every 10 s by default; a minute without one means no current figure.
  const latest = await overview.containerLatest(hostId, now - 60_000);
  const items = shown.map((c): ContainerUsage => {
    const l = latest.get(c.id) ?? {};
    const v = (k: string) => l[k]?.v ?? null;
    let t: number | null = null;
    for (const k in l) t = Math.max(t ?? 0, l[k].t);
    return {
      ...c,
      t,
      cpu_pct: v("ctr.cpu_pct"),
      cpu_limit_pct: v("ctr.cpu_limit_pct"),
      mem_used_bytes: v("ctr.mem_used_bytes"),
      mem_limit_bytes: v("ctr.mem_limit_bytes"),
      mem_pct: v("ctr.mem_pct"),
      net_rx_bps: v("ctr.net_rx_bps"),
      net_tx_bps: v("ctr.net_tx_bps"),
    };
  });
  return { items, total: rows.length };
}

/** Stored metric rows of one host, named, and whether the host was removed with its history kept. */
export interface HostStorageRow extends HostStorage {
  name: string;
  removed: boolean;
}

/** An organization's metric storage: per host (live and removed ones whose history was kept). */
export interface StorageReport {
  dialect: Dialect;
  row_bytes: RowSize;
  /** How far the conversion of raw rows stored before chunks is (null: nothing to convert). */
  conversion?: ChunkMigrationStatus | null;
  hosts: HostStorageRow[];
  total: Omit<HostStorage, "host_id">;
}

/** Row counts per tier and estimated bytes for every host of an organization, largest first. */
export async function storageReport(
  db: Db,
  dialect: Dialect,
  overview: MetricOverview,
  orgId: string,
): Promise<StorageReport> {
  const hosts = await db.selectFrom("hosts").select(["id", "name", "removed_at"])
    .where("org_id", "=", orgId).orderBy("name").limit(10_000).execute();
  const counts = new Map(
    (await overview.storage(hosts.map((h) => h.id))).map((s) => [s.host_id, s]),
  );
  const rows = hosts.map((h): HostStorageRow => ({
    ...counts.get(h.id)!,
    name: h.name,
    removed: h.removed_at !== null,
  })).filter((r) => !r.removed || r.series > 0)
    .sort((a, b) => b.estimated_bytes - a.estimated_bytes || a.name.localeCompare(b.name));
  const total = { series: 0, raw_rows: 0, minute_rows: 0, hour_rows: 0, estimated_bytes: 0 };
  for (const r of rows) {
    total.series += r.series;
    total.raw_rows += r.raw_rows;
    total.minute_rows += r.minute_rows;
    total.hour_rows += r.hour_rows;
    total.estimated_bytes += r.estimated_bytes;
  }
  return { dialect, row_bytes: ROW_BYTES[dialect], hosts: rows, total };
}
