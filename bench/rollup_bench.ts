/**
 * Ingest acknowledgement latency while the minute rollup runs, against the same load with no
 * rollup, in the same run (`ingest_ack_p99_rollup_vs_idle`, target < 2). The rollup job runs inside
 * the hub process; on SQLite its queries are synchronous, so a rollup that never yields holds every
 * report's ack until it is done.
 */
import { gzip } from "../agent/metrics/reporter.ts";
import { type BenchCtx, enrollHosts } from "./metrics_bench.ts";
import { percentile } from "./stats.ts";

/** Hosts whose finished minutes are rolled up (the review saw acks of 8.9 s with 54 hosts live). */
const ROLLUP_HOSTS = 54;
/** Series per host: a few cores, filesystems and interfaces' worth. */
const SERIES = 60;
/** Finished minutes of 1 s samples per host waiting for the rollup. */
const MINUTES = 3;
/** Hosts sending the live reports whose acks are timed. */
const LIVE_HOSTS = 20;
/**
 * The live load, as a share of this machine's ingest capacity (measured first, closed loop): the
 * ratio means the same on a fast CI machine and a slow shared one, and stays clear of saturation,
 * where any extra work makes queues (and the ratio) grow without bound.
 */
const LOAD_SHARE = 0.15;
/** Length of each idle window (one before the rollup, one after), ms. */
const IDLE_MS = 5000;
/** Load before each window is measured (connections opened, code warm), ms. */
const WARM_UP_MS = 500;
/** Load prepared for one rollup (it stops early when the rollup is over); more is garbage to collect. */
const ROLLUP_WINDOW_MS = 60_000;
/** Acks wanted during rollups; more rounds (up to MAX_ROUNDS) until there are. */
const MIN_ACKS = 100;
const MAX_ROUNDS = 4;

/** Runs the rollup-versus-idle ack figures, reporting through `record`. */
export async function rollupStallBench(
  ctx: BenchCtx,
  record: (name: string, value: number) => void,
): Promise<void> {
  const { store, rollups } = ctx.services.metrics;
  // Whatever earlier figures left marked is rolled first: the run measured below is only ours.
  while ((await rollups.run({ all: true })).minutes > 0) { /* drain */ }

  const keys = Array.from({ length: SERIES }, (_, i) => `bench.s${i}{n=${i}}`);
  const rolled = await enrollHosts(ctx, ROLLUP_HOSTS);
  let seq = 0;
  /** MINUTES finished minutes of every rolled host, the `round`-th such stretch back from now. */
  const preload = async (round: number) => {
    const now = Date.now();
    const first = now - (now % 60_000) - (round + 1) * (MINUTES + 1) * 60_000;
    for (const host of rolled) {
      for (let m = 0; m < MINUTES; m++) {
        await store.ingest(host.id, {
          seq: seq++,
          dropped: 0,
          samples: Array.from({ length: 60 }, (_, i) => ({
            t: first + m * 60_000 + i * 1000,
            host: Object.fromEntries(keys.map((k, j) => [k, Math.random() * 100 + j])),
          })),
        });
      }
    }
  };
  await preload(0);

  const live = await enrollHosts(ctx, LIVE_HOSTS);
  const seqs = live.map(() => 0);
  let sent = 0;
  // Bodies are made ahead of each window, so the figures time the hub, not the load generator.
  const bodies = async (n: number) => {
    const out: { token: string; machineId: string; body: Uint8Array<ArrayBuffer> }[] = [];
    for (let i = 0; i < n; i++) {
      const h = (sent + i) % LIVE_HOSTS;
      const t = Date.now() - 60_000 + i;
      const samples = Array.from({ length: 10 }, (_, s) => ({
        t: t + s,
        host: Object.fromEntries(keys.slice(0, 10).map((k) => [k, Math.random() * 100])),
      }));
      out.push({
        token: live[h].token,
        machineId: live[h].machineId,
        body: await gzip(JSON.stringify({ seq: seqs[h]++, dropped: 0, samples })),
      });
    }
    sent += n;
    return out;
  };
  // Capacity: reports acknowledged per second with 4 in flight.
  const probe = await bodies(400);
  let next = 0;
  const c0 = performance.now();
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < probe.length) {
      const b = probe[next++];
      const res = await fetch(`${ctx.hubUrl}/api/v1/agent/report`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${b.token}`,
          "x-capstan-machine-id": b.machineId,
          "content-encoding": "gzip",
        },
        body: b.body,
      });
      await res.arrayBuffer();
    }
  }));
  const capacity = probe.length / ((performance.now() - c0) / 1000);
  const rate = Math.max(5, Math.round(capacity * LOAD_SHARE));

  // The load runs on a thread of its own (see ack_load_worker.ts).
  const worker = new Worker(new URL("./ack_load_worker.ts", import.meta.url), { type: "module" });
  const paced = (items: { token: string; machineId: string; body: Uint8Array<ArrayBuffer> }[]) => {
    const done = new Promise<[number, number][]>((resolve, reject) => {
      worker.onmessage = (e) =>
        e.data.failed
          ? reject(new Error(`${e.data.failed} reports failed: ${e.data.firstError}`))
          : resolve(e.data.acks);
      worker.onerror = (e) => reject(e);
    });
    worker.postMessage({
      type: "run",
      url: `${ctx.hubUrl}/api/v1/agent/report`,
      rate,
      items,
    });
    return done;
  };

  // Bodies are made before each window starts, so no window starts after a burst of garbage.
  const window = (ms: number) => bodies(Math.ceil((rate * (ms + WARM_UP_MS)) / 1000));
  /** Acks of reports sent at least WARM_UP_MS after the load started. */
  const measured = async (acks: Promise<[number, number][]>, started: number) =>
    (await acks).filter(([at]) => at >= started + WARM_UP_MS).map(([, ms]) => ms);
  // Idle windows before and after, so a machine whose load drifts during the run biases neither side.
  let items = await window(IDLE_MS);
  const idle = await measured(paced(items), Date.now());
  // The same load while the minute rollup (as the job runs it) works through the finished minutes;
  // the acks of the reports sent while it ran are the ones compared. A rollup over before enough
  // acks came in (a fast machine, a lull on a shared one) is followed by another round.
  const during: number[] = [];
  let rollupMs = 0;
  let minutes = 0;
  let slices = 0;
  for (let round = 0; round < MAX_ROUNDS && during.length < MIN_ACKS; round++) {
    if (round) await preload(round);
    items = await window(ROLLUP_WINDOW_MS);
    const acks = paced(items);
    await new Promise((r) => setTimeout(r, WARM_UP_MS));
    const from = Date.now();
    const r = await rollups.run();
    const to = Date.now();
    worker.postMessage({ type: "stop" });
    during.push(...(await acks).filter(([at]) => at >= from && at <= to).map(([, ms]) => ms));
    rollupMs += to - from;
    minutes += r.minutes;
    slices += r.slices;
    if (r.minutes < ROLLUP_HOSTS * MINUTES) throw new Error(`rolled only ${r.minutes} minutes`);
  }
  items = await window(IDLE_MS);
  idle.push(...await measured(paced(items), Date.now()));
  worker.terminate();
  if (during.length < 20) throw new Error(`only ${during.length} reports during the rollup`);
  console.log(
    `  (rollup of ${minutes} host-minutes × ${SERIES} series: ${
      Math.round(rollupMs)
    } ms in ${slices} slices; ${rate} reports/s, ${Math.round(LOAD_SHARE * 100)} % of ${
      Math.round(capacity)
    }; ${during.length} acks during it, ${idle.length} idle)`,
  );
  const p99Idle = percentile(idle, 99);
  const p99Rollup = percentile(during, 99);
  record("ingest_ack_p99_ms_idle", p99Idle);
  record("ingest_ack_p99_ms_during_rollup", p99Rollup);
  record("ingest_ack_p99_rollup_vs_idle", p99Rollup / p99Idle);
}
