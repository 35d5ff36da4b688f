import type { DbHandle } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { MAX_FUTURE_MS, type MetricsBatch, type MetricsSample } from "../protocol/metrics.ts";
import {
  CHUNK_LOCK,
  type ChunkRow,
  cutSamples,
  hexOf,
  hourOf,
  mergeSamples,
  type Sample,
  toRows,
} from "./chunks.ts";

const MINUTE = 60_000;

/** One value to store: series (container '' for the host), time, value. */
interface Point {
  container: string;
  key: string;
  t: number;
  v: number;
}

/** Samples a batch had that were not stored: dated too far ahead, or before the retention window. */
export interface Refused {
  future: number;
  old: number;
}

/**
 * Splits a batch's samples into those to store and counts of those refused: more than 5 minutes
 * ahead of `now`, or (when `oldestMs` is given) before it.
 */
export function screenSamples(
  samples: MetricsSample[],
  now: number,
  oldestMs?: number,
): { samples: MetricsSample[]; refused: Refused } {
  const refused = { future: 0, old: 0 };
  const kept = samples.filter((s) => {
    if (s.t > now + MAX_FUTURE_MS) refused.future++;
    else if (oldestMs !== undefined && s.t < oldestMs) refused.old++;
    else return true;
    return false;
  });
  return { samples: kept, refused };
}

function flatten(samples: MetricsSample[]): Point[] {
  const points: Point[] = [];
  for (const s of samples) {
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

/**
 * The newest point of each series for `metric_latest`: the newest one not in the future where the
 * batch has one, so a fast agent clock does not date "latest" ahead of real time.
 */
function latestOf(points: Point[], sids: number[], now: number): Map<number, Point> {
  const latest = new Map<number, Point>();
  points.forEach((p, i) => {
    const l = latest.get(sids[i]);
    const better = !l || (p.t <= now ? l.t > now || p.t >= l.t : l.t > now && p.t >= l.t);
    if (better) latest.set(sids[i], p);
  });
  return latest;
}

/** A batch's points per series id, in batch order. */
function bySeries(points: Point[], sids: number[]): Map<number, Sample[]> {
  const out = new Map<number, Sample[]>();
  points.forEach((p, i) => {
    let list = out.get(sids[i]);
    if (!list) out.set(sids[i], list = []);
    list.push({ t: p.t, v: p.v });
  });
  return out;
}

/** The hours a batch's points fall in, which compaction must look at (chunks.ts). */
const hoursOf = (points: Point[]) => [...new Set(points.map((p) => hourOf(p.t)))];

/**
 * What to write for one series' run of a batch: a new chunk when the run starts after everything
 * stored (`newest`, known from earlier batches), else the run merged with the stored chunks it
 * overlaps (a late or replayed sample), which are then replaced.
 */
function planRun(
  sid: number,
  run: Sample[],
  newest: number | undefined,
  overlapping: () => ChunkRow[],
): { remove: number[]; put: ChunkRow[] } {
  if (newest !== undefined && run[0].t > newest) return { remove: [], put: toRows(sid, [run]) };
  const stored = overlapping();
  if (!stored.length) return { remove: [], put: toRows(sid, [run]) };
  const merged = mergeSamples(stored, run);
  if (merged.added === 0) return { remove: [], put: [] };
  return { remove: stored.map((r) => r.t0), put: toRows(sid, cutSamples(merged.samples)) };
}

/** What the agent said about itself with a batch (request headers, see REPORT_HEADERS). */
export interface IngestMeta {
  /** The agent's clock when it sent the batch, ms; the skew is measured from it. */
  agentTime?: number;
  /** Samples dated before this are refused (the raw retention window); unset keeps every past one. */
  oldestMs?: number;
  /** Samples the agent has lost since it started. */
  lost?: number;
  /** What the agent says is wrong on its side (null: nothing). */
  problem?: string | null;
}

export interface IngestResult {
  duplicate: boolean;
  points: number;
  /** The samples stored (refused ones left out): what alert rules and live topics may see. */
  samples: MetricsSample[];
  refused: Refused;
  /** Agent clock minus hub clock, ms (null when the agent did not say its time). */
  skewMs: number | null;
  /** Set when this batch began a new spool epoch for its host. */
  epochChanged?: { from: string; to: string };
}

/** What a dialect's ingest tells the caller. */
interface Committed {
  duplicate: boolean;
  epochChanged?: IngestResult["epochChanged"];
}

/** A host's row of `metric_agents` as ingest reads it. */
interface AgentRow {
  epoch: string;
}

/** The columns of a host's `metric_agents` row that each batch writes (epoch ones only when new). */
const AGENT_COLUMNS = [
  "host_id",
  "epoch",
  "epoch_since",
  "last_report_at",
  "last_stored_at",
  "skew_ms",
  "refused_future",
  "refused_old",
  "refused_at",
  "problem",
  "lost",
] as const;

/** The per-batch values of a host's `metric_agents` row, in AGENT_COLUMNS order. */
function agentValues(
  hostId: string,
  epoch: string,
  now: number,
  stored: number,
  refused: Refused,
  skewMs: number | null,
  meta: IngestMeta,
): (string | number | null)[] {
  return [
    hostId,
    epoch,
    now,
    now,
    stored > 0 ? now : null,
    skewMs,
    refused.future,
    refused.old,
    refused.future + refused.old > 0 ? now : null,
    meta.problem ?? null,
    meta.lost ?? 0,
  ];
}

/** The upsert of a host's agent row; `param(i)` is the dialect's placeholder for value i. */
function agentUpsert(param: (i: number) => string): string {
  return `insert into metric_agents (${AGENT_COLUMNS.join(", ")})
    values (${AGENT_COLUMNS.map((_, i) => param(i)).join(", ")})
    on conflict (host_id) do update set
      last_report_at = excluded.last_report_at,
      last_stored_at = coalesce(excluded.last_stored_at, metric_agents.last_stored_at),
      skew_ms = coalesce(excluded.skew_ms, metric_agents.skew_ms),
      refused_future = metric_agents.refused_future + excluded.refused_future,
      refused_old = metric_agents.refused_old + excluded.refused_old,
      refused_at = coalesce(excluded.refused_at, metric_agents.refused_at),
      problem = excluded.problem,
      lost = excluded.lost`;
}

/** The agent row's values with the host's current epoch in place of the batch's. */
const withEpoch = (values: (string | number | null)[], epoch: string | undefined) =>
  epoch === undefined ? values : values.map((v, i) => AGENT_COLUMNS[i] === "epoch" ? epoch : v);

/**
 * Writes metric batches. A batch is one transaction: its (host, epoch, seq) row, any new series,
 * the raw points, the minute buckets whose rollups must be (re)computed, and the host's agent row.
 * A seq already committed in the same epoch makes the whole batch a no-op, so an agent's retry never
 * duplicates a sample.
 */
export function createMetricStore(dbh: DbHandle, clock: Clock) {
  // (host, container, key) → series id. Only committed ids enter it: an id handed out inside a
  // transaction that rolled back (a full disk) is handed out again, possibly to another host.
  const ids = new Map<string, number>();
  // series id → time of its newest stored sample, as committed: a batch that starts after it (the
  // usual case) is written as new chunks without reading any. Only a late sample reads and merges.
  const newest = new Map<number, number>();
  // host → current spool epoch, as committed; lets most batches skip reading the agent row.
  const epochs = new Map<string, string>();
  const cacheKey = (host: string, container: string, key: string) =>
    `${host}\u0000${container}\u0000${key}`;

  /** Caches a host's committed epoch (unknown after a memory batch to a host not yet read). */
  const remember = (hostId: string, epoch: string | undefined) => {
    if (epoch !== undefined) epochs.set(hostId, epoch);
  };
  /** The spool epoch a batch speaks for; undefined for a batch built in memory. */
  const epochOf = (batch: MetricsBatch) => batch.memory ? undefined : batch.epoch ?? "";

  let statements: ReturnType<typeof prepareSqlite> | undefined;
  function prepareSqlite() {
    const raw = dbh.sqlite!;
    return {
      addBatch: raw.prepare(
        "insert into metric_batches (host_id, epoch, seq, received_at, samples, dropped) values (?, ?, ?, ?, ?, ?) on conflict do nothing",
      ),
      findSeries: raw.prepare(
        "select id from metric_series where host_id = ? and container_id = ? and key = ?",
      ),
      addSeries: raw.prepare(
        "insert into metric_series (host_id, container_id, key, created_at) values (?, ?, ?, ?) on conflict do nothing",
      ),
      addChunk: raw.prepare(
        "insert into metric_chunks (series_id, t0, t1, n, data) values (?, ?, ?, ?, ?)",
      ),
      // Chunks never cross an hour, so those overlapping [first, last] start in [hour, last].
      overlapping: raw.prepare(
        "select t0, t1, n, data from metric_chunks where series_id = ? and t0 >= ? and t0 <= ? and t1 >= ? order by t0",
      ),
      dropChunk: raw.prepare("delete from metric_chunks where series_id = ? and t0 = ?"),
      newestChunk: raw.prepare("select max(t1) as t from metric_chunks where series_id = ?"),
      markCompact: raw.prepare(
        "insert into metric_compact (host_id, hour) values (?, ?) on conflict do nothing",
      ),
      markDirty: raw.prepare(
        "insert into metric_dirty (tier, host_id, bucket) values ('1m', ?, ?) on conflict do nothing",
      ),
      // A latest value dated in the future (a clock that was fast) gives way to any later report.
      setLatest: raw.prepare(
        "insert into metric_latest (series_id, t, v) values (?, ?, ?) on conflict (series_id) do update set t = excluded.t, v = excluded.v where excluded.t > metric_latest.t or metric_latest.t > ?",
      ),
      agentRow: raw.prepare("select epoch from metric_agents where host_id = ?"),
      epochSeen: raw.prepare(
        "select 1 from metric_batches where host_id = ? and epoch = ? and seq <> ? limit 1",
      ),
      switchEpoch: raw.prepare(
        "update metric_agents set prev_epoch = epoch, epoch = ?, epoch_since = ? where host_id = ? and epoch = ?",
      ),
      upsertAgent: raw.prepare(agentUpsert(() => "?")),
    };
  }

  function ingestSqlite(
    hostId: string,
    batch: MetricsBatch,
    points: Point[],
    agent: (string | number | null)[],
    now: number,
  ): Promise<Committed> {
    const raw = dbh.sqlite!;
    const st = statements ??= prepareSqlite();
    const spoolEpoch = epochOf(batch);
    // The connection() callback holds Kysely's mutex, so the synchronous block below owns the connection.
    return dbh.db.connection().execute((): Promise<Committed> => {
      const fresh = new Map<string, number>();
      const tops = new Map<number, number>();
      let current: string | undefined;
      let epochChanged: IngestResult["epochChanged"];
      raw.exec("BEGIN IMMEDIATE");
      try {
        const inserted = st.addBatch.run(
          hostId,
          batch.epoch ?? "",
          batch.seq,
          now,
          batch.samples.length,
          batch.dropped,
        );
        if (inserted.changes === 0) {
          raw.exec("ROLLBACK");
          return Promise.resolve({ duplicate: true });
        }
        const sids = points.map((p) => {
          const k = cacheKey(hostId, p.container, p.key);
          let id = ids.get(k) ?? fresh.get(k);
          if (id === undefined) {
            st.addSeries.run(hostId, p.container, p.key, now);
            id = Number((st.findSeries.get(hostId, p.container, p.key) as { id: number }).id);
            fresh.set(k, id);
          }
          return id;
        });
        for (const [sid, samples] of bySeries(points, sids)) {
          let top = newest.get(sid);
          if (top === undefined) {
            const r = st.newestChunk.get(sid) as { t: number | null } | undefined;
            top = r?.t === null || r?.t === undefined ? -Infinity : Number(r.t);
          }
          for (const run of cutSamples(samples)) {
            const plan = planRun(
              sid,
              run,
              top,
              () =>
                (st.overlapping.all(sid, hourOf(run[0].t), run[run.length - 1].t, run[0].t) as {
                  t0: number;
                  t1: number;
                  n: number;
                  data: Uint8Array;
                }[]).map((r) => ({ ...r, series_id: sid, t0: Number(r.t0), t1: Number(r.t1) })),
            );
            for (const t0 of plan.remove) st.dropChunk.run(sid, t0);
            for (const c of plan.put) st.addChunk.run(sid, c.t0, c.t1, c.n, c.data);
            top = Math.max(top, run[run.length - 1].t);
          }
          tops.set(sid, top);
        }
        for (const h of hoursOf(points)) st.markCompact.run(hostId, h);
        for (const b of new Set(points.map((p) => p.t - (p.t % MINUTE)))) {
          st.markDirty.run(hostId, b);
        }
        for (const [id, p] of latestOf(points, sids, now)) st.setLatest.run(id, p.t, p.v, now);

        current = epochs.get(hostId);
        if (spoolEpoch !== undefined && current !== spoolEpoch) {
          const row = st.agentRow.get(hostId) as AgentRow | undefined;
          current = row?.epoch;
          if (row && row.epoch !== spoolEpoch) {
            // A batch of an epoch already seen is a straggler of an older spool, not a new one.
            const seen = st.epochSeen.get(hostId, spoolEpoch, batch.seq) !== undefined;
            if (!seen && st.switchEpoch.run(spoolEpoch, now, hostId, row.epoch).changes > 0) {
              epochChanged = { from: row.epoch, to: spoolEpoch };
              current = spoolEpoch;
            }
          }
        }
        st.upsertAgent.run(...withEpoch(agent, current));
        raw.exec("COMMIT");
      } catch (err) {
        // SQLite rolls back by itself after some errors (a full disk, an I/O error); a ROLLBACK
        // then throws "no transaction is active" and would hide the error that matters.
        if (raw.isTransaction) {
          try {
            raw.exec("ROLLBACK");
          } catch { /* the original error is the one to report */ }
        }
        throw err;
      }
      for (const [k, id] of fresh) ids.set(k, id);
      for (const [sid, t] of tops) newest.set(sid, t);
      remember(hostId, current ?? spoolEpoch);
      return Promise.resolve({ duplicate: false, epochChanged });
    });
  }

  async function ingestPostgres(
    hostId: string,
    batch: MetricsBatch,
    points: Point[],
    agent: (string | number | null)[],
    now: number,
  ): Promise<Committed> {
    const fresh = new Map<string, number>();
    const tops = new Map<number, number>();
    const spoolEpoch = epochOf(batch);
    let current: string | undefined;
    let epochChanged: IngestResult["epochChanged"];
    const duplicate = await dbh.pg!.begin(async (sql) => {
      const inserted =
        await sql`insert into metric_batches (host_id, epoch, seq, received_at, samples, dropped)
        values (${hostId}, ${
          batch.epoch ?? ""
        }, ${batch.seq}, ${now}, ${batch.samples.length}, ${batch.dropped})
        on conflict do nothing`;
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
        for (const r of rows) fresh.set(cacheKey(hostId, r.container_id, r.key), Number(r.id));
      }
      const sids = points.map((p) => {
        const k = cacheKey(hostId, p.container, p.key);
        return ids.get(k) ?? fresh.get(k)!;
      });
      const groups = bySeries(points, sids);
      const unknown = [...groups.keys()].filter((sid) => !newest.has(sid));
      if (unknown.length) {
        const rows = await sql<{ series_id: number; t: number | null }[]>`
          select u.sid as series_id, (select max(t1) from metric_chunks where series_id = u.sid) as t
          from unnest(${unknown}::bigint[]) as u(sid)`;
        for (const r of rows) tops.set(Number(r.series_id), r.t === null ? -Infinity : Number(r.t));
      }
      const put: ChunkRow[] = [];
      for (const [sid, samples] of groups) {
        let top = newest.get(sid) ?? tops.get(sid)!;
        for (const run of cutSamples(samples)) {
          let stored: ChunkRow[] = [];
          if (!(run[0].t > top)) {
            // A late run: lock the series' chunks against compaction and the migration first.
            await sql`select pg_advisory_xact_lock(${CHUNK_LOCK}, ${sid % 2 ** 31}::int)`;
            stored = (await sql<ChunkRow[]>`select series_id, t0, t1, n, data from metric_chunks
              where series_id = ${sid} and t0 >= ${hourOf(run[0].t)} and t0 <= ${
              run[run.length - 1].t
            }
              and t1 >= ${run[0].t} order by t0`).map((r) => ({
              ...r,
              t0: Number(r.t0),
            }));
          }
          const plan = planRun(sid, run, top, () => stored);
          if (plan.remove.length) {
            await sql`delete from metric_chunks where series_id = ${sid}
              and t0 in ${sql(plan.remove)}`;
          }
          put.push(...plan.put);
          top = Math.max(top, run[run.length - 1].t);
        }
        tops.set(sid, top);
      }
      for (let i = 0; i < put.length; i += 1000) {
        const slice = put.slice(i, i + 1000);
        // Hex text decoded by the server: one array parameter, whatever the driver does with bytes.
        await sql`insert into metric_chunks (series_id, t0, t1, n, data)
          select s, a, b, n, decode(h, 'hex') from unnest(${
          slice.map((c) => c.series_id)
        }::bigint[], ${slice.map((c) => c.t0)}::bigint[], ${slice.map((c) => c.t1)}::bigint[], ${
          slice.map((c) => c.n)
        }::int[], ${slice.map((c) => hexOf(c.data))}::text[]) as u(s, a, b, n, h)`;
      }
      const hours = hoursOf(points);
      await sql`insert into metric_compact (host_id, hour)
        select ${hostId}, b from unnest(${hours}::bigint[]) as u(b)
        on conflict do nothing`;
      const latest = latestOf(points, sids, now);
      const lids = [...latest.keys()];
      await sql`insert into metric_latest (series_id, t, v)
        select * from unnest(${lids}::bigint[], ${lids.map((i) => latest.get(i)!.t)}::bigint[], ${
        lids.map((i) => latest.get(i)!.v)
      }::float8[])
        on conflict (series_id) do update set t = excluded.t, v = excluded.v
        where excluded.t > metric_latest.t or metric_latest.t > ${now}`;
      const buckets = [...new Set(points.map((p) => p.t - (p.t % MINUTE)))];
      // `do update`, not `do nothing`: it locks an existing mark, so a rollup taking that mark at
      // the same moment waits for this batch and then reads its samples (or this batch marks the
      // minute again after the rollup took it); `do nothing` could leave the batch never rolled up.
      await sql`insert into metric_dirty (tier, host_id, bucket)
        select '1m', ${hostId}, b from unnest(${buckets}::bigint[]) as u(b)
        on conflict (tier, host_id, bucket) do update set bucket = excluded.bucket`;

      current = epochs.get(hostId);
      if (spoolEpoch !== undefined && current !== spoolEpoch) {
        const [row] = await sql<AgentRow[]>`select epoch from metric_agents
          where host_id = ${hostId} for update`;
        current = row?.epoch;
        if (row && row.epoch !== spoolEpoch) {
          const seen = await sql`select 1 from metric_batches
            where host_id = ${hostId} and epoch = ${spoolEpoch} and seq <> ${batch.seq} limit 1`;
          if (seen.length === 0) {
            const switched = await sql`update metric_agents
              set prev_epoch = epoch, epoch = ${spoolEpoch}, epoch_since = ${now}
              where host_id = ${hostId} and epoch = ${row.epoch}`;
            if (switched.count > 0) {
              epochChanged = { from: row.epoch, to: spoolEpoch };
              current = spoolEpoch;
            }
          }
        }
      }
      await sql.unsafe(agentUpsert((i) => `$${i + 1}`), withEpoch(agent, current));
      return false;
    }) as boolean;
    // After the commit: ids and the epoch of a transaction that failed never reach the caches.
    if (!duplicate) {
      for (const [k, id] of fresh) ids.set(k, id);
      for (const [sid, t] of tops) newest.set(sid, t);
      remember(hostId, current ?? spoolEpoch);
    }
    return { duplicate, epochChanged };
  }

  return {
    /**
     * Commits one batch for a host; `duplicate` when its (epoch, seq) was already committed.
     * Samples more than 5 minutes ahead of the hub's clock, or before `meta.oldestMs`, are refused
     * and counted; the rest are stored.
     */
    async ingest(
      hostId: string,
      batch: MetricsBatch,
      meta: IngestMeta = {},
    ): Promise<IngestResult> {
      const now = clock.now();
      const { samples, refused } = screenSamples(batch.samples, now, meta.oldestMs);
      const points = flatten(samples);
      const skewMs = meta.agentTime === undefined ? null : Math.round(meta.agentTime - now);
      const agent = agentValues(
        hostId,
        epochOf(batch) ?? "",
        now,
        points.length,
        refused,
        skewMs,
        meta,
      );
      const r = dbh.dialect === "sqlite"
        ? await ingestSqlite(hostId, batch, points, agent, now)
        : await ingestPostgres(hostId, batch, points, agent, now);
      return r.duplicate
        ? { duplicate: true, points: 0, samples: [], refused: { future: 0, old: 0 }, skewMs }
        : { ...r, points: points.length, samples, refused, skewMs };
    },

    /** The highest committed seq of a host (in one epoch, or any), or -1 (tests check for gaps). */
    async lastSeq(hostId: string, epoch?: string): Promise<number> {
      let q = dbh.db.selectFrom("metric_batches").select((eb) => eb.fn.max("seq").as("m"))
        .where("host_id", "=", hostId);
      if (epoch !== undefined) q = q.where("epoch", "=", epoch);
      const r = await q.executeTakeFirst();
      return r?.m === null || r?.m === undefined ? -1 : Number(r.m);
    },
  };
}

export type MetricStore = ReturnType<typeof createMetricStore>;
