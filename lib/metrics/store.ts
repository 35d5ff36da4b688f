import type { DbHandle } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { MetricsBatch } from "../protocol/metrics.ts";

const MINUTE = 60_000;
/** Samples stamped further ahead of the hub's clock than this are refused (a broken agent clock). */
const MAX_FUTURE_MS = 5 * MINUTE;

/** One value to store: series (container '' for the host), time, value. */
interface Point {
  container: string;
  key: string;
  t: number;
  v: number;
}

function flatten(batch: MetricsBatch, now: number): Point[] {
  const points: Point[] = [];
  for (const s of batch.samples) {
    if (s.t > now + MAX_FUTURE_MS) continue;
    for (const key in s.host) points.push({ container: "", key, t: s.t, v: s.host[key] });
    if (s.containers) {
      for (const id in s.containers) {
        const values = s.containers[id];
        for (const key in values) points.push({ container: id, key, t: s.t, v: values[key] });
      }
    }
  }
  return points;
}

export interface IngestResult {
  duplicate: boolean;
  points: number;
}

/**
 * Writes metric batches. A batch is one transaction: its (host, seq) row, any new series, the raw
 * points, and the minute buckets whose rollups must be (re)computed. A seq already committed makes
 * the whole batch a no-op, so an agent's retry never duplicates a sample.
 */
export function createMetricStore(dbh: DbHandle, clock: Clock) {
  // (host, container, key) → series id; ids never change once assigned, so caching is safe.
  const ids = new Map<string, number>();
  const cacheKey = (host: string, container: string, key: string) =>
    `${host}\u0000${container}\u0000${key}`;

  let statements: ReturnType<typeof prepareSqlite> | undefined;
  function prepareSqlite() {
    const raw = dbh.sqlite!;
    return {
      addBatch: raw.prepare(
        "insert into metric_batches (host_id, seq, received_at, samples, dropped) values (?, ?, ?, ?, ?) on conflict do nothing",
      ),
      findSeries: raw.prepare(
        "select id from metric_series where host_id = ? and container_id = ? and key = ?",
      ),
      addSeries: raw.prepare(
        "insert into metric_series (host_id, container_id, key, created_at) values (?, ?, ?, ?) on conflict do nothing",
      ),
      addPoint: raw.prepare(
        "insert into metric_raw (series_id, t, v) values (?, ?, ?) on conflict do nothing",
      ),
      markDirty: raw.prepare(
        "insert into metric_dirty (tier, host_id, bucket) values ('1m', ?, ?) on conflict do nothing",
      ),
      setLatest: raw.prepare(
        "insert into metric_latest (series_id, t, v) values (?, ?, ?) on conflict (series_id) do update set t = excluded.t, v = excluded.v where excluded.t > metric_latest.t",
      ),
    };
  }

  function ingestSqlite(
    hostId: string,
    batch: MetricsBatch,
    points: Point[],
    now: number,
  ): Promise<boolean> {
    const raw = dbh.sqlite!;
    const { addBatch, findSeries, addSeries, addPoint, markDirty, setLatest } = statements ??=
      prepareSqlite();
    // The connection() callback holds Kysely's mutex, so the synchronous block below owns the connection.
    return dbh.db.connection().execute(() => {
      raw.exec("BEGIN IMMEDIATE");
      try {
        const inserted = addBatch.run(hostId, batch.seq, now, batch.samples.length, batch.dropped);
        if (inserted.changes === 0) {
          raw.exec("ROLLBACK");
          return Promise.resolve(true);
        }
        const buckets = new Set<number>();
        const latest = new Map<number, Point>();
        for (const p of points) {
          const k = cacheKey(hostId, p.container, p.key);
          let id = ids.get(k);
          if (id === undefined) {
            addSeries.run(hostId, p.container, p.key, now);
            id = Number((findSeries.get(hostId, p.container, p.key) as { id: number }).id);
            ids.set(k, id);
          }
          addPoint.run(id, p.t, p.v);
          buckets.add(p.t - (p.t % MINUTE));
          const l = latest.get(id);
          if (!l || p.t >= l.t) latest.set(id, p);
        }
        for (const b of buckets) markDirty.run(hostId, b);
        for (const [id, p] of latest) setLatest.run(id, p.t, p.v);
        raw.exec("COMMIT");
        return Promise.resolve(false);
      } catch (err) {
        raw.exec("ROLLBACK");
        // A cached id may belong to a rolled-back insert; forget what this batch added.
        ids.clear();
        throw err;
      }
    });
  }

  async function ingestPostgres(
    hostId: string,
    batch: MetricsBatch,
    points: Point[],
    now: number,
  ): Promise<boolean> {
    return await dbh.pg!.begin(async (sql) => {
      const inserted =
        await sql`insert into metric_batches (host_id, seq, received_at, samples, dropped)
        values (${hostId}, ${batch.seq}, ${now}, ${batch.samples.length}, ${batch.dropped}) on conflict do nothing`;
      if (inserted.count === 0) return true;
      const missing = [...new Set(points.map((p) => `${p.container}\u0000${p.key}`))]
        .filter((ck) => !ids.has(`${hostId}\u0000${ck}`));
      if (missing.length) {
        const containers = missing.map((m) => m.split("\u0000")[0]);
        const keys = missing.map((m) => m.split("\u0000")[1]);
        await sql`insert into metric_series (host_id, container_id, key, created_at)
          select ${hostId}, c, k, ${now} from unnest(${containers}::text[], ${keys}::text[]) as u(c, k)
          on conflict do nothing`;
        const rows = await sql<{ id: number; container_id: string; key: string }[]>`
          select s.id, s.container_id, s.key from metric_series s
          join unnest(${containers}::text[], ${keys}::text[]) as u(c, k) on s.container_id = u.c and s.key = u.k
          where s.host_id = ${hostId}`;
        for (const r of rows) ids.set(cacheKey(hostId, r.container_id, r.key), Number(r.id));
      }
      const sids = points.map((p) => ids.get(cacheKey(hostId, p.container, p.key))!);
      await sql`insert into metric_raw (series_id, t, v)
        select * from unnest(${sids}::bigint[], ${points.map((p) => p.t)}::bigint[], ${
        points.map((p) => p.v)
      }::float8[])
        on conflict do nothing`;
      const latest = new Map<number, Point>();
      points.forEach((p, i) => {
        const l = latest.get(sids[i]);
        if (!l || p.t >= l.t) latest.set(sids[i], p);
      });
      const lids = [...latest.keys()];
      await sql`insert into metric_latest (series_id, t, v)
        select * from unnest(${lids}::bigint[], ${lids.map((i) => latest.get(i)!.t)}::bigint[], ${
        lids.map((i) => latest.get(i)!.v)
      }::float8[])
        on conflict (series_id) do update set t = excluded.t, v = excluded.v where excluded.t > metric_latest.t`;
      const buckets = [...new Set(points.map((p) => p.t - (p.t % MINUTE)))];
      await sql`insert into metric_dirty (tier, host_id, bucket)
        select '1m', ${hostId}, b from unnest(${buckets}::bigint[]) as u(b) on conflict do nothing`;
      return false;
    }).catch((err) => {
      ids.clear();
      throw err;
    }) as boolean;
  }

  return {
    /** Commits one batch for a host; `duplicate` when its seq was already committed. */
    async ingest(hostId: string, batch: MetricsBatch): Promise<IngestResult> {
      const now = clock.now();
      const points = flatten(batch, now);
      const duplicate = dbh.dialect === "sqlite"
        ? await ingestSqlite(hostId, batch, points, now)
        : await ingestPostgres(hostId, batch, points, now);
      return { duplicate, points: duplicate ? 0 : points.length };
    },

    /** The highest committed seq of a host, or -1 (agents and tests use it to check for gaps). */
    async lastSeq(hostId: string): Promise<number> {
      const r = await dbh.db.selectFrom("metric_batches").select((eb) => eb.fn.max("seq").as("m"))
        .where("host_id", "=", hostId).executeTakeFirst();
      return r?.m === null || r?.m === undefined ? -1 : Number(r.m);
    },
  };
}

export type MetricStore = ReturnType<typeof createMetricStore>;
