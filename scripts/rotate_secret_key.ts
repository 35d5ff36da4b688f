/**
 * `deno task admin rotate-secret-key`: re-wraps the data key of every value encrypted at rest
 * (every module's `encrypted` columns) under the current key of the hub's key ring, while hubs run.
 * See USAGE_ROTATE for the procedure. Prints counts per column; audited as `secret_key.rotate`
 * (system actor, counts only). Never prints a key.
 */
import type { Config } from "../lib/config.ts";
import type { Db } from "../lib/db/mod.ts";
import type { ActionContext, AuditLog } from "../lib/audit/service.ts";
import type { AnyEncryptedColumn } from "../lib/module.ts";
import {
  configuredKeyRing,
  generateSecretKey,
  type HubKeyRing,
  KEY_FILE_RECHECK_MS,
  parseKeyFile,
  writeKeyFile,
} from "../lib/secret_key.ts";
import {
  assertRingOpensAll,
  keyIdCounts,
  MALFORMED,
  rewrapColumn,
  type RewrapResult,
} from "../lib/encrypted_columns.ts";
import { HttpError } from "../lib/http/errors.ts";

export const USAGE_ROTATE = `  rotate-secret-key [--generate | --check | --drop-previous]
                re-wraps the data key of every encrypted value under the current key (in batches;
                safe while hubs run, resumable: run it again after an interruption)
                --generate       (key file only) writes a new key as the first line of
                                 <data dir>/secret-key, the old keys after it, then re-wraps;
                                 running hubs take the new key within seconds, no restart
                --check          only counts the values under each key id
                --drop-previous  (key file only) removes the previous keys from the key file,
                                 refused while a value is still under one of them
                With CAPSTAN_SECRET_KEY: set CAPSTAN_SECRET_KEY=<new> and
                CAPSTAN_SECRET_KEY_PREVIOUS=<old>, restart the hubs one at a time, run
                rotate-secret-key; when it reports nothing left under previous keys, unset
                CAPSTAN_SECRET_KEY_PREVIOUS and restart the hubs one at a time. With several
                replicas, first roll out the new key as CAPSTAN_SECRET_KEY_PREVIOUS (the old
                one still current), so replicas not yet restarted read what the others write.`;

/** What the command needs from the admin task. */
export interface RotateDeps {
  config: Config;
  db: Db;
  audit: Pick<AuditLog, "record">;
  ctx: ActionContext;
  columns: readonly AnyEncryptedColumn[];
  print(line: string): void;
}

type Mode = "rotate" | "generate" | "check" | "drop-previous";

/** Values under each key id, over every column. */
async function countAll(deps: RotateDeps) {
  const perColumn: { table: string; counts: Map<string, number> }[] = [];
  for (const col of deps.columns) {
    perColumn.push({ table: col.table, counts: await keyIdCounts(deps.db, col) });
  }
  return perColumn;
}

/** Values under a key other than the current one (malformed blobs are no key's). */
const leftUnder = (counts: Map<string, number>, current: string) =>
  [...counts].filter(([id]) => id !== current && id !== MALFORMED)
    .reduce((n, [, c]) => n + c, 0);

function keyFileOf(ring: HubKeyRing, what: string): string {
  if (ring.source.kind !== "file") {
    throw new HttpError(
      400,
      "validation",
      `${what} is for a key file; with CAPSTAN_SECRET_KEY set, the keys are the environment's (see --help)`,
    );
  }
  return ring.source.path;
}

/** Runs `rotate-secret-key` in one of its modes; returns the exit code. */
export async function rotateSecretKey(deps: RotateDeps, mode: Mode): Promise<number> {
  const { config, print } = deps;
  let ring: HubKeyRing;
  try {
    // Never a new key here: a task run with the wrong data dir must not invent one.
    ring = await configuredKeyRing(config, { create: false });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new HttpError(
        400,
        "validation",
        `no key file in ${config.dataDir} and CAPSTAN_SECRET_KEY is not set: run with the hub's CAPSTAN_DATA_DIR or CAPSTAN_SECRET_KEY`,
      );
    }
    throw new HttpError(400, "validation", `secret key: ${(err as Error).message}`);
  }
  const describe = (id: string) =>
    id === MALFORMED
      ? "not a readable blob"
      : id === ring.keyId
      ? `under key ${id} (current)`
      : ring.keyIds.includes(id)
      ? `under key ${id} (previous)`
      : `under key ${id} (not in the key ring)`;

  if (mode === "check") {
    print(`key ring: current ${ring.keyId}; previous ${ring.keyIds.slice(1).join(", ") || "none"}`);
    for (const { table, counts } of await countAll(deps)) {
      const parts = [...counts].map(([id, n]) => `${n} ${describe(id)}`);
      print(`${table}: ${parts.join(", ") || "none"}`);
    }
    return 0;
  }

  if (mode === "drop-previous") {
    const path = keyFileOf(ring, "--drop-previous");
    const left = (await countAll(deps)).reduce((n, c) => n + leftUnder(c.counts, ring.keyId), 0);
    if (left) {
      throw new HttpError(
        409,
        "conflict",
        `${left} encrypted values are still under other keys than ${ring.keyId}; run rotate-secret-key first`,
      );
    }
    const keys = parseKeyFile(await Deno.readTextFile(path), path);
    await writeKeyFile(path, keys.slice(0, 1));
    print(`${path}: the previous keys are removed; key ${ring.keyId} stays`);
    return 0;
  }

  // Fail closed before anything is written: values under a key the ring lacks cannot be re-wrapped.
  await assertRingOpensAll(deps.db, {
    keyId: ring.keyId,
    keyIds: ring.keyIds,
    source: ring.source,
    previousFromEnv: config.secretKeyPrevious.length > 0,
  }, deps.columns);

  const started = performance.now();
  if (mode === "generate") {
    const path = keyFileOf(ring, "--generate");
    const old = parseKeyFile(await Deno.readTextFile(path), path);
    await writeKeyFile(path, [generateSecretKey(), ...old]);
    await ring.refresh();
    const waitMs = KEY_FILE_RECHECK_MS + 1000;
    print(
      `${path}: new key ${ring.keyId} written first, the previous keys after it; ` +
        `waiting ${waitMs / 1000} s for running hubs to take it`,
    );
    // Every hub on this data dir re-reads the file within KEY_FILE_RECHECK_MS: after that, none
    // writes under the old key, so the pass below leaves nothing behind.
    await new Promise((r) => setTimeout(r, waitMs));
  }

  const results: RewrapResult[] = [];
  for (const col of deps.columns) {
    const r = await rewrapColumn(deps.db, ring, col);
    results.push(r);
    print(
      `${r.table}: ${r.rewrapped} re-wrapped, ${r.alreadyCurrent} already current` +
        (r.changed ? `, ${r.changed} written anew meanwhile (kept)` : "") +
        (r.failed.length ? `, ${r.failed.length} failed` : ""),
    );
    for (const f of r.failed) print(`  failed: ${f.row}: ${f.reason}`);
  }
  const left = (await countAll(deps)).reduce((n, c) => n + leftUnder(c.counts, ring.keyId), 0);
  const failed = results.reduce((n, r) => n + r.failed.length, 0);
  if (left === 0) {
    print(
      `every encrypted value is under key ${ring.keyId}; the previous keys may be dropped (${
        ring.source.kind === "file"
          ? "rotate-secret-key --drop-previous"
          : "unset CAPSTAN_SECRET_KEY_PREVIOUS, restart the hubs one at a time"
      })`,
    );
  } else {
    print(
      `${left} encrypted values are still under previous keys; keep them in the ring${
        failed ? "" : " and run rotate-secret-key again"
      }`,
    );
  }
  const sum = (k: "rewrapped" | "alreadyCurrent" | "changed") =>
    results.reduce((n, r) => n + r[k], 0);
  await deps.audit.record({
    ctx: deps.ctx,
    action: "secret_key.rotate",
    target: { type: "secret_key", id: ring.keyId },
    status: failed ? "error" : "ok",
    error: failed ? `${failed} values could not be re-wrapped` : null,
    durationMs: performance.now() - started,
    metadata: {
      generated: mode === "generate",
      rewrapped: sum("rewrapped"),
      already_current: sum("alreadyCurrent"),
      changed: sum("changed"),
      failed,
      left,
      tables: results.map((r) => ({
        table: r.table,
        rewrapped: r.rewrapped,
        already_current: r.alreadyCurrent,
        changed: r.changed,
        failed: r.failed.length,
      })),
    },
  });
  return failed ? 1 : 0;
}
