/**
 * The consistency modes of snapshot.create (`stop`, `dump`) and restic's presence, on the real
 * engine with the real restic.
 */
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { DockerClient } from "../../lib/docker/client.ts";
import { dockerTestsIgnored, TEST_IMAGE, testLabels, testName } from "../../lib/docker/testing.ts";
import {
  parseResticVersion,
  resticSupported,
  SnapshotCreateParams,
} from "../../lib/protocol/snapshots.ts";
import { contextTar } from "../build/context.ts";
import { dumpCommand } from "./dump.ts";
import { resticVersion } from "./restic.ts";
import { oneAtATime, targetIdentity } from "./staging.ts";
import {
  doneOf,
  drain,
  type Fixture,
  PASSWORD,
  withFixture,
} from "../../tests/support/restic_agent.ts";

const SUITE = "agent-snapshot-modes";
const ignore = dockerTestsIgnored(SUITE);
const LABELS = testLabels(SUITE);

Deno.test("parseResticVersion() reads `restic version`; resticSupported() wants ≥ 0.14", () => {
  assert.equal(
    parseResticVersion("restic 0.14.0 compiled with go1.19.8 on linux/amd64\n"),
    "0.14.0",
  );
  assert.equal(parseResticVersion("restic 0.17.3 compiled with go1.23.4 on linux/arm64"), "0.17.3");
  assert.equal(
    parseResticVersion("restic 0.9.6 (v0.9.6-0-gd1b3c5a5) compiled with go1.13"),
    "0.9.6",
  );
  assert.equal(parseResticVersion("bash: restic: command not found"), null);
  assert.equal(parseResticVersion(""), null);
  assert.equal(resticSupported("0.14.0"), true);
  assert.equal(resticSupported("0.16.4"), true);
  assert.equal(resticSupported("1.0.0"), true);
  assert.equal(resticSupported("0.13.1"), false);
  assert.equal(resticSupported("0.9.6"), false, "compared as numbers, not text");
  assert.equal(resticSupported(null), false);
  assert.equal(resticSupported("garbage"), false);
});

Deno.test("resticVersion() gives this machine's restic, null for a binary that is not there", async () => {
  assert.ok(resticSupported(await resticVersion()), "restic ≥ 0.14 is installed here");
  assert.equal(await resticVersion("/nonexistent/restic"), null);
  assert.equal(await resticVersion("false"), null, "a program that is not restic");
});

Deno.test("snapshot.create params: stop needs containers, dump needs a dump, each only in its mode", () => {
  const base = {
    snapshot_id: "snap-0001",
    volume: "data",
    target: { kind: "filesystem", path: "/srv/repo" },
    password: PASSWORD,
    host_tag: "worker-1",
  };
  assert.equal(SnapshotCreateParams.parse(base).mode, "live");
  assert.equal(SnapshotCreateParams.safeParse({ ...base, mode: "stop" }).success, false);
  assert.equal(
    SnapshotCreateParams.parse({ ...base, mode: "stop", containers: ["db"] }).stop_timeout_s,
    30,
  );
  assert.equal(SnapshotCreateParams.safeParse({ ...base, containers: ["db"] }).success, false);
  assert.equal(
    SnapshotCreateParams.safeParse({
      ...base,
      mode: "stop",
      containers: Array.from({ length: 65 }, (_, i) => `c${i}`),
    }).success,
    false,
    "at most 64 containers",
  );
  const dump = { container: "db", engine: "postgres", database: "shop" };
  assert.equal(SnapshotCreateParams.safeParse({ ...base, mode: "dump" }).success, false);
  assert.equal(SnapshotCreateParams.safeParse({ ...base, dump }).success, false);
  assert.ok(SnapshotCreateParams.safeParse({ ...base, mode: "dump", dump }).success);
  for (const database of ["-c", "a b", "x;rm", "$(id)", ""]) {
    assert.equal(
      SnapshotCreateParams.safeParse({ ...base, mode: "dump", dump: { ...dump, database } })
        .success,
      false,
      `database ${JSON.stringify(database)} is refused`,
    );
  }
});

Deno.test("dumpCommand() builds each tool's argv with one word per value; mysql's password goes by env", () => {
  assert.deepEqual(
    dumpCommand({ container: "db", engine: "postgres", database: "shop", user: "app" }),
    {
      cmd: ["pg_dump", "--no-password", "--format=plain", "--username=app", "--dbname=shop"],
      filename: "postgres-shop.sql",
      execEnv: {},
    },
  );
  assert.deepEqual(
    dumpCommand({ container: "db", engine: "postgres" }, { POSTGRES_USER: "u", POSTGRES_DB: "d" })
      .cmd,
    ["pg_dump", "--no-password", "--format=plain", "--username=u", "--dbname=d"],
  );
  const mysql = dumpCommand({ container: "db", engine: "mysql" }, { MYSQL_ROOT_PASSWORD: "pw" });
  assert.equal(mysql.filename, "mysql-all.sql");
  assert.ok(mysql.cmd.includes("--all-databases"));
  assert.ok(!mysql.cmd.join(" ").includes("pw"), "the password is not in argv");
  assert.deepEqual(mysql.execEnv, { MYSQL_PWD: "pw" });
  assert.deepEqual(
    dumpCommand({ container: "db", engine: "mongo", database: "app" }),
    { cmd: ["mongodump", "--archive", "--db=app"], filename: "mongo-app.archive", execEnv: {} },
  );
});

Deno.test("targetIdentity() names a target by where it is, never by its credentials", async () => {
  const s3 = {
    kind: "s3" as const,
    endpoint: "https://s3.example",
    region: "",
    bucket: "b1",
    prefix: "org-1",
    access_key_id: "AKID",
    secret_access_key: "secret-1",
    path_style: true,
  };
  assert.equal(
    await targetIdentity(s3),
    await targetIdentity({ ...s3, access_key_id: "AKID2", secret_access_key: "secret-2" }),
  );
  assert.notEqual(await targetIdentity(s3), await targetIdentity({ ...s3, prefix: "org-2" }));
  const fs = await targetIdentity({ kind: "filesystem", path: "/srv/a" });
  assert.match(fs, /^[0-9a-f]{32}$/);
  // The same name as before WebCrypto replaced node:crypto: existing staging folders are found.
  assert.equal(
    fs,
    createHash("sha256").update(JSON.stringify(["filesystem", "/srv/a"])).digest("hex").slice(
      0,
      32,
    ),
  );
});

Deno.test("oneAtATime() runs bodies of one key in turn, also after one failed", async () => {
  const order: string[] = [];
  const step = (name: string, ms: number, fail = false) => async () => {
    order.push(`${name}+`);
    await new Promise((r) => setTimeout(r, ms));
    order.push(`${name}-`);
    if (fail) throw new Error(name);
  };
  await Promise.allSettled([
    oneAtATime("k", step("a", 30, true)),
    oneAtATime("k", step("b", 1)),
    oneAtATime("other", step("c", 1)),
  ]);
  assert.deepEqual(order.filter((x) => !x.startsWith("c")), ["a+", "a-", "b+", "b-"]);
});

/** A running container of `image` with `volume` at /data, labelled for cleanup. */
async function runWith(
  docker: DockerClient,
  what: string,
  o: { image?: string; volume?: string; env?: Record<string, string> },
): Promise<string> {
  const { id } = await docker.createContainer(testName(SUITE, what), {
    image: o.image ?? TEST_IMAGE,
    cmd: ["sleep", "3600"],
    labels: LABELS,
    env: o.env,
    volumes: o.volume ? [{ name: o.volume, target: "/data" }] : undefined,
  });
  await docker.startContainer(id);
  return id;
}

async function state(docker: DockerClient, id: string) {
  const c = await docker.inspectContainer(id);
  return { running: c.State.Running, startedAt: c.State.StartedAt };
}

/** Runs snapshot.create into the fixture's filesystem repository to its end. */
const snapshot = (f: Fixture, extra: Record<string, unknown>) =>
  drain(f.agent.stream("snapshot.create", {
    snapshot_id: `snap-${crypto.randomUUID().slice(0, 8)}`,
    target: { kind: "filesystem", path: join(f.root, "repos", "org-1") },
    password: PASSWORD,
    tags: ["org:1"],
    host_tag: "worker-1",
    ...extra,
  }));

/** The files of a volume restored from `resticId` into a fresh volume: path → content. */
async function restoredFiles(
  f: Fixture,
  resticId: string,
  what: string,
): Promise<Record<string, string>> {
  const name = testName(SUITE, what);
  doneOf(
    await drain(f.agent.stream("snapshot.restore", {
      restic_id: resticId,
      target: { kind: "filesystem", path: join(f.root, "repos", "org-1") },
      password: PASSWORD,
      volume: name,
      labels: LABELS,
    })),
  );
  const dir = (await f.docker.inspectVolume(name)).Mountpoint;
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) out[e.name] = await Deno.readTextFile(join(dir, e.name));
  }
  return out;
}

Deno.test({
  name: "[docker] stop mode stops the containers, stages the volume, starts them, then copies it",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFixture(SUITE, async (f) => {
      const vol = await f.volume("stop-src");
      await Deno.writeTextFile(join(vol.dir, "a.txt"), "consistent\n");
      await Deno.mkdir(join(vol.dir, "sub"));
      await Deno.writeTextFile(join(vol.dir, "b.txt"), "x".repeat(100_000));
      const app = await runWith(f.docker, "stop-app", { volume: vol.name });
      const idle = await runWith(f.docker, "stop-idle", {});
      await f.docker.stopContainer(idle, { t: 0 });
      const before = await state(f.docker, app);

      const started = performance.now();
      const chunks = await snapshot(f, {
        volume: vol.name,
        tags: ["org:1", "volume:stop-src"],
        mode: "stop",
        containers: [app, idle],
        stop_timeout_s: 2,
      });
      const total = performance.now() - started;
      const done = doneOf(chunks);
      assert.match(done.restic_id, /^[0-9a-f]{64}$/);
      assert.equal(typeof done.downtime_ms, "number");
      assert.ok(
        done.downtime_ms! > 0 && done.downtime_ms! < total,
        `downtime ${done.downtime_ms} ms of ${total} ms`,
      );
      assert.ok(
        chunks.some((c) => c.kind === "progress" && c.phase === "upload"),
        "no upload progress",
      );
      assert.ok(
        chunks.every((c) => c.kind !== "progress" || c.phase !== undefined),
        "a progress chunk without its phase",
      );

      // It was stopped (a new start time) and runs again; the stopped one was left stopped.
      const after = await state(f.docker, app);
      assert.equal(after.running, true);
      assert.notEqual(after.startedAt, before.startedAt, "the container was not stopped");
      assert.equal((await state(f.docker, idle)).running, false, "a stopped container was started");

      // The target has the snapshot (the target's id, not the staging one) with the files.
      const listed = await f.agent.call<{ snapshots: { id: string }[] }>("snapshots.list", {
        target: { kind: "filesystem", path: join(f.root, "repos", "org-1") },
        password: PASSWORD,
        tags: ["volume:stop-src"],
      });
      assert.deepEqual(listed.snapshots.map((s) => s.id), [done.restic_id]);
      assert.deepEqual(await restoredFiles(f, done.restic_id, "stop-restored"), {
        "a.txt": "consistent\n",
        "b.txt": "x".repeat(100_000),
      });

      // Again: the staged parent makes the second run read no unchanged file.
      await Deno.writeTextFile(join(vol.dir, "a.txt"), "changed\n");
      const second = doneOf(
        await snapshot(f, {
          volume: vol.name,
          tags: ["org:1", "volume:stop-src"],
          mode: "stop",
          containers: [app],
          stop_timeout_s: 1,
        }),
      );
      assert.notEqual(second.restic_id, done.restic_id);
      assert.equal(second.files_unmodified, 1, JSON.stringify(second));
      assert.equal((await state(f.docker, app)).running, true);
      // The staging repository lives outside the private folders, its password file 0600.
      const staged = await Array.fromAsync(Deno.readDir(join(f.root, "staging")));
      assert.equal(staged.length, 1);
      const pw = await Deno.stat(join(f.root, "staging", staged[0].name, "password"));
      assert.equal(pw.mode! & 0o777, 0o600);
      assert.ok(!JSON.stringify(chunks).includes(PASSWORD));
    }),
});

/** A restic wrapper failing every backup into a staging repository (the local copy breaks). */
async function failingStagedBackup(recording: string): Promise<string> {
  const bin = join(recording, "..", "restic-failing-staging");
  await Deno.writeTextFile(
    bin,
    `#!/bin/sh
case "$RESTIC_REPOSITORY:$*" in
*/staging/*backup*) echo "Fatal: unable to save snapshot: disk full (test)" >&2; exit 1 ;;
esac
exec '${recording}' "$@"
`,
    { mode: 0o755 },
  );
  await Deno.chmod(bin, 0o755);
  return bin;
}

Deno.test({
  name: "[docker] stop mode starts the containers again when the snapshot fails",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFixture(SUITE, async (f) => {
      const vol = await f.volume("stop-fail");
      await Deno.writeTextFile(join(vol.dir, "a.txt"), "data\n");
      const app = await runWith(f.docker, "stop-fail-app", { volume: vol.name });
      const before = await state(f.docker, app);
      const chunks = await snapshot(f, {
        volume: vol.name,
        mode: "stop",
        containers: [app],
        stop_timeout_s: 1,
      });
      const end = chunks.at(-1);
      assert.equal(end?.kind, "failed", JSON.stringify(end));
      assert.match((end as { message: string }).message, /disk full \(test\)/);
      const after = await state(f.docker, app);
      assert.equal(after.running, true, "the container was left stopped");
      assert.notEqual(after.startedAt, before.startedAt, "the container was never stopped");
      assert.ok(!(await f.argv()).includes(" copy "), "a failed snapshot was copied");

      // A container that is not there: nothing is stopped at all.
      const other = await snapshot(f, {
        volume: vol.name,
        mode: "stop",
        containers: [app, testName(SUITE, "missing")],
      });
      assert.equal(other.at(-1)?.kind, "failed");
      assert.deepEqual(await state(f.docker, app), after, "the running container was touched");
    }, { resticBin: failingStagedBackup }),
});

/**
 * An image with a stand-in for the real `pg_dump` (no postgres image can be pulled in the
 * tests): it prints a known SQL text, its own argv and 500,000 numbered lines; with FAIL_DUMP
 * set it prints part of that, an error, and exits 1 — as pg_dump does when the server goes away.
 */
async function fakePgDumpImage(docker: DockerClient, root: string): Promise<string> {
  const dir = join(root, "fake-pg-dump");
  await Deno.mkdir(dir);
  const script = `#!/bin/sh
# Stand-in for the real pg_dump, for the tests only.
echo "-- PostgreSQL database dump (stand-in)"
echo "CREATE TABLE t (id int);"
echo "-- argv: $*"
if [ -n "$FAIL_DUMP" ]; then
  seq 1 1000
  echo "pg_dump: error: connection to server was lost" >&2
  exit 1
fi
seq 1 500000
echo "-- PostgreSQL database dump complete"
`;
  const tag = `${testName(SUITE, "fake-pg-dump")}:1`;
  await docker.buildImage(
    contextTar(dir, {
      maxBytes: 1_000_000,
      extraFiles: {
        Dockerfile:
          `FROM ${TEST_IMAGE}\nCOPY pg_dump /usr/local/bin/pg_dump\nRUN chmod 0755 /usr/local/bin/pg_dump\n`,
        pg_dump: script,
      },
    }),
    { tag, labels: LABELS, onLog: () => {} },
  );
  return tag;
}

/** What the stand-in pg_dump prints when it succeeds with `argv`. */
function expectedDump(argv: string): string {
  const rows = Array.from({ length: 500_000 }, (_, i) => `${i + 1}\n`).join("");
  return `-- PostgreSQL database dump (stand-in)\nCREATE TABLE t (id int);\n-- argv: ${argv}\n${rows}-- PostgreSQL database dump complete\n`;
}

Deno.test({
  name: "[docker] dump mode pipes a (stand-in) pg_dump into restic; a failed dump is no snapshot",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFixture(SUITE, async (f) => {
      const image = await fakePgDumpImage(f.docker, f.root);
      const db = await runWith(f.docker, "pg", { image });
      const broken = await runWith(f.docker, "pg-broken", { image, env: { FAIL_DUMP: "1" } });
      const repo = {
        target: { kind: "filesystem", path: join(f.root, "repos", "org-1") },
        password: PASSWORD,
      };

      const chunks = await snapshot(f, {
        volume: "pgdata",
        tags: ["org:1", "volume:pgdata"],
        mode: "dump",
        dump: { container: db, engine: "postgres", database: "shop", user: "app" },
      });
      const done = doneOf(chunks);
      const expected = expectedDump(
        "--no-password --format=plain --username=app --dbname=shop",
      );
      assert.equal(done.total_bytes_processed, new TextEncoder().encode(expected).length);
      const files = await restoredFiles(f, done.restic_id, "pg-restored");
      assert.deepEqual(Object.keys(files), ["postgres-shop.sql"]);
      assert.ok(files["postgres-shop.sql"] === expected, "the restored dump differs");

      const failed = await snapshot(f, {
        volume: "pgdata",
        tags: ["org:1", "volume:pgdata"],
        mode: "dump",
        dump: { container: broken, engine: "postgres", database: "shop" },
      });
      const end = failed.at(-1);
      assert.equal(end?.kind, "failed", JSON.stringify(end));
      assert.match(
        (end as { message: string }).message,
        /pg_dump exited with 1 \(pg_dump: error: connection to server was lost\)/,
      );
      assert.ok(!failed.some((c) => c.kind === "done"));
      // restic was killed before it saw the end of its input: only the good dump is there.
      const listed = await f.agent.call<{ snapshots: { id: string }[] }>("snapshots.list", repo);
      assert.deepEqual(listed.snapshots.map((s) => s.id), [done.restic_id]);

      // A dump of a container that is not running is refused before restic runs.
      await f.docker.stopContainer(broken, { t: 0 });
      const refused = await snapshot(f, {
        volume: "pgdata",
        mode: "dump",
        dump: { container: broken, engine: "postgres" },
      }).then(() => null, (e: Error & { code?: string }) => e);
      assert.equal(refused?.code, "conflict");
    }),
});

Deno.test({
  name: "[docker] snapshot.create on a host without restic fails with restic_missing",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withFixture(SUITE, async (f) => {
      const vol = await f.volume("no-restic");
      const err = await snapshot(f, { volume: vol.name }).then(
        () => null,
        (e: Error & { code?: string; status?: number }) => e,
      );
      assert.equal(err?.code, "restic_missing");
      assert.match(String(err?.message), /restic is not installed on this host/);
      // The other operations say the same.
      const listed = await f.agent.call("snapshots.list", {
        target: { kind: "filesystem", path: join(f.root, "repos", "org-1") },
        password: PASSWORD,
      }).then(() => null, (e: Error & { code?: string }) => e);
      assert.equal(listed?.code, "restic_missing");
    }, { resticBin: () => "/nonexistent/bin/restic" }),
});
