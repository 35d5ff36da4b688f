/**
 * `rules_ingest_overhead_pct`: how much 100 alert rules add to metrics ingest. The same batches
 * (10 one-second samples × 10 series per host, the report shape of the agent; 200 hosts, i.e.
 * 20,000 samples per second of data) are ingested through `metrics.ingest` into two fresh SQLite
 * databases in the same run, one organization without rules and one with 100, in alternating
 * rounds; the figure is the median of the rounds' overheads. The rule side includes persisting
 * every alert the rules raise and resolve (the data has a two-minute incident on one host in
 * twenty).
 */
import { join } from "node:path";
import { openDatabase } from "../lib/db/mod.ts";
import { migrateToLatest } from "../lib/db/migrate.ts";
import { createServices, type Services } from "../services.ts";
import { loadConfig } from "../lib/config.ts";
import { createMemoryBus } from "../lib/realtime/bus.ts";
import { silentLogger } from "../lib/log.ts";
import type { MetricsBatch } from "../lib/protocol/metrics.ts";
import type { Host } from "../lib/hosts/service.ts";
import { KEYS } from "./metrics_bench.ts";

const SYS = { actor: { type: "system" as const, name: "bench" } };

/** Options; the defaults are the benchmark's (100 rules, 100,000 samples per round). */
export interface RulesBenchOptions {
  rules?: number;
  hosts?: number;
  batchesPerRound?: number;
  rounds?: number;
}

/**
 * Builds `perHost` consecutive batches per host on one timeline. Each series sits at its own level
 * with a little noise and a slow swing, as host metrics do (some swing across the lower triggers);
 * one host in twenty runs hot for two minutes in the middle, so rules fire and resolve as in an
 * incident.
 */
function makeBatches(hosts: number, perHost: number, start: number): MetricsBatch[][] {
  let seed = 42;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const level = Array.from({ length: hosts }, () => KEYS.map(() => 10 + rnd() * 50));
  const hotFrom = (perHost * 10_000) / 2;
  const out: MetricsBatch[][] = Array.from({ length: hosts }, () => []);
  for (let b = 0; b < perHost; b++) {
    for (let h = 0; h < hosts; h++) {
      const samples = [];
      for (let i = 0; i < 10; i++) {
        const t = (b * 10 + i) * 1000;
        const hot = h % 20 === 0 && t >= hotFrom && t < hotFrom + 120_000;
        const values: Record<string, number> = {};
        KEYS.forEach((k, j) => {
          const swing = 8 * Math.sin(t / 300_000 + h + j);
          const v = hot ? 96 : level[h][j] + swing + (rnd() - 0.5) * 2;
          values[k] = Math.round(Math.min(100, Math.max(0, v)) * 100) / 100;
        });
        samples.push({ t: start + t, host: values });
      }
      out[h].push({ seq: b, dropped: 0, samples });
    }
  }
  return out;
}

async function instance(dir: string, name: string, hosts: number, rules: number) {
  const dbh = openDatabase(`sqlite:${join(dir, `${name}.db`)}`);
  await migrateToLatest(dbh.db);
  const config = loadConfig({
    CAPSTAN_DATA_DIR: dir,
    CAPSTAN_LOCAL_AGENT: "0",
    CAPSTAN_SECRET_KEY: "A".repeat(43),
  });
  const s = createServices({ config, dbh, bus: createMemoryBus(), log: silentLogger });
  const org = await s.orgs.create(SYS, { slug: name, name });
  for (const r of await s.alerts.rules.list(org.id)) await s.alerts.rules.remove(SYS, org.id, r.id);
  for (let i = 0; i < rules; i++) {
    const trigger = 60 + (i % 5) * 8;
    await s.alerts.rules.create(SYS, org.id, {
      name: `rule ${i}`,
      kind: "metric",
      // Half the rules name the exact series, half the family (every label value).
      metric: i % 2 ? KEYS[i % KEYS.length] : KEYS[i % KEYS.length].replace(/\{.*$/, ""),
      trigger,
      clear: trigger - 5,
      hold_s: [0, 30, 300][i % 3],
      mode: i % 4 === 0 ? "avg" : "instant",
      window_s: 60,
      channels: [],
    });
  }
  const hostRows: Host[] = [];
  for (let i = 0; i < hosts; i++) {
    const { host } = await s.hosts.create(SYS, org.id, { name: `h${i}` });
    hostRows.push(host);
  }
  return { s, dbh, hosts: hostRows };
}

/** Ingests batches [from, to) of every host, in time order; returns the time taken, ms. */
async function ingestRange(
  inst: { s: Services; hosts: Host[] },
  batches: MetricsBatch[][],
  from: number,
  to: number,
): Promise<number> {
  const t0 = performance.now();
  for (let b = from; b < to; b++) {
    for (let h = 0; h < inst.hosts.length; h++) {
      await inst.s.metrics.ingest(inst.hosts[h], batches[h][b]);
    }
  }
  await inst.s.alerts.idle();
  return performance.now() - t0;
}

/** Runs the comparison; returns the overhead in percent and the figures behind it. */
export async function benchRulesOverhead(o: RulesBenchOptions = {}) {
  const rules = o.rules ?? 100;
  const hosts = o.hosts ?? 200;
  const perRound = o.batchesPerRound ?? 2000;
  const rounds = o.rounds ?? 12;
  const perHost = Math.ceil(perRound / hosts);
  const dir = await Deno.makeTempDir({ prefix: "capstan-rules-bench-" });
  // Data of the last hours, so nothing is refused as being in the future.
  const start = Date.now() - (rounds + 1) * perHost * 10_000 - 3600_000;
  const batches = makeBatches(hosts, (rounds + 1) * perHost, start);
  const base = await instance(dir, "norules", hosts, 0);
  const ruled = await instance(dir, "rules", hosts, rules);
  try {
    // A warm-up round each (JIT, series ids, plans), then rounds alternating between the two.
    await ingestRange(base, batches, 0, perHost);
    await ingestRange(ruled, batches, 0, perHost);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      const range = [r * perHost, (r + 1) * perHost] as const;
      // Which one goes first alternates: the second of a pair tends to run on a warmer machine.
      if (r % 2) {
        a.push(await ingestRange(base, batches, ...range));
        b.push(await ingestRange(ruled, batches, ...range));
      } else {
        b.push(await ingestRange(ruled, batches, ...range));
        a.push(await ingestRange(base, batches, ...range));
      }
    }
    const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
    // The median of the rounds' overheads: a burst of other work on the machine (a GC, another
    // process) lands in one round of one side and would skew totals, not the median.
    const overheads = a.map((t, i) => ((b[i] - t) / t) * 100).sort((x, y) => x - y);
    const mid = overheads.length >> 1;
    const median = overheads.length % 2
      ? overheads[mid]
      : (overheads[mid - 1] + overheads[mid]) / 2;
    const samples = rounds * perHost * hosts * 10 * KEYS.length;
    const alerts = await ruled.dbh.db.selectFrom("alerts").select("id").execute();
    return {
      overheadPct: median,
      totalOverheadPct: ((sum(b) - sum(a)) / sum(a)) * 100,
      withoutRulesSamplesPerS: samples / (sum(a) / 1000),
      withRulesSamplesPerS: samples / (sum(b) / 1000),
      alerts: alerts.length,
    };
  } finally {
    await base.s.alerts.close();
    await ruled.s.alerts.close();
    await base.dbh.close();
    await ruled.dbh.close();
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) console.log(await benchRulesOverhead());
