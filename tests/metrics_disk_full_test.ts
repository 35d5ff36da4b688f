/**
 * Fault injection: the hub's SQLite database on a small filesystem (a tmpfs this test mounts, as
 * root) that fills up while two hosts report through the real report endpoint. While it is full a
 * host's new series cannot be created: the agent is answered 503 (retryable) and the real "database
 * or disk is full" is logged. After space comes back every point must sit in a series of the host
 * that sent it — before the fix, ids of the rolled-back series stayed cached and another host's
 * new series reused them, filing one host's points under the other.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../lib/config.ts";
import { openDatabase } from "../lib/db/mod.ts";
import { migrateToLatest } from "../lib/db/migrate.ts";
import { createServices } from "../services.ts";
import { createMemoryBus } from "../lib/realtime/bus.ts";
import { createRealtimeHub } from "../lib/realtime/hub.ts";
import { topicAccess } from "../lib/realtime/access.ts";
import { createHubApp as createApp } from "../app.ts";
import { gzip } from "../agent/metrics/reporter.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { cannotMount, mountTmpfs } from "./support/process.ts";
import { keptLog } from "./support/log.ts";
import { allRawRows } from "../lib/metrics/chunks.ts";

const why = cannotMount();
if (why) console.log(`note: the full-disk ingest test is ignored: ${why}`);

/** Writes zeros into `path` until the filesystem refuses more. */
async function fill(path: string) {
  const f = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(16 * 1024);
  try {
    for (;;) await f.write(chunk);
  } catch (err) {
    if (!/No space left|os error 28/.test(String(err))) throw err;
  } finally {
    f.close();
  }
}

Deno.test({
  name:
    "[e2e] a full disk under the hub: 503 to the agent, the real error logged, and afterwards every point in its own host's series",
  ignore: why !== null,
  async fn() {
    const mnt = await Deno.makeTempDir({ prefix: "capstan-full-" });
    // Room for the migrated schema (every module's tables) and the WAL once the filler is gone;
    // the filler takes whatever is left, so the size only bounds the test's memory.
    const unmount = await mountTmpfs(mnt, "8m");
    const dbh = openDatabase(`sqlite:${join(mnt, "capstan.db")}`);
    try {
      await migrateToLatest(dbh.db);
      const { log, lines: logged } = keptLog();
      const config = loadConfig({ CAPSTAN_DATA_DIR: mnt, CAPSTAN_PUBLIC_URL: "http://hub.test" });
      const s = createServices({ config, dbh, log, bus: createMemoryBus() });
      const app = createApp(s, createRealtimeHub({ bus: s.bus, canRead: topicAccess(s.orgs) }));
      const org = await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme" });
      const agents: Record<"a" | "b", { id: string; token: string; machine: string; seq: number }> =
        {} as never;
      for (const name of ["a", "b"] as const) {
        const { host, enrollment } = await s.hosts.create(SYSTEM_CTX, org.id, { name });
        const machine = `machine-full-${name}`;
        const { token } = await s.hosts.enroll(SYSTEM_CTX, {
          token: enrollment.token,
          machineId: machine,
          hostname: name,
        });
        agents[name] = { id: host.id, token, machine, seq: 0 };
      }
      // Each host stamps its own code in every value (a = 1, b = 2) so a point's sender is known.
      const code = { a: 1, b: 2 };
      const body = (name: "a" | "b", seq: number, keys: string[]) => {
        const t0 = Date.now() - 120_000 + seq * 100;
        return {
          epoch: `epoch-${name}-0001`,
          seq,
          samples: Array.from({ length: 30 }, (_, i) => ({
            t: t0 + i * 1000,
            host: Object.fromEntries(keys.map((k) => [k, code[name]])),
          })),
        };
      };
      const send = async (name: "a" | "b", b: unknown) =>
        await app.request("http://hub.test/api/v1/agent/report", {
          method: "POST",
          headers: {
            authorization: `Bearer ${agents[name].token}`,
            "x-capstan-machine-id": agents[name].machine,
            "content-encoding": "gzip",
          },
          body: await gzip(JSON.stringify(b)),
        });
      const keysOf = (prefix: string, round: number) =>
        Array.from({ length: 14 }, (_, i) => `${prefix}.r${round}_${i}`);
      const sent: Record<"a" | "b", Set<string>> = { a: new Set(), b: new Set() };
      const ok = async (name: "a" | "b", keys: string[]) => {
        const res = await send(name, body(name, agents[name].seq++, keys));
        assert.equal(res.status, 200, await res.text());
        keys.forEach((k) => sent[name].add(k));
      };

      await ok("a", ["cpu.total_pct", ...keysOf("net", 0)]);
      await ok("b", ["cpu.total_pct"]);

      // The disk fills. Host b keeps starting new series until the hub cannot store them.
      await fill(join(mnt, "filler"));
      const refused: { seq: number; keys: string[] }[] = [];
      for (let round = 1; refused.length < 2 && round <= 200; round++) {
        const keys = keysOf("disk", round);
        const seq = agents.b.seq++;
        const res = await send("b", body("b", seq, keys));
        if (res.status === 200) {
          keys.forEach((k) => sent.b.add(k));
          continue;
        }
        assert.equal(res.status, 503, "a full disk is retryable");
        assert.equal(res.headers.get("retry-after"), "5");
        assert.match((await res.json()).error.message, /database or disk is full/);
        refused.push({ seq, keys });
      }
      assert.equal(refused.length, 2, "the full disk refused host b's batches");
      assert.ok(
        logged.some((l) =>
          /^error metrics: a batch could not be stored .*database or disk is full/.test(l)
        ),
        `the real error is logged: ${logged.join("\n")}`,
      );

      // Space comes back: host a starts series of its own, then b's refused batches arrive again.
      await Deno.remove(join(mnt, "filler"));
      for (let round = 1; round <= 3; round++) await ok("a", keysOf("mem", round));
      for (const r of refused) {
        const res = await send("b", body("b", r.seq, r.keys));
        assert.equal(res.status, 200, await res.clone().text());
        assert.equal((await res.json()).duplicate, false, "a refused batch was never committed");
        r.keys.forEach((k) => sent.b.add(k));
      }
      await ok("b", keysOf("disk", 999));

      const rows = await allRawRows(dbh.db);
      const misfiled = rows.filter((r) => r.host_id !== agents[r.v === code.a ? "a" : "b"].id);
      assert.equal(
        misfiled.length,
        0,
        `points under another host's series (or none): ${
          JSON.stringify(misfiled.slice(0, 3))
        } (${misfiled.length} of ${rows.length})`,
      );
      for (const name of ["a", "b"] as const) {
        const keys = (await dbh.db.selectFrom("metric_series").select("key")
          .where("host_id", "=", agents[name].id).execute()).map((r) => r.key);
        assert.deepEqual(new Set(keys), sent[name], `host ${name} has exactly its own series`);
      }
    } finally {
      await dbh.close();
      await unmount();
      await Deno.remove(mnt, { recursive: true });
    }
  },
});
