/**
 * What an operator sees when the hub cannot start: `deno task start` (main.ts as a subprocess)
 * must end with one line naming the problem — the database it cannot reach, the address it cannot
 * listen on, the data directory it cannot create or write, a key that cannot open the secrets the
 * database holds — not an uncaught stack trace, and never a password from DATABASE_URL or a key.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../lib/config.ts";
import { openDatabase } from "../lib/db/mod.ts";
import { migrateToLatest } from "../lib/db/migrate.ts";
import { createServices } from "../services.ts";
import { createMemoryBus } from "../lib/realtime/bus.ts";
import { generateSecretKey, SECRET_KEY_FILE } from "../lib/secret_key.ts";
import { createSecretBox } from "../lib/crypto/secrets.ts";
import { insertOrg } from "./support/org_row.ts";
import { SYSTEM_CTX } from "./support/services.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Runs the hub as `deno task start` does until it exits (at most 60 s). */
async function runHub(env: Record<string, string>) {
  const dataDir = env.CAPSTAN_DATA_DIR ?? await Deno.makeTempDir({ prefix: "capstan-start-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    cwd: ROOT,
    env: {
      CAPSTAN_HOST: "127.0.0.1",
      CAPSTAN_PORT: "0",
      CAPSTAN_LOCAL_AGENT: "0",
      NO_COLOR: "1",
      ...env,
      CAPSTAN_DATA_DIR: dataDir,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    const lines = stderr.trim().split("\n");
    return { code: out.code, stderr, last: lines.at(-1) ?? "" };
  } finally {
    clearTimeout(timer);
    if (!env.CAPSTAN_DATA_DIR) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

/** The failure is one line, no stack trace. */
function assertOneLine(r: { code: number; stderr: string; last: string }, pattern: RegExp) {
  assert.notEqual(r.code, 0, "the hub exits with an error status");
  assert.doesNotMatch(r.stderr, /^\s+at /m, `no stack trace, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /Uncaught|error: /, `no uncaught error, got:\n${r.stderr}`);
  assert.match(r.last, pattern, `the last line names the problem, got:\n${r.stderr}`);
}

function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("[e2e] start: a PostgreSQL that cannot be reached ends with one line naming it, password hidden", async () => {
  const port = closedPort();
  const r = await runHub({
    DATABASE_URL: `postgres://capstan:s3cret-pw@127.0.0.1:${port}/capstan`,
  });
  assertOneLine(
    r,
    new RegExp(
      `^database: cannot connect to postgres://capstan@127\\.0\\.0\\.1:${port}/capstan: connection refused$`,
    ),
  );
  assert.doesNotMatch(r.stderr, /s3cret-pw/);
});

Deno.test("[e2e] start: a port in use ends with one line naming the address", async () => {
  const held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (held.addr as Deno.NetAddr).port;
  try {
    const r = await runHub({ CAPSTAN_PORT: String(port) });
    assertOneLine(
      r,
      new RegExp(`^listen: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use$`),
    );
  } finally {
    held.close();
  }
});

Deno.test("[e2e] start: a data directory that cannot be created ends with one line naming it", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "capstan-start-" });
  try {
    // Its parent is a file, so it can never be created (as with a missing mount point).
    await Deno.writeTextFile(join(tmp, "not-a-dir"), "");
    const dataDir = join(tmp, "not-a-dir", "data");
    const r = await runHub({ CAPSTAN_DATA_DIR: dataDir });
    assertOneLine(r, new RegExp(`^data dir: cannot create ${dataDir}: `));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/** Mounts a read-only tmpfs at `dir` (root with CAP_SYS_ADMIN); false where that is not allowed. */
async function mountReadOnly(dir: string): Promise<boolean> {
  const r = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "ro,size=1m", "capstan-test", dir],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => ({ success: false }));
  return r.success;
}

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN: CI and this machine). */
async function canMount(): Promise<boolean> {
  const dir = await Deno.makeTempDir({ prefix: "capstan-mount-probe-" });
  try {
    if (!await mountReadOnly(dir)) return false;
    await new Deno.Command("umount", { args: [dir] }).output();
    return true;
  } finally {
    await Deno.remove(dir).catch(() => {});
  }
}

const mountable = await canMount();
if (!mountable) console.log("note: read-only data dir test ignored: cannot mount a tmpfs here");

Deno.test({
  name: "[e2e] start: a read-only data directory ends with one line naming it",
  ignore: !mountable,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-start-ro-" });
    assert.ok(await mountReadOnly(dataDir));
    try {
      const r = await runHub({ CAPSTAN_DATA_DIR: dataDir });
      assertOneLine(
        r,
        new RegExp(`^data dir: cannot write to ${dataDir}: .*[Rr]ead-only file system`),
      );
      // A missing data dir on a read-only file system.
      const below = join(dataDir, "data");
      const r2 = await runHub({ CAPSTAN_DATA_DIR: below });
      assertOneLine(
        r2,
        new RegExp(`^data dir: cannot create ${below}: .*[Rr]ead-only file system`),
      );
    } finally {
      await new Deno.Command("umount", { args: [dataDir] }).output();
      await Deno.remove(dataDir);
    }
  },
});

Deno.test("[e2e] start: a heartbeat timeout not above the interval ends with one line naming both", async () => {
  const r = await runHub({
    CAPSTAN_WORKER_HEARTBEAT_INTERVAL: "60",
    CAPSTAN_WORKER_HEARTBEAT_TIMEOUT: "45",
  });
  assertOneLine(
    r,
    /config: CAPSTAN_WORKER_HEARTBEAT_TIMEOUT="45" is invalid: must be greater than CAPSTAN_WORKER_HEARTBEAT_INTERVAL \(60 s\)$/,
  );
});

Deno.test("[e2e] start: a data dir that lost its key file ends with one line naming the key id it needs, never a key", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "capstan-start-key-" });
  try {
    // A secret written under the data dir's key; then the key file is lost (a restore without it).
    const key = generateSecretKey();
    await Deno.writeTextFile(join(dataDir, SECRET_KEY_FILE), key + "\n", { mode: 0o600 });
    const config = loadConfig({ CAPSTAN_DATA_DIR: dataDir });
    const dbh = openDatabase(config.databaseUrl);
    try {
      await migrateToLatest(dbh.db);
      const s = createServices({ config, dbh, bus: createMemoryBus() });
      const orgId = await insertOrg(dbh.db, "acme");
      await s.secrets.create({ ctx: SYSTEM_CTX, orgId }, { name: "DB_PASSWORD", value: "pw-1" });
    } finally {
      await dbh.close();
    }
    await Deno.remove(join(dataDir, SECRET_KEY_FILE));

    const r = await runHub({ CAPSTAN_DATA_DIR: dataDir });
    const made = (await Deno.readTextFile(join(dataDir, SECRET_KEY_FILE))).trim();
    const [id, madeId] = [(await createSecretBox(key)).keyId, (await createSecretBox(made)).keyId];
    assertOneLine(
      r,
      new RegExp(
        `^secrets: the database holds secrets encrypted with key id ${id} \\(1 in secret_versions\\), ` +
          `which the key file ${dataDir}/secret-key does not hold \\(its key id is ${madeId}, ` +
          `a key made just now: the data dir had no key file\\); start with that key`,
      ),
    );
    assert.ok(!r.stderr.includes(key) && !r.stderr.includes(made));

    // The same line with a wrong CAPSTAN_SECRET_KEY.
    const r2 = await runHub({ CAPSTAN_DATA_DIR: dataDir, CAPSTAN_SECRET_KEY: made });
    assertOneLine(
      r2,
      new RegExp(
        `^secrets: .* key id ${id} .*which CAPSTAN_SECRET_KEY is not \\(it is key id ${madeId}\\)`,
      ),
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
