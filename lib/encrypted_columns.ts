/**
 * What the hub knows of the columns modules keep encrypted at rest (FeatureModule.encrypted): under
 * which keys their blobs are, whether the key ring opens them all (checked before the hub serves,
 * so a wrong or missing key fails at start, not at the first deployment), and the re-wrap of every
 * blob's data key under the current key that `deno task admin rotate-secret-key` runs.
 *
 * Rows are read in key order a bounded batch at a time, and a re-wrapped blob is written only where
 * the row still holds the blob that was read (compare-and-set): a hub writing the row meanwhile
 * wins, and what it wrote is under the current key already.
 */
import { type Kysely, sql } from "kysely";
import type { Db } from "./db/mod.ts";
import type { AnyEncryptedColumn } from "./module.ts";
import { blobKeyId, type SecretBox, SecretDecryptError } from "./crypto/secrets.ts";
import { StartupError } from "./startup_error.ts";
import type { KeySource } from "./secret_key.ts";

// deno-lint-ignore no-explicit-any
type AnyDb = Kysely<any>;
type Row = Record<string, unknown>;

/** Rows read per query. */
const BATCH = 200;

/** How many rows a query reads (tests make it small). */
export interface BatchOptions {
  batch?: number;
}

/** Where blobs that are not blobs at all are counted (nothing opens them; their use fails closed). */
export const MALFORMED = "malformed";

/** A column's rows in key order, a batch at a time (only those not under `skipKeyId` when the column has a key-id column). */
async function* batches(
  db: Db,
  col: AnyEncryptedColumn,
  opts: BatchOptions & { skipKeyId?: string },
): AsyncGenerator<Row[]> {
  const { skipKeyId, batch = BATCH } = opts;
  let after: unknown[] | undefined;
  for (;;) {
    let q = (db as unknown as AnyDb).selectFrom(col.table).select([...col.key, col.blob]);
    if (skipKeyId !== undefined && col.keyId) q = q.where(col.keyId, "!=", skipKeyId);
    if (after) {
      const keys = sql.join(col.key.map((k) => sql.ref(k)));
      q = q.where(sql<boolean>`(${keys}) > (${sql.join(after)})`);
    }
    for (const k of col.key) q = q.orderBy(k);
    const rows: Row[] = await q.limit(batch).execute();
    if (rows.length) yield rows;
    if (rows.length < batch) return;
    const last = rows[rows.length - 1];
    after = col.key.map((k) => last[k]);
  }
}

/** How many blobs of a column are under each key id (MALFORMED: not a blob). */
export async function keyIdCounts(
  db: Db,
  col: AnyEncryptedColumn,
  opts: BatchOptions = {},
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (col.keyId) {
    const rows: Row[] = await (db as unknown as AnyDb).selectFrom(col.table)
      .select((eb) => [eb.ref(col.keyId!).as("key_id"), eb.fn.countAll().as("n")])
      .groupBy(col.keyId).execute();
    for (const r of rows) counts.set(String(r.key_id), Number(r.n));
    return counts;
  }
  for await (const rows of batches(db, col, opts)) {
    for (const r of rows) {
      const id = blobKeyId(String(r[col.blob])) ?? MALFORMED;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

/** What the hub's ring is, for the start-up message. */
export interface RingFacts {
  keyId: string;
  keyIds: readonly string[];
  source: KeySource;
  /** CAPSTAN_SECRET_KEY_PREVIOUS is set. */
  previousFromEnv: boolean;
}

/**
 * Fails closed, before the hub serves, when a blob of `columns` is under a key the ring does not
 * hold (a wrong CAPSTAN_SECRET_KEY, a data dir that lost its key file and made a new one): a
 * StartupError naming the key ids and where they are, never a key.
 */
export async function assertRingOpensAll(
  db: Db,
  ring: RingFacts,
  columns: readonly AnyEncryptedColumn[],
): Promise<void> {
  const missing = new Map<string, string[]>();
  for (const col of columns) {
    for (const [id, n] of await keyIdCounts(db, col)) {
      if (id === MALFORMED || ring.keyIds.includes(id)) continue;
      missing.set(id, [...(missing.get(id) ?? []), `${n} in ${col.table}`]);
    }
  }
  if (!missing.size) return;
  const ids = [...missing.keys()];
  const where = [...missing.values()].flat().join(", ");
  const which = ring.source.kind === "env"
    ? `which CAPSTAN_SECRET_KEY is not (it is key id ${ring.keyId})${
      ring.previousFromEnv ? " nor any key of CAPSTAN_SECRET_KEY_PREVIOUS" : ""
    }`
    : `which the key file ${ring.source.path} does not hold (its key id is ${ring.keyId}${
      ring.source.generated ? ", a key made just now: the data dir had no key file" : ""
    })${ring.previousFromEnv ? " nor CAPSTAN_SECRET_KEY_PREVIOUS" : ""}`;
  throw new StartupError(
    `secrets: the database holds secrets encrypted with key id ${ids.join(", ")} (${where}), ` +
      `${which}; start with that key (CAPSTAN_SECRET_KEY, or the first line of ${
        ring.source.kind === "file" ? ring.source.path : "the data dir's secret-key file"
      })`,
  );
}

/** What re-wrapping one column did. */
export interface RewrapResult {
  table: string;
  /** Blobs whose data key is now wrapped by the current key. */
  rewrapped: number;
  /** Blobs that were under the current key already. */
  alreadyCurrent: number;
  /** Rows a hub wrote anew between the read and the write (their new blob is kept). */
  changed: number;
  /** Rows that could not be re-wrapped (a key the ring lacks, a tampered blob): row and reason, never a value. */
  failed: { row: string; reason: string }[];
}

/**
 * Re-wraps the data key of every blob of `col` that is not under the ring's current key (the
 * ciphertext is untouched); each write is a compare-and-set on the blob read. Idempotent and
 * resumable: a second run finds the re-wrapped rows current.
 */
export async function rewrapColumn(
  db: Db,
  box: SecretBox,
  col: AnyEncryptedColumn,
  opts: BatchOptions = {},
): Promise<RewrapResult> {
  const target = box.keyId;
  const out: RewrapResult = {
    table: col.table,
    rewrapped: 0,
    alreadyCurrent: 0,
    changed: 0,
    failed: [],
  };
  const adb = db as unknown as AnyDb;
  if (col.keyId) {
    const r: Row | undefined = await adb.selectFrom(col.table)
      .select((eb) => eb.fn.countAll().as("n")).where(col.keyId, "=", target).executeTakeFirst();
    out.alreadyCurrent = Number(r?.n ?? 0);
  }
  for await (const rows of batches(db, col, { ...opts, skipKeyId: target })) {
    for (const row of rows) {
      const blob = String(row[col.blob]);
      if (blobKeyId(blob) === target) {
        out.alreadyCurrent++;
        continue;
      }
      const key = Object.fromEntries(col.key.map((k) => [k, row[k]]));
      let fresh: string;
      try {
        fresh = await box.rewrap(blob, col.context(key));
      } catch (err) {
        if (!(err instanceof SecretDecryptError)) throw err;
        out.failed.push({
          row: `${col.table} ${col.key.map((k) => `${k}=${row[k]}`).join(" ")}`,
          reason: err.message.replace(/^Cannot decrypt secret: /, ""),
        });
        continue;
      }
      const set: Row = { [col.blob]: fresh };
      if (col.keyId) set[col.keyId] = blobKeyId(fresh);
      let q = adb.updateTable(col.table).set(set).where(col.blob, "=", blob);
      for (const k of col.key) q = q.where(k, "=", row[k]);
      const done = await q.executeTakeFirst();
      if (Number(done.numUpdatedRows ?? 0) === 1) out.rewrapped++;
      else out.changed++;
    }
  }
  return out;
}
