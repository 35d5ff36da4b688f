/**
 * The ingest figures alone (`deno run -A bench/ingest_main.ts [--postgres]`): the metrics part of
 * `deno task bench` against a fresh hub, merged into bench/results.json. With `--postgres` the hub
 * runs on the scratch database CAPSTAN_BENCH_POSTGRES_URL names (it is migrated and written to;
 * default CAPSTAN_TEST_POSTGRES_URL's) and the figures get a `_postgres` suffix, so they stand
 * beside SQLite's.
 */
import { loadConfig } from "../lib/config.ts";
import { startHub } from "../hub.ts";
import { createLogger } from "../lib/log.ts";
import { metricsBench } from "./metrics_bench.ts";
import { recordAlone } from "./results.ts";

const pg = Deno.args.includes("--postgres");
const dataDir = await Deno.makeTempDir({ prefix: "capstan-ingest-bench-" });
const env: Record<string, string> = {
  CAPSTAN_PORT: "0",
  CAPSTAN_DATA_DIR: dataDir,
  CAPSTAN_LOCAL_AGENT: "0",
};
if (pg) {
  const url = Deno.env.get("CAPSTAN_BENCH_POSTGRES_URL") ??
    Deno.env.get("CAPSTAN_TEST_POSTGRES_URL");
  if (!url) throw new Error("--postgres needs CAPSTAN_BENCH_POSTGRES_URL");
  env.DATABASE_URL = url;
}
const hub = await startHub(loadConfig(env), { log: createLogger("error"), jobs: false });
const sys = { actor: { type: "system" as const, name: "bench" } };
const services = hub.services;
const user = await services.users.byEmail("bench@x.io") ??
  await services.accounts.createUser(sys, {
    email: "bench@x.io",
    name: "bench",
    password: "bench-password-1",
  });
await services.accounts.ensureMembership(sys, user.id, "bench", "owner");
const org = (await services.orgs.bySlug("bench"))!;
const only = new Set(["ingest_samples_per_s", "ingest_ack_p99_ms_saturated", "ingest_ack_p99_ms"]);
await recordAlone(async (record) => {
  await metricsBench(
    { hubUrl: hub.url, services, orgId: org.id, dataDir },
    (name, value) => {
      // The SQLite ceiling figures belong to the full run; on PostgreSQL only ingest's own.
      if (pg && !only.has(name)) return;
      record(pg ? `${name}_postgres` : name, value);
    },
  );
});
await hub.stop();
await Deno.remove(dataDir, { recursive: true });
