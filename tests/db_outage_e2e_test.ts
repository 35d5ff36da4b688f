/**
 * Fault injection: PostgreSQL stops for 20 s under a running hub with its embedded agent on the
 * real engine, twice. Container events that happen during the outage must be applied once the
 * database is back (retried, not dropped), and a container created afterwards must appear within
 * seconds — the per-host update queue must not hang on a query that died with its connection.
 * The server is the test's own (tests/support/private_pg.ts); the shared cluster is never stopped.
 */
import assert from "node:assert/strict";
import type { RunningHub } from "../hub.ts";
import { startTestHub } from "./support/hub.ts";
import { openDatabase } from "../lib/db/mod.ts";
import { migrateToLatest } from "../lib/db/migrate.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import {
  cleanupSuite,
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../lib/docker/testing.ts";
import { SYSTEM_CTX, testServices } from "./support/services.ts";
import { privatePgMissing, startPrivatePg } from "./support/private_pg.ts";
import { recordingLogger } from "./support/recording_log.ts";

const SUITE = "db-outage";
const OUTAGE_MS = 20_000;
/** "Within seconds": the queue's retry back-off is capped at 5 s. */
const APPEARS_WITHIN_MS = 15_000;

const pgMissing = privatePgMissing();
const IN_CI = Deno.env.get("CI") === "true";
if (pgMissing && !IN_CI) console.log(`note: ${SUITE} ignored: ${pgMissing}`);

/** Polls `fn` until it returns a truthy value; returns it with the time it took. */
async function within<T>(what: string, ms: number, fn: () => Promise<T | undefined>) {
  const start = Date.now();
  let last: unknown;
  while (Date.now() - start < ms) {
    try {
      // A query that hangs must fail the test at the deadline, not stall it.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const v = await Promise.race([
        fn(),
        new Promise<undefined>((_, reject) => {
          timer = setTimeout(() => reject(new Error("no answer")), start + ms - Date.now());
        }),
      ]).finally(() => clearTimeout(timer));
      if (v) return { value: v, ms: Date.now() - start };
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${ms} ms${last ? ` (last error: ${last})` : ""}`);
}

Deno.test({
  name:
    "[e2e] [postgres] PostgreSQL stopped for 20 s twice: events during the outage are applied and a new container appears within seconds",
  ignore: (Boolean(pgMissing) || dockerTestsIgnored(SUITE)) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const pg = await startPrivatePg();
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-db-outage-" });
    const docker = createDockerClient();
    const log = recordingLogger();
    let hub: RunningHub | undefined;
    try {
      // An organization, so the embedded agent attaches the local engine as its host.
      const seed = openDatabase(pg.url);
      try {
        await migrateToLatest(seed.db);
        const s = testServices(seed);
        const u = await s.accounts.createUser(SYSTEM_CTX, {
          email: "ops@acme.io",
          name: "ops",
          password: "password-ops-1234",
        });
        await s.accounts.ensureMembership(SYSTEM_CTX, u.id, "acme", "owner");
      } finally {
        await seed.close();
      }
      hub = await startTestHub(dataDir, { DATABASE_URL: pg.url, CAPSTAN_LOCAL_AGENT: "1" }, {
        log,
      });
      const db = hub.services.db;
      const cached = (name: string) =>
        db.selectFrom("containers").select(["name", "state"]).where("name", "=", name)
          .executeTakeFirst();
      const labels = testLabels(SUITE);
      const create = async (what: string, start: boolean) => {
        const name = testName(SUITE, what);
        const { id } = await docker.createContainer(name, {
          image: TEST_IMAGE,
          cmd: ["sleep", "600"],
          labels,
        });
        if (start) await docker.startContainer(id);
        return name;
      };

      const first = await create("before", false);
      await within("the embedded agent's first container", 60_000, () => cached(first));

      for (const round of [1, 2]) {
        await pg.stop();
        // Changes while the database is away: created and started, events queued on the hub.
        const during = await create(`during${round}`, true);
        await new Promise((r) => setTimeout(r, OUTAGE_MS));
        await pg.start();
        const after = await create(`after${round}`, false);
        const appeared = await within(
          `round ${round}: a container created after the restart`,
          APPEARS_WITHIN_MS,
          () => cached(after),
        );
        console.log(
          `round ${round}: container created after the restart listed in ${appeared.ms} ms`,
        );
        await within(
          `round ${round}: the container started during the outage, running`,
          APPEARS_WITHIN_MS,
          async () => (await cached(during))?.state === "running",
        );
      }
      const retried = log.lines.filter((l) => l.msg === "agent update failed; retrying");
      assert.ok(retried.length > 0, "failures during the outage are logged");
      assert.ok(retried.every((l) => l.level === "warn"));
      assert.ok(
        log.lines.some((l) => /the database answers again; resyncing/.test(l.msg)),
        "the host is resynced after the database returns",
      );
    } catch (err) {
      console.error(log.text());
      throw err;
    } finally {
      await cleanupSuite(docker, SUITE).catch((e) => console.error(e));
      docker.close();
      await hub?.stop();
      await pg.remove();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
