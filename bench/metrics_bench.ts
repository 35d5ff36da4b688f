/**
 * Metrics figures of `deno task bench`: ingest throughput and acknowledgement latency through the
 * real HTTP endpoint (SQLite), the same rows through a bare SQLite insert loop as the ceiling, p95
 * over 7 days of 1 s samples, and the live path from a report to a WebSocket subscriber.
 *
 * A "sample" here is one value of one series at one time (what a row of metric_raw holds).
 */
import { DatabaseSync } from "node:sqlite";
import type { Services } from "../services.ts";
import { gzip } from "../agent/metrics/reporter.ts";
import { percentile } from "./stats.ts";

const SERIES_PER_HOST = 10;
const SAMPLES_PER_BATCH = 10; // one 10 s batch of 1 s samples
/** The ten series of a benchmark host, as an agent reports them (shared with alerts_bench.ts). */
export const KEYS = [
  "cpu.total_pct",
  "cpu.user_pct",
  "cpu.system_pct",
  "mem.used_pct",
  "mem.used_bytes",
  "load.1",
  "net.rx_bps{iface=eth0}",
  "net.tx_bps{iface=eth0}",
  "fs.used_pct{mount=/}",
  "disk.read_bps{dev=sda}",
];

function batchBody(seq: number, start: number): string {
  const samples = [];
  for (let i = 0; i < SAMPLES_PER_BATCH; i++) {
    const host: Record<string, number> = {};
    for (const k of KEYS) host[k] = Math.random() * 100;
    samples.push({ t: start + i * 1000, host });
  }
  return JSON.stringify({ seq, dropped: 0, samples });
}

/** What the metrics figures run against: the bench hub, its services and an organization. */
export interface BenchCtx {
  hubUrl: string;
  services: Services;
  orgId: string;
  dataDir: string;
}

/** Creates and enrolls `n` hosts in the bench organization, returning their ids and host tokens. */
export async function enrollHosts(
  ctx: BenchCtx,
  n: number,
): Promise<{ id: string; token: string; machineId: string }[]> {
  const sys = { actor: { type: "system" as const, name: "bench" } };
  const out = [];
  for (let i = 0; i < n; i++) {
    const { host, enrollment } = await ctx.services.hosts.create(sys, ctx.orgId, {
      name: `bench-${i}-${crypto.randomUUID().slice(0, 4)}`,
    });
    const { token } = await ctx.services.hosts.enroll(sys, {
      token: enrollment.token,
      machineId: `bench-machine-${i}`,
      hostname: `b${i}`,
    });
    out.push({ id: host.id, token, machineId: `bench-machine-${i}` });
  }
  return out;
}

/** Runs the metrics benchmarks, reporting through `record`. */
export async function metricsBench(
  ctx: BenchCtx,
  record: (name: string, value: number) => void,
): Promise<void> {
  const HOSTS = 2000;
  const hosts = await enrollHosts(ctx, HOSTS);
  const now = Date.now();
  // Bodies are prepared up front so the figure measures the hub, not the load generator.
  const ROUNDS = 3;
  const bodies: { token: string; machineId: string; body: Uint8Array<ArrayBuffer> }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < HOSTS; i++) {
      bodies.push({
        token: hosts[i].token,
        machineId: hosts[i].machineId,
        body: await gzip(batchBody(r, now - 3600_000 + r * 10_000)),
      });
    }
  }
  const post = async (b: { token: string; machineId: string; body: Uint8Array<ArrayBuffer> }) => {
    const res = await fetch(`${ctx.hubUrl}/api/v1/agent/report`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${b.token}`,
        "x-capstan-machine-id": b.machineId,
        "content-type": "application/json",
        "content-encoding": "gzip",
      },
      body: b.body,
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`report: ${res.status}`);
  };

  // 1. Throughput: as fast as the hub acknowledges, 8 reports in flight.
  const warm = bodies.splice(0, 200);
  for (const b of warm) await post(b);
  let next = 0;
  const latencies: number[] = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < bodies.length) {
      const b = bodies[next++];
      const t = performance.now();
      await post(b);
      latencies.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const ours = (bodies.length * SAMPLES_PER_BATCH * SERIES_PER_HOST) / seconds;
  record("ingest_samples_per_s", ours);
  record("ingest_ack_p99_ms_saturated", percentile(latencies, 99));

  // 2. Acknowledgement latency at the target load: 20,000 samples/s = 200 ten-second batches/s, open loop.
  const paced: number[] = [];
  const rate = 20_000 / (SAMPLES_PER_BATCH * SERIES_PER_HOST);
  const paceBodies: { token: string; machineId: string; body: Uint8Array<ArrayBuffer> }[] = [];
  for (let i = 0; i < rate * 10; i++) {
    paceBodies.push({
      token: hosts[i % HOSTS].token,
      machineId: hosts[i % HOSTS].machineId,
      body: await gzip(batchBody(10 + Math.floor(i / HOSTS), now - 1800_000 + i)),
    });
  }
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < paceBodies.length; i++) {
    const due = start + (i / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push((async () => {
      const t = performance.now();
      await post(paceBodies[i]);
      paced.push(performance.now() - t);
    })());
  }
  await Promise.all(inflight);
  record("ingest_ack_p99_ms", percentile(paced, 99));

  // 3. Ceiling: the same rows through a bare prepared insert loop on a fresh SQLite file (same pragmas).
  const ceilingDb = new DatabaseSync(`${ctx.dataDir}/ceiling.db`);
  ceilingDb.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  ceilingDb.exec(
    "create table raw (series_id integer not null, t integer not null, v real not null, primary key (series_id, t)) without rowid",
  );
  const insert = ceilingDb.prepare("insert into raw values (?, ?, ?)");
  const rows = 600_000;
  const tc = performance.now();
  for (let b = 0; b < rows / (SAMPLES_PER_BATCH * SERIES_PER_HOST); b++) {
    ceilingDb.exec("BEGIN IMMEDIATE");
    for (let i = 0; i < SAMPLES_PER_BATCH; i++) {
      for (let s = 0; s < SERIES_PER_HOST; s++) {
        insert.run(
          (b % HOSTS) * SERIES_PER_HOST + s,
          Math.floor(b / HOSTS) * 10_000 + i * 1000,
          Math.random(),
        );
      }
    }
    ceilingDb.exec("COMMIT");
  }
  const ceiling = rows / ((performance.now() - tc) / 1000);
  ceilingDb.close();
  record("sqlite_insert_ceiling_samples_per_s", ceiling);
  record("ingest_fraction_of_sqlite_ceiling", ours / ceiling);
}

/** p95 of one series over 7 days of 1 s samples, from rollups. Loads the week through the store. */
export async function p95QueryBench(
  ctx: BenchCtx,
  record: (name: string, value: number) => void,
): Promise<void> {
  const [host] = await enrollHosts(ctx, 1);
  const { store, rollups, query } = ctx.services.metrics;
  const end = Date.now();
  const start = end - 7 * 24 * 3600_000;
  let seq = 0;
  const t0 = performance.now();
  for (let t = start; t < end; t += 600_000) {
    const samples = [];
    for (let s = t; s < t + 600_000 && s < end; s += 1000) {
      samples.push({
        t: s,
        host: { "cpu.total_pct": 20 + 10 * Math.sin(s / 3.6e6) + Math.random() * 5 },
      });
    }
    await store.ingest(host.id, { seq: seq++, dropped: 0, samples });
  }
  const loadS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  while (
    (await rollups.run({ all: true, limit: 5000 })).minutes > 0
  ) { /* until every minute is rolled */ }
  console.log(
    `  (7 days loaded in ${loadS.toFixed(1)} s, rolled up in ${
      ((performance.now() - t1) / 1000).toFixed(1)
    } s)`,
  );
  const times: number[] = [];
  let p95 = 0;
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    const [s] = await query.stats(host.id, "", "7d", ["cpu.total_pct"]);
    times.push(performance.now() - t);
    p95 = s.p95;
  }
  if (!(p95 > 0)) throw new Error("no p95");
  record("p95_7d_query_ms", percentile(times, 50));
}

/** From a batch being sent to a WebSocket subscriber receiving its sample, with a 1 s report interval. */
export async function liveBench(
  ctx: BenchCtx,
  userToken: string,
  record: (name: string, value: number) => void,
): Promise<void> {
  const [host] = await enrollHosts(ctx, 1);
  const ws = new WebSocket(
    ctx.hubUrl.replace(/^http/, "ws") + "/api/v1/ws",
    { headers: { authorization: `Bearer ${userToken}` } } as unknown as string[],
  );
  const received = new Map<number, number>();
  await new Promise((r) => ws.addEventListener("open", r, { once: true }));
  ws.send(JSON.stringify({ type: "subscribe", topic: `org:${ctx.orgId}:metrics.${host.id}` }));
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === "event") {
      for (const s of m.data.samples) {
        received.set(s.t, performance.now());
      }
    }
  };
  await new Promise((r) => setTimeout(r, 200));
  const sentAt = new Map<number, number>();
  for (let i = 0; i < 60; i++) {
    const t = Date.now();
    const body = await gzip(
      JSON.stringify({ seq: i, dropped: 0, samples: [{ t, host: { "cpu.total_pct": i } }] }),
    );
    sentAt.set(t, performance.now());
    const res = await fetch(`${ctx.hubUrl}/api/v1/agent/report`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${host.token}`,
        "x-capstan-machine-id": host.machineId,
        "content-encoding": "gzip",
      },
      body,
    });
    await res.arrayBuffer();
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() - t)));
  }
  ws.close();
  const lat = [...sentAt].filter(([t]) => received.has(t)).map(([t, at]) => received.get(t)! - at);
  if (lat.length < 55) throw new Error(`only ${lat.length} of 60 live samples arrived`);
  record("live_p50_ms", percentile(lat, 50));
  record("live_p99_ms", percentile(lat, 99));
}
