import type { StatementSync } from "node:sqlite";
import type { DbHandle } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { MAX_FUTURE_MS, type MetricsBatch, type MetricsSample } from "../protocol/metrics.ts";
import { hexOf, hourOf, type Sample } from "./chunks.ts";
import { encodeHead, headSpan } from "./head.ts";

const MINUTE = 60_000;
/** Series per `metric_latest` upsert on SQLite (3 parameters each, far below SQLite's limit). */
const LATEST_PER_STATEMENT = 200;

/** Series a host may have with samples in the raw window (CAPSTAN_METRICS_MAX_SERIES_PER_HOST). */
export const DEFAULT_MAX_SERIES_PER_HOST = 5000;
/** While batches keep bringing new series, a host's live-series count is read again after this. */
const LIVE_COUNT_FRESH_MS = 60_000;
/** Keys per host remembered as counted in `capped_series`, so a refused series is counted once. */
const CAPPED_KEYS_KEPT = 10_000;
/** Reports at most in one group commit on SQLite (see commitGroup): bounds the time the connection is held. */
const MAX_GROUP_REPORTS = 64;

/**
 * PostgreSQL advisory lock class of a host's series: ingest holds it shared for its transaction,
 * retention exclusive while it deletes series of the host (retention.ts). The second key is
 * `hostLockKey(hostId)`.
 */
export const SERIES_LOCK = 0x6d73; // "ms"

/** A host id as the int4 second key of a SERIES_LOCK (FNV-1a; a collision only serialises two hosts). */
export function hostLockKey(hostId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < hostId.length; i++) h = Math.imul(h ^ hostId.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** One value to store: series (container '' for the host), time, value. */
interface Point {
  container: string;
  key: string;
  /** seriesKey() of the point, made once (a batch looks it up several times). */
  sk: string;
  t: number;
  v: number;
}

/** Samples a batch had that were not stored: dated too far ahead, or before the retention window. */
export interface Refused {
  future: number;
  old: number;
}

/** What a batch could not store because its host had reached its series limit. */
export interface Capped {
  /** New series refused (each counted once per hub process). */
  series: number;
  /** Their samples in this batch. */
  samples: number;
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

/**
 * Series-key strings kept across batches, per container id and key: a string made once keeps its
 * hash, and a batch looks each point's key up several times (a fresh string per point was ~6 % of
 * ingest). Bounded: dropped whole past MAX_KEYED_CONTAINERS containers (churn), then rebuilt.
 */
type KeyStrings = Map<string, Map<string, string>>;
const MAX_KEYED_CONTAINERS = 20_000;

function flatten(samples: MetricsSample[], keys: KeyStrings): Point[] {
  const points: Point[] = [];
  if (keys.size > MAX_KEYED_CONTAINERS) keys.clear();
  const keyOf = (container: string, key: string) => {
    let m = keys.get(container);
    if (!m) keys.set(container, m = new Map());
    let sk = m.get(key);
    if (sk === undefined) m.set(key, sk = `${container}\u0000${key}`);
    return sk;
  };
  for (const s of samples) {
    for (const key in s.host) {
      points.push({ container: "", key, sk: keyOf("", key), t: s.t, v: s.host[key] });
    }
    if (s.containers) {
      for (const id in s.containers) {
        const values = s.containers[id];
        for (const key in values) {
          points.push({ container: id, key, sk: keyOf(id, key), t: s.t, v: values[key] });
        }
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

/** A series' key within its host: container ('' for the host) and metric key. */
const seriesKey = (p: { container: string; key: string }) => `${p.container}\u0000${p.key}`;
const splitKey = (k: string) => k.split("\u0000") as [string, string];

/** The distinct series keys of points that `known` has no id for, in batch order. */
function missingKeys(points: Point[], known: Map<string, number>): string[] {
  const out = new Set<string>();
  for (const p of points) {
    const k = p.sk;
    if (!known.has(k)) out.add(k);
  }
  return [...out];
}

/** The points of series that are not refused, and what the refused ones had. */
function withoutRefused(points: Point[], refused: Set<string>): { kept: Point[]; samples: number } {
  if (!refused.size) return { kept: points, samples: 0 };
  const kept = points.filter((p) => !refused.has(p.sk));
  return { kept, samples: points.length - kept.length };
}

/** A batch's samples without the values of refused series (what alert rules and live topics see). */
function dropSeries(samples: MetricsSample[], refused: Set<string>): MetricsSample[] {
  if (!refused.size) return samples;
  const keep = (container: string, values: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(values).filter(([k]) => !refused.has(`${container}\u0000${k}`)),
    );
  return samples.map((s) => ({
    ...s,
    host: keep("", s.host),
    ...(s.containers
      ? {
        containers: Object.fromEntries(
          Object.entries(s.containers).map(([id, values]) => [id, keep(id, values)]),
        ),
      }
      : {}),
  }));
}

/**
 * What ingest keeps in memory of one host's series, valid while the host's `series_gen` (bumped
 * by retention whenever it deletes series of the host) is `gen`.
 */
interface HostSeries {
  gen: number;
  /** seriesKey → series id, committed ones only. */
  ids: Map<string, number>;
  /** Series with a sample in the raw window, counted at `at` (plus those created since). */
  live?: { n: number; at: number };
  /** Keys already counted in `capped_series` by this process (bounded). */
  capped: Set<string>;
}

/** The hours a batch's points fall in, which compaction must look at (chunk_compaction.ts). */
const hoursOf = (points: Point[]) => [...new Set(points.map((p) => hourOf(p.t)))];

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
  /** New series not stored because the host reached its series limit. */
  capped: Capped;
  /** Agent clock minus hub clock, ms (null when the agent did not say its time). */
  skewMs: number | null;
  /** Set when this batch began a new spool epoch for its host. */
  epochChanged?: { from: string; to: string };
}

/** What a dialect's ingest tells the caller. */
interface Committed {
  duplicate: boolean;
  epochChanged?: IngestResult["epochChanged"];
  /** Points stored, and the keys of new series refused by the limit. */
  stored?: number;
  refusedKeys?: Set<string>;
  capped?: Capped;
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
  "capped_series",
  "capped_samples",
  "capped_at",
] as const;

/** The per-batch values of a host's `metric_agents` row, in AGENT_COLUMNS order. */
function agentValues(
  hostId: string,
  epoch: string,
  now: number,
  stored: number,
  refused: Refused,
  capped: Capped,
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
    capped.series,
    capped.samples,
    capped.samples > 0 ? now : null,
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
      lost = excluded.lost,
      capped_series = metric_agents.capped_series + excluded.capped_series,
      capped_samples = metric_agents.capped_samples + excluded.capped_samples,
      capped_at = coalesce(excluded.capped_at, metric_agents.capped_at)`;
}

/** The agent row's values with the host's current epoch in place of the batch's. */
const withEpoch = (values: (string | number | null)[], epoch: string | undefined) =>
  epoch === undefined ? values : values.map((v, i) => AGENT_COLUMNS[i] === "epoch" ? epoch : v);

/**
 * Writes metric batches. A batch is one transaction: its (host, epoch, seq) row, any new series,
 * the raw points (one `metric_head` row for the whole batch, head.ts), the minute buckets whose rollups must be (re)computed, and the host's agent row.
 * A seq already committed in the same epoch makes the whole batch a no-op, so an agent's retry never
 * duplicates a sample.
 *
 * A host has at most `maxSeriesPerHost` live series (with a sample in the raw window, or at all
 * when the caller gives no window): a batch that would create more stores the samples of its
 * existing series and of as many new ones as there is room for, and counts the rest.
 *
 * Series ids are cached, and retention deletes series whose data is all gone (retention.ts), so a
 * cached id may name a deleted series. `metric_head` holds series ids without a foreign key: a
 * write through a stale id would commit samples no reader ever finds (compaction drops them). Against that, each host has a generation
 * (`metric_agents.series_gen`) that retention bumps in the transaction that deletes series of the
 * host; every batch reads it first and drops the host's cached ids when it moved, then resolves
 * its keys again (an id found missing is created anew). On PostgreSQL ingest holds the host's
 * SERIES_LOCK shared for its transaction and retention takes it exclusive, so a batch never reads
 * the generation before a deletion commits and then writes after it. On SQLite transactions are
 * serial. In the same process retention also calls `forget()`, which drops the cache at once (and
 * frees the memory of hosts that never report again).
 */
export function createMetricStore(
  dbh: DbHandle,
  clock: Clock,
  opts: { maxSeriesPerHost?: number } = {},
) {
  const maxSeries = opts.maxSeriesPerHost ?? DEFAULT_MAX_SERIES_PER_HOST;
  // host → its series as committed (see HostSeries). Only committed ids enter it: an id handed out
  // inside a transaction that rolled back (a full disk) is handed out again, possibly to another host.
  const hosts = new Map<string, HostSeries>();
  // series id → its host, so forget() finds the cache an id is in.
  const hostOf = new Map<number, string>();
  // host → current spool epoch, as committed; lets most batches skip reading the agent row.
  const epochs = new Map<string, string>();
  const keyStrings: KeyStrings = new Map();

  /** Drops what is cached of a host's series. */
  const dropHost = (hostId: string) => {
    const c = hosts.get(hostId);
    if (!c) return;
    for (const id of c.ids.values()) hostOf.delete(id);
    hosts.delete(hostId);
  };

  /** The host's cache for series generation `gen`; one of another generation is dropped first. */
  const hostSeries = (hostId: string, gen: number): HostSeries => {
    const c = hosts.get(hostId);
    if (c?.gen === gen) return c;
    dropHost(hostId);
    const fresh: HostSeries = { gen, ids: new Map(), capped: c?.capped ?? new Set() };
    hosts.set(hostId, fresh);
    return fresh;
  };

  /** The host's live-series count if counted recently enough to decide on new series without reading. */
  const cachedLive = (host: HostSeries, now: number) =>
    host.live && now - host.live.at < LIVE_COUNT_FRESH_MS ? host.live : undefined;

  /** Which of a batch's new series to create: as many as the limit leaves room for, in batch order. */
  const admit = (host: HostSeries, newKeys: string[], live: number) => {
    const room = Math.max(0, maxSeries - live);
    const refused = new Set(newKeys.slice(room));
    return {
      create: newKeys.slice(0, room),
      refused,
      // Counted once per process: a refused series comes back in every batch.
      cappedSeries: [...refused].filter((k) => !host.capped.has(k)).length,
    };
  };

  /** What a batch resolved, made part of the caches once it has committed. */
  interface Resolved {
    host: HostSeries;
    fresh: Map<string, number>;
    live?: { n: number; at: number };
    refused: Set<string>;
  }
  const commitResolved = (hostId: string, r: Resolved) => {
    for (const [k, id] of r.fresh) {
      r.host.ids.set(k, id);
      hostOf.set(id, hostId);
    }
    if (r.live) r.host.live = r.live;
    if (r.host.capped.size + r.refused.size > CAPPED_KEYS_KEPT) r.host.capped.clear();
    for (const k of r.refused) r.host.capped.add(k);
  };

  /** Caches a host's committed epoch (unknown after a memory batch to a host not yet read). */
  const remember = (hostId: string, epoch: string | undefined) => {
    if (epoch !== undefined) epochs.set(hostId, epoch);
  };
  /** The spool epoch a batch speaks for; undefined for a batch built in memory. */
  const epochOf = (batch: MetricsBatch) => batch.memory ? undefined : batch.epoch ?? "";

  let statements: ReturnType<typeof prepareSqlite> | undefined;
  // The latest values of a batch in one statement per LATEST_PER_STATEMENT series (a statement
  // per series was ~130 calls per batch of a realistic host), prepared per row count.
  const latestStatements = new Map<number, StatementSync>();
  const setLatest = (rows: number) => {
    let st = latestStatements.get(rows);
    if (!st) {
      // A latest value dated in the future (a clock that was fast) gives way to any later report.
      st = dbh.sqlite!.prepare(
        `insert into metric_latest (series_id, t, v) values ${
          Array.from({ length: rows }, () => "(?, ?, ?)").join(", ")
        } on conflict (series_id) do update set t = excluded.t, v = excluded.v where excluded.t > metric_latest.t or metric_latest.t > ?`,
      );
      latestStatements.set(rows, st);
    }
    return st;
  };
  function prepareSqlite() {
    const raw = dbh.sqlite!;
    return {
      addBatch: raw.prepare(
        "insert into metric_batches (host_id, epoch, seq, received_at, samples, dropped) values (?, ?, ?, ?, ?, ?) on conflict do nothing",
      ),
      seriesGen: raw.prepare("select series_gen as g from metric_agents where host_id = ?"),
      findSeries: raw.prepare(
        "select id from metric_series where host_id = ? and container_id = ? and key = ?",
      ),
      countLive: raw.prepare(
        "select count(*) as n from metric_series s join metric_latest l on l.series_id = s.id where s.host_id = ? and l.t >= ?",
      ),
      addSeries: raw.prepare(
        "insert into metric_series (host_id, container_id, key, created_at) values (?, ?, ?, ?) on conflict do nothing",
      ),
      addHead: raw.prepare(
        "insert into metric_head (host_id, t0, t1, n, data) values (?, ?, ?, ?, ?)",
      ),
      markCompact: raw.prepare(
        "insert into metric_compact (host_id, hour) values (?, ?) on conflict do nothing",
      ),
      markDirty: raw.prepare(
        "insert into metric_dirty (tier, host_id, bucket) values ('1m', ?, ?) on conflict do nothing",
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

  /** What the dialects' ingest is given besides the batch. */
  interface Work {
    hostId: string;
    batch: MetricsBatch;
    points: Point[];
    now: number;
    /** Live series are those with a sample at or after this. */
    liveFrom: number;
    /** The host's agent row for what was stored and capped. */
    agent: (stored: number, capped: Capped) => (string | number | null)[];
  }

  // Group commit (SQLite): reports that reach ingest in the same turn of the event loop share one
  // transaction, each in a savepoint of its own. A commit writes every page it touched to the WAL,
  // and the reports of a group touch the same pages (metric_latest, metric_batches, the markers,
  // the agent rows): one commit per group instead of one per report is most of what ingest costs
  // under load. A report is acknowledged only after its group has committed.
  const waiting: { w: Work; resolve: (c: Committed) => void; reject: (e: unknown) => void }[] = [];
  let flushScheduled = false;

  function ingestSqlite(w: Work): Promise<Committed> {
    return new Promise((resolve, reject) => {
      waiting.push({ w, resolve, reject });
      scheduleFlush();
    });
  }

  function scheduleFlush() {
    if (flushScheduled || !waiting.length) return;
    flushScheduled = true;
    // A timer, not a microtask: the other requests already readable get their turn to join first.
    setTimeout(() => {
      flushScheduled = false;
      const group = waiting.splice(0, MAX_GROUP_REPORTS);
      commitGroup(group).finally(scheduleFlush);
    }, 0);
  }

  // Prepared once: exec() would parse them again for every report (a savepoint and its release).
  let txStatements: ReturnType<typeof prepareTx> | undefined;
  function prepareTx() {
    const raw = dbh.sqlite!;
    return {
      begin: raw.prepare("BEGIN IMMEDIATE"),
      savepoint: raw.prepare("SAVEPOINT report"),
      release: raw.prepare("RELEASE report"),
      rollbackTo: raw.prepare("ROLLBACK TO report"),
      commit: raw.prepare("COMMIT"),
    };
  }

  /** Writes `group` in one transaction; settles each report's promise once that is decided. */
  function commitGroup(group: typeof waiting): Promise<void> {
    const raw = dbh.sqlite!;
    // The connection() callback holds Kysely's mutex, so the synchronous block below owns the connection.
    return dbh.db.connection().execute((): Promise<void> => {
      const written: { item: (typeof waiting)[number]; r: Written }[] = [];
      try {
        const tx = txStatements ??= prepareTx();
        tx.begin.run();
        for (const item of group) {
          tx.savepoint.run();
          let r: Written;
          try {
            r = writeReport(item.w);
            tx.release.run();
          } catch (err) {
            // A report that fails alone (its savepoint still open) is refused alone; one that took
            // the transaction with it (a full disk, an I/O error) fails the group below.
            if (!raw.isTransaction) throw err;
            tx.rollbackTo.run();
            tx.release.run();
            item.reject(err);
            continue;
          }
          // Made part of the caches at once, so a later report of the same host in this group
          // sees its series and epoch; forgotten again below if the group does not commit.
          r.apply?.();
          written.push({ item, r });
        }
        tx.commit.run();
      } catch (err) {
        // SQLite rolls back by itself after some errors (a full disk, an I/O error); a ROLLBACK
        // then throws "no transaction is active" and would hide the error that matters.
        if (raw.isTransaction) {
          try {
            raw.exec("ROLLBACK");
          } catch { /* the original error is the one to report */ }
        }
        for (const { item } of written) {
          dropHost(item.w.hostId);
          epochs.delete(item.w.hostId);
        }
        // The whole group fails with its transaction (a report refused alone stays refused).
        for (const item of group) item.reject(err);
        return Promise.resolve();
      }
      for (const { item, r } of written) item.resolve(r.committed);
      return Promise.resolve();
    }).catch((err) => {
      // The connection could not be had (the database is closing): nothing was written.
      for (const item of group) item.reject(err);
    });
  }

  /** What writeReport did: its result, and the cache updates that hold once it commits. */
  interface Written {
    committed: Committed;
    apply?: () => void;
  }

  /** Writes one report inside the open transaction (see commitGroup); throws to undo it alone. */
  function writeReport(w: Work): Written {
    const { hostId, batch, now } = w;
    const st = statements ??= prepareSqlite();
    const spoolEpoch = epochOf(batch);
    const inserted = st.addBatch.run(
      hostId,
      batch.epoch ?? "",
      batch.seq,
      now,
      batch.samples.length,
      batch.dropped,
    );
    if (inserted.changes === 0) return { committed: { duplicate: true } };
    const gen = st.seriesGen.get(hostId) as { g: number } | undefined;
    const host = hostSeries(hostId, Number(gen?.g ?? 0));
    const resolved: Resolved = { host, fresh: new Map(), refused: new Set() };
    const newKeys: string[] = [];
    for (const k of missingKeys(w.points, host.ids)) {
      const row = st.findSeries.get(hostId, ...splitKey(k)) as { id: number } | undefined;
      if (row) resolved.fresh.set(k, Number(row.id));
      else newKeys.push(k);
    }
    let cappedSeries = 0;
    if (newKeys.length) {
      const live = cachedLive(host, now) ?? {
        n: Number((st.countLive.get(hostId, w.liveFrom) as { n: number }).n),
        at: now,
      };
      const a = admit(host, newKeys, live.n);
      for (const k of a.create) {
        const [container, key] = splitKey(k);
        st.addSeries.run(hostId, container, key, now);
        resolved.fresh.set(
          k,
          Number((st.findSeries.get(hostId, container, key) as { id: number }).id),
        );
      }
      resolved.live = { n: live.n + a.create.length, at: live.at };
      resolved.refused = a.refused;
      cappedSeries = a.cappedSeries;
    }
    const kept = withoutRefused(w.points, resolved.refused);
    const points = kept.kept;
    const capped = { series: cappedSeries, samples: kept.samples };
    const sids = points.map((p) => host.ids.get(p.sk) ?? resolved.fresh.get(p.sk)!);
    // The whole batch is one head row; compaction moves it into per-series chunks (head.ts).
    const groups = bySeries(points, sids);
    if (groups.size) {
      const span = headSpan(groups);
      st.addHead.run(hostId, span.t0, span.t1, span.n, encodeHead(groups));
    }
    for (const h of hoursOf(points)) st.markCompact.run(hostId, h);
    for (const b of new Set(points.map((p) => p.t - (p.t % MINUTE)))) {
      st.markDirty.run(hostId, b);
    }
    const latest = [...latestOf(points, sids, now)];
    for (let i = 0; i < latest.length; i += LATEST_PER_STATEMENT) {
      const slice = latest.slice(i, i + LATEST_PER_STATEMENT);
      const args: (number | bigint)[] = [];
      for (const [id, p] of slice) args.push(id, p.t, p.v);
      setLatest(slice.length).run(...args, now);
    }

    let current = epochs.get(hostId);
    let epochChanged: IngestResult["epochChanged"];
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
    st.upsertAgent.run(...withEpoch(w.agent(points.length, capped), current));
    return {
      committed: {
        duplicate: false,
        epochChanged,
        stored: points.length,
        refusedKeys: resolved.refused,
        capped,
      },
      apply: () => {
        commitResolved(hostId, resolved);
        remember(hostId, current ?? spoolEpoch);
      },
    };
  }

  async function ingestPostgres(w: Work): Promise<Committed> {
    const { hostId, batch, now } = w;
    const spoolEpoch = epochOf(batch);
    let current: string | undefined;
    let epochChanged: IngestResult["epochChanged"];
    let resolved: Resolved | undefined;
    let capped: Capped = { series: 0, samples: 0 };
    let points: Point[] = [];
    const duplicate = await dbh.pg!.begin(async (sql) => {
      // Before the generation is read, in a statement of its own: the next statement's snapshot
      // then sees any deletion of this host's series committed while this one waited (see above).
      await sql`select pg_advisory_xact_lock_shared(${SERIES_LOCK}, ${hostLockKey(hostId)}::int)`;
      const inserted = await sql<
        { gen: number | null }[]
      >`insert into metric_batches (host_id, epoch, seq, received_at, samples, dropped)
        values (${hostId}, ${
        batch.epoch ?? ""
      }, ${batch.seq}, ${now}, ${batch.samples.length}, ${batch.dropped})
        on conflict do nothing
        returning (select series_gen from metric_agents where host_id = ${hostId}) as gen`;
      if (inserted.length === 0) return true;
      const host = hostSeries(hostId, Number(inserted[0].gen ?? 0));
      const r: Resolved = resolved = { host, fresh: new Map(), refused: new Set() };
      const missing = missingKeys(w.points, host.ids);
      const lookUp = async (keys: string[]) => {
        const rows = await sql<{ id: number; container_id: string; key: string }[]>`
          select s.id, s.container_id, s.key from metric_series s
          join unnest(${keys.map((k) => splitKey(k)[0])}::text[], ${
          keys.map((k) => splitKey(k)[1])
        }::text[]) as u(c, k) on s.container_id = u.c and s.key = u.k
          where s.host_id = ${hostId}`;
        for (const row of rows) {
          r.fresh.set(seriesKey({ container: row.container_id, key: row.key }), Number(row.id));
        }
      };
      if (missing.length) await lookUp(missing);
      const newKeys = missing.filter((k) => !r.fresh.has(k));
      if (newKeys.length) {
        let live = cachedLive(host, now);
        if (!live) {
          const [c] = await sql<{ n: number }[]>`select count(*)::int as n from metric_series s
            join metric_latest l on l.series_id = s.id where s.host_id = ${hostId} and l.t >= ${w.liveFrom}`;
          live = { n: Number(c.n), at: now };
        }
        const a = admit(host, newKeys, live.n);
        if (a.create.length) {
          await sql`insert into metric_series (host_id, container_id, key, created_at)
            select ${hostId}, c, k, ${now} from unnest(${
            a.create.map((k) => splitKey(k)[0])
          }::text[], ${a.create.map((k) => splitKey(k)[1])}::text[]) as u(c, k)
            on conflict do nothing`;
          await lookUp(a.create);
        }
        r.live = { n: live.n + a.create.length, at: live.at };
        r.refused = a.refused;
        capped = { series: a.cappedSeries, samples: 0 };
      }
      const kept = withoutRefused(w.points, r.refused);
      points = kept.kept;
      capped.samples = kept.samples;
      const sids = points.map((p) => host.ids.get(p.sk) ?? r.fresh.get(p.sk)!);
      // The whole batch is one head row; compaction moves it into per-series chunks (head.ts).
      const groups = bySeries(points, sids);
      if (groups.size) {
        const span = headSpan(groups);
        // Hex text decoded by the server: one parameter, whatever the driver does with bytes.
        await sql`insert into metric_head (host_id, t0, t1, n, data)
          values (${hostId}, ${span.t0}, ${span.t1}, ${span.n}, decode(${
          hexOf(encodeHead(groups))
        }, 'hex'))`;
      }
      await sql`insert into metric_compact (host_id, hour)
        select ${hostId}, b from unnest(${hoursOf(points)}::bigint[]) as u(b)
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
      await sql.unsafe(
        agentUpsert((i) => `$${i + 1}`),
        withEpoch(w.agent(points.length, capped), current),
      );
      return false;
    }) as boolean;
    // After the commit: ids and the epoch of a transaction that failed never reach the caches.
    if (duplicate) return { duplicate };
    commitResolved(hostId, resolved!);
    remember(hostId, current ?? spoolEpoch);
    return {
      duplicate,
      epochChanged,
      stored: points.length,
      refusedKeys: resolved!.refused,
      capped,
    };
  }
  return {
    /** Live series a host may have (see above). */
    maxSeriesPerHost: maxSeries,

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
      const points = flatten(samples, keyStrings);
      const skewMs = meta.agentTime === undefined ? null : Math.round(meta.agentTime - now);
      const work: Work = {
        hostId,
        batch,
        points,
        now,
        // Without a raw window every series counts as live.
        liveFrom: meta.oldestMs ?? Number.MIN_SAFE_INTEGER,
        agent: (stored, capped) =>
          agentValues(hostId, epochOf(batch) ?? "", now, stored, refused, capped, skewMs, meta),
      };
      const r = dbh.dialect === "sqlite" ? await ingestSqlite(work) : await ingestPostgres(work);
      return r.duplicate
        ? {
          duplicate: true,
          points: 0,
          samples: [],
          refused: { future: 0, old: 0 },
          capped: { series: 0, samples: 0 },
          skewMs,
        }
        : {
          duplicate: false,
          epochChanged: r.epochChanged,
          points: r.stored!,
          samples: dropSeries(samples, r.refusedKeys!),
          refused,
          capped: r.capped!,
          skewMs,
        };
    },

    /**
     * Drops cached ids and newest times of series that retention deleted (with the rest of their
     * hosts' cached ids, which the next batch of each host reads again).
     */
    forget(seriesIds: Iterable<number>): void {
      for (const id of seriesIds) {
        const hostId = hostOf.get(id);
        if (hostId !== undefined) dropHost(hostId);
      }
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
