/**
 * The raw tier as compressed chunks (design and figures: CHUNKS.md). One row of `metric_chunks`
 * holds one series' samples, encoded by chunk_codec.ts; a chunk never crosses an hour boundary, so
 * the chunks overlapping [from, to) all start in [hourOf(from), to) — a range of the primary key.
 *
 * Ingest writes each batch as one row of the head (`metric_head`, head.ts: every series of the
 * batch, cheaply encoded); compaction moves head rows into small per-series chunks and merges a
 * series' small chunks into ones of CHUNK_SAMPLES samples. Late samples merge into the chunks they
 * overlap, and a sample at a time already stored is dropped (the stored one stays), so each counts
 * once. Every reader here takes the head beside the chunks: a chunk's sample wins over a head
 * sample at the same time, and an older head row over a newer one, as compaction's merge does.
 * Readers still take rows of the old one-row-per-sample table `metric_raw` until the migration
 * (chunk_migration.ts) has converted them all.
 */
import { sql } from "kysely";
import type { Db, Dialect } from "../db/mod.ts";
import { decodeChunk, encodeChunk, type Sample } from "./chunk_codec.ts";
import { decodeHead } from "./head.ts";

export type { Sample };

export const HOUR = 3_600_000;
/**
 * Samples per compacted chunk: 5 minutes of a 1 s series, 50 of a 10 s one. A row costs ~28 bytes
 * beyond its blob on SQLite (0.09 bytes a sample at 300), and a 300-sample chunk (300–900 bytes)
 * still fits inline in a 4 KiB b-tree page, so a late sample rewrites one small row.
 */
export const CHUNK_SAMPLES = 300;
/** Series ids per IN list. */
const IDS_PER_QUERY = 500;

/** The start of the hour holding `t`: no chunk crosses it. */
export const hourOf = (t: number) => t - (t % HOUR);

/** A row of `metric_chunks` as written. */
export interface ChunkRow {
  series_id: number;
  t0: number;
  t1: number;
  n: number;
  data: Uint8Array;
}

/**
 * Sorts samples by time, keeps the first of samples at one time, and cuts them into runs that
 * stay within one hour and hold at most `max` samples.
 */
export function cutSamples(samples: readonly Sample[], max = CHUNK_SAMPLES): Sample[][] {
  let sorted = samples as Sample[];
  for (let i = 1; i < samples.length; i++) {
    if (!(samples[i].t > samples[i - 1].t)) {
      // Stable: of samples at one time the first given stays first, and is the one kept.
      sorted = [...samples].sort((a, b) => a.t - b.t);
      break;
    }
  }
  const parts: Sample[][] = [];
  let part: Sample[] = [];
  let prev = -Infinity;
  for (const s of sorted) {
    if (s.t === prev) continue;
    if (part.length && (part.length >= max || hourOf(s.t) !== hourOf(part[0].t))) {
      parts.push(part);
      part = [];
    }
    part.push(s);
    prev = s.t;
  }
  if (part.length) parts.push(part);
  return parts;
}

/** Encodes runs of one series (from cutSamples) into rows. */
export function toRows(seriesId: number, parts: Sample[][]): ChunkRow[] {
  return parts.map((p) => ({
    series_id: seriesId,
    t0: p[0].t,
    t1: p[p.length - 1].t,
    n: p.length,
    data: encodeChunk(p),
  }));
}

/**
 * Stored chunks of one series (any order) merged with incoming samples: stored samples win over
 * incoming ones at the same time; `added` counts the incoming samples that were new.
 */
export function mergeSamples(
  stored: { data: Uint8Array }[],
  incoming: readonly Sample[],
): { samples: Sample[]; added: number } {
  const byT = new Map<number, number>();
  for (const row of stored) {
    for (const s of decodeChunk(row.data)) if (!byT.has(s.t)) byT.set(s.t, s.v);
  }
  let added = 0;
  for (const s of incoming) {
    if (byT.has(s.t)) continue;
    byT.set(s.t, s.v);
    added++;
  }
  const samples = [...byT].map(([t, v]) => ({ t, v })).sort((a, b) => a.t - b.t);
  return { samples, added };
}

/**
 * What to write for samples of one series: new chunks when they start after everything stored
 * (`newest`, when the caller knows it: ingest's usual case, no read), else the samples merged with
 * the stored chunks they overlap (late or replayed samples, or rows being converted), which are
 * then replaced; nothing when every sample was stored already.
 */
export function planMerge(
  seriesId: number,
  samples: Sample[],
  newest: number | undefined,
  overlapping: () => ChunkRow[],
): { remove: number[]; put: ChunkRow[] } {
  const fresh = () => toRows(seriesId, cutSamples(samples));
  if (newest !== undefined && samples[0].t > newest) return { remove: [], put: fresh() };
  const stored = overlapping();
  if (!stored.length) return { remove: [], put: fresh() };
  const merged = mergeSamples(stored, samples);
  if (merged.added === 0) return { remove: [], put: [] };
  return { remove: stored.map((r) => r.t0), put: toRows(seriesId, cutSamples(merged.samples)) };
}

/** Chunk blobs come back as Uint8Array (node:sqlite) or Buffer (postgres.js), a Uint8Array too. */
export const chunkBytes = (data: unknown): Uint8Array =>
  data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer);

/**
 * Appends decoded samples of one series in the order read; the result is sorted and unique by
 * time (first read wins) even where chunks overlap (a late batch landing beside a stored chunk
 * before compaction merged them).
 */
function settle(samples: Sample[]): Sample[] {
  for (let i = 1; i < samples.length; i++) {
    if (!(samples[i].t > samples[i - 1].t)) {
      const seen = new Set<number>();
      return samples.filter((s) => !seen.has(s.t) && seen.add(s.t)).sort((a, b) => a.t - b.t);
    }
  }
  return samples;
}

/**
 * Where raw samples live while the migration runs: `metric_raw` rows not yet converted are read
 * beside the chunks until that table is empty. Checked once at first read, then once a minute
 * while rows are left (another replica may be the one converting them).
 */
export function createLegacyRaw(now: () => number) {
  let pending: boolean | undefined;
  let checkedAt = 0;
  return {
    /** Whether `metric_raw` may still hold rows; `db` is the caller's (maybe a transaction). */
    async pending(db: Db): Promise<boolean> {
      if (pending === false) return false;
      if (pending === undefined || now() - checkedAt > 60_000) {
        checkedAt = now();
        pending = (await db.selectFrom("metric_raw").select("series_id").limit(1).execute())
          .length > 0;
      }
      return pending;
    },
    /** The migration emptied the table: stop reading it. */
    done() {
      pending = false;
    },
  };
}
export type LegacyRaw = ReturnType<typeof createLegacyRaw>;

/**
 * Raw samples of the given series in [from, to), each series sorted by time: the chunks that
 * overlap the range, decoded and trimmed to it, plus any rows of `metric_raw` not yet converted.
 */
export async function readRaw(
  db: Db,
  legacy: LegacyRaw,
  ids: number[],
  from: number,
  to: number,
): Promise<Map<number, Sample[]>> {
  const out = new Map<number, Sample[]>();
  if (!ids.length || to <= from) return out;
  const push = (sid: number, s: Sample) => {
    let list = out.get(sid);
    if (!list) out.set(sid, list = []);
    list.push(s);
  };
  const old = await legacy.pending(db);
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const slice = ids.slice(i, i + IDS_PER_QUERY);
    // The head first: a compaction committing between the two reads moves samples from the head
    // into chunks, so they are read twice (and settled once) rather than missed.
    const head = await readHead(db, slice, from, to);
    const rows = await db.selectFrom("metric_chunks").select(["series_id", "data"])
      .where("series_id", "in", slice).where("t0", ">=", hourOf(from)).where("t0", "<", to)
      .where("t1", ">=", from).orderBy("series_id").orderBy("t0").execute();
    for (const r of rows) {
      const sid = Number(r.series_id);
      for (const s of decodeChunk(chunkBytes(r.data))) if (s.t >= from && s.t < to) push(sid, s);
    }
    if (old) {
      const legacyRows = await db.selectFrom("metric_raw").select(["series_id", "t", "v"])
        .where("series_id", "in", slice).where("t", ">=", from).where("t", "<", to)
        .orderBy("series_id").orderBy("t").execute();
      for (const r of legacyRows) push(Number(r.series_id), { t: Number(r.t), v: r.v });
    }
    for (const [sid, list] of head) for (const s of list) push(sid, s);
  }
  for (const [sid, list] of out) out.set(sid, settle(list));
  return out;
}

/**
 * Head samples of the given series in [from, to), per series in the order written (older rows
 * first; not sorted by time, not deduplicated: readRaw settles them after the chunks').
 */
async function readHead(
  db: Db,
  ids: number[],
  from: number,
  to: number,
): Promise<Map<number, Sample[]>> {
  const out = new Map<number, Sample[]>();
  const hosts = await db.selectFrom("metric_series").select("host_id").distinct()
    .where("id", "in", ids).execute();
  if (!hosts.length) return out;
  const rows = await db.selectFrom("metric_head").select("data")
    .where("host_id", "in", hosts.map((h) => h.host_id)).where("t1", ">=", from)
    .where("t0", "<", to).orderBy("id").execute();
  if (!rows.length) return out;
  const want = new Set(ids);
  for (const r of rows) {
    decodeHead(chunkBytes(r.data), (sid, samples) => {
      let list = out.get(sid);
      if (!list) out.set(sid, list = []);
      for (const s of samples) if (s.t >= from && s.t < to) list.push(s);
    }, (sid) => want.has(sid));
  }
  return out;
}

/**
 * Every head sample (of one host, or all), per series in the order written, deduplicated within
 * the head (the first written wins) but not against the chunks. For tests, tools and progress.
 */
export async function allHeadSamples(db: Db, hostId?: string): Promise<Map<number, Sample[]>> {
  let q = db.selectFrom("metric_head").select("data").orderBy("id");
  if (hostId !== undefined) q = q.where("host_id", "=", hostId);
  const out = new Map<number, Sample[]>();
  const seen = new Map<number, Set<number>>();
  for (const r of await q.execute()) {
    decodeHead(chunkBytes(r.data), (sid, samples) => {
      let list = out.get(sid);
      let ts = seen.get(sid);
      if (!list) out.set(sid, list = []);
      if (!ts) seen.set(sid, ts = new Set());
      for (const s of samples) if (!ts.has(s.t) && ts.add(s.t)) list.push(s);
    });
  }
  return out;
}

/** Samples and bytes of the raw tier per host (chunks plus unconverted `metric_raw` rows). */
export async function rawTierSize(
  db: Db,
  hostIds: string[],
): Promise<Map<string, { samples: number; chunks: number; bytes: number; legacyRows: number }>> {
  const out = new Map<
    string,
    { samples: number; chunks: number; bytes: number; legacyRows: number }
  >();
  for (const id of hostIds) out.set(id, { samples: 0, chunks: 0, bytes: 0, legacyRows: 0 });
  for (let i = 0; i < hostIds.length; i += IDS_PER_QUERY) {
    const ids = hostIds.slice(i, i + IDS_PER_QUERY);
    const chunks = await db.selectFrom("metric_series as s")
      .innerJoin("metric_chunks as c", "c.series_id", "s.id").where("s.host_id", "in", ids)
      .select((eb) => [
        "s.host_id",
        eb.fn.countAll().as("chunks"),
        sql<number | string | null>`sum(c.n)`.as("samples"),
        sql<number | string | null>`sum(length(c.data))`.as("bytes"),
      ]).groupBy("s.host_id").execute();
    for (const r of chunks) {
      const h = out.get(r.host_id)!;
      h.chunks = Number(r.chunks);
      h.samples += Number(r.samples ?? 0);
      h.bytes += Number(r.bytes ?? 0);
    }
    // Head rows are counted as they stand (a late sample the head holds twice counts twice): they
    // are the last minute or two before compaction moves them.
    const head = await db.selectFrom("metric_head").where("host_id", "in", ids)
      .select([
        "host_id",
        sql<number | string | null>`sum(n)`.as("samples"),
        sql<number | string | null>`sum(length(data))`.as("bytes"),
      ]).groupBy("host_id").execute();
    for (const r of head) {
      const h = out.get(r.host_id)!;
      h.samples += Number(r.samples ?? 0);
      h.bytes += Number(r.bytes ?? 0);
    }
    const legacy = await db.selectFrom("metric_series as s")
      .innerJoin("metric_raw as r", "r.series_id", "s.id").where("s.host_id", "in", ids)
      .select((eb) => ["s.host_id", eb.fn.countAll().as("n")]).groupBy("s.host_id").execute();
    for (const r of legacy) {
      const h = out.get(r.host_id)!;
      h.legacyRows = Number(r.n);
      h.samples += h.legacyRows;
    }
  }
  return out;
}

/**
 * Bytes a chunk row takes beyond its blob, by dialect, for the storage estimate:
 * - SQLite: the WITHOUT ROWID cell (record header, series_id, t0, t1, n, cell pointer) plus page
 *   slack, measured at ~28 bytes (CHUNKS.md).
 * - PostgreSQL: the 24-byte tuple header, line pointer, four integer columns, the varlena header,
 *   and the primary-key index entry: ~90 bytes.
 */
export const CHUNK_ROW_BYTES: Record<Dialect, number> = { sqlite: 28, postgres: 90 };

/** Raw samples stored (chunks and unconverted rows), of one host or all: for tests and progress. */
export async function countRawSamples(db: Db, hostId?: string): Promise<number> {
  let chunks = db.selectFrom("metric_chunks as c").innerJoin(
    "metric_series as s",
    "s.id",
    "c.series_id",
  )
    .select(sql<number | string | null>`sum(c.n)`.as("n"));
  let legacy = db.selectFrom("metric_raw as r").innerJoin(
    "metric_series as s",
    "s.id",
    "r.series_id",
  )
    .select((eb) => eb.fn.countAll().as("n"));
  if (hostId !== undefined) {
    chunks = chunks.where("s.host_id", "=", hostId);
    legacy = legacy.where("s.host_id", "=", hostId);
  }
  let head = 0;
  for (const list of (await headOnly(db, hostId)).values()) head += list.length;
  return Number((await chunks.executeTakeFirst())?.n ?? 0) +
    Number((await legacy.executeTakeFirst())?.n ?? 0) + head;
}

/**
 * The head samples (of one host, or all) that no chunk or `metric_raw` row holds at their time,
 * and that no older head row holds: what the head adds to the raw tier as readers see it.
 */
async function headOnly(db: Db, hostId?: string): Promise<Map<number, Sample[]>> {
  const out = new Map<number, Sample[]>();
  for (const [sid, list] of await allHeadSamples(db, hostId)) {
    if (!list.length) continue;
    let lo = Infinity, hi = -Infinity;
    for (const s of list) {
      if (s.t < lo) lo = s.t;
      if (s.t > hi) hi = s.t;
    }
    const stored = new Set<number>();
    const rows = await db.selectFrom("metric_chunks").select("data").where("series_id", "=", sid)
      .where("t0", ">=", hourOf(lo)).where("t0", "<=", hi).where("t1", ">=", lo).execute();
    for (const r of rows) for (const x of decodeChunk(chunkBytes(r.data))) stored.add(x.t);
    const legacy = await db.selectFrom("metric_raw").select("t").where("series_id", "=", sid)
      .where("t", ">=", lo).where("t", "<=", hi).execute();
    for (const r of legacy) stored.add(Number(r.t));
    out.set(sid, list.filter((s) => !stored.has(s.t)));
  }
  return out;
}

/** A raw sample with its series, as a row of the old `metric_raw` joined to `metric_series` read. */
export interface RawRow {
  series_id: number;
  /** Null for a sample whose series row is missing (which must never happen). */
  host_id: string | null;
  container_id: string | null;
  key: string | null;
  t: number;
  v: number;
}

/**
 * Every raw sample (of one host, or all — samples without a series row included), decoded,
 * ordered by series and time: what tests and tools read where they once selected from
 * `metric_raw`. Unbounded: not for request paths.
 */
export async function allRawRows(db: Db, hostId?: string): Promise<RawRow[]> {
  let chunks = db.selectFrom("metric_chunks as c").leftJoin(
    "metric_series as s",
    "s.id",
    "c.series_id",
  )
    .select(["c.series_id", "c.data", "s.host_id", "s.container_id", "s.key"]);
  let legacy = db.selectFrom("metric_raw as r").leftJoin(
    "metric_series as s",
    "s.id",
    "r.series_id",
  )
    .select(["r.series_id", "r.t", "r.v", "s.host_id", "s.container_id", "s.key"]);
  if (hostId !== undefined) {
    chunks = chunks.where("s.host_id", "=", hostId);
    legacy = legacy.where("s.host_id", "=", hostId);
  }
  const out: RawRow[] = [];
  for (const r of await chunks.execute()) {
    for (const x of decodeChunk(chunkBytes(r.data))) {
      out.push({ ...r, series_id: Number(r.series_id), data: undefined, t: x.t, v: x.v } as RawRow);
    }
  }
  for (const r of await legacy.execute()) {
    out.push({ ...r, series_id: Number(r.series_id), t: Number(r.t) });
  }
  const head = await headOnly(db, hostId);
  const ids = [...head.keys()];
  const series = new Map<number, { host_id: string; container_id: string; key: string }>();
  for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
    const rows = await db.selectFrom("metric_series").select([
      "id",
      "host_id",
      "container_id",
      "key",
    ])
      .where("id", "in", ids.slice(i, i + IDS_PER_QUERY)).execute();
    for (const r of rows) series.set(Number(r.id), r);
  }
  for (const [sid, list] of head) {
    const s = series.get(sid);
    for (const x of list) {
      out.push({
        series_id: sid,
        host_id: s?.host_id ?? null,
        container_id: s?.container_id ?? null,
        key: s?.key ?? null,
        t: x.t,
        v: x.v,
      });
    }
  }
  return out.map(({ series_id, host_id, container_id, key, t, v }) => ({
    series_id,
    host_id,
    container_id,
    key,
    t,
    v,
  })).sort((a, b) => a.series_id - b.series_id || a.t - b.t);
}

/** Writes chunk rows through Kysely (jobs; ingest has its own statements in store.ts). */
export async function insertChunkRows(db: Db, dialect: Dialect, rows: ChunkRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 100) {
    await db.insertInto("metric_chunks").values(
      rows.slice(i, i + 100).map((r) => ({
        ...r,
        // postgres.js sends a plain Uint8Array as text: decoded by the server from hex instead.
        data: dialect === "postgres" ? sql<Uint8Array>`decode(${hexOf(r.data)}, 'hex')` : r.data,
      })),
    ).execute();
  }
}

/** Lowercase hex of bytes. */
export const hexOf = (b: Uint8Array) => {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return s;
};
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** First key of the advisory locks that serialise rewrites of one series' chunks (PostgreSQL). */
export const CHUNK_LOCK = 0x6d63; // "mc"

/**
 * Takes the transaction-scoped lock on a series' chunks, so a late batch, compaction and the
 * migration never rewrite the same chunks at once (SQLite serialises writers by itself).
 */
export async function lockSeries(tx: Db, dialect: Dialect, seriesId: number): Promise<void> {
  if (dialect !== "postgres") return;
  await sql`select pg_advisory_xact_lock(${CHUNK_LOCK}, ${seriesLockKey(seriesId)}::int)`
    .execute(tx);
}

/** A series id as the int4 second key of a CHUNK_LOCK (ingest takes it through postgres.js). */
export const seriesLockKey = (seriesId: number) => seriesId % 2 ** 31;
