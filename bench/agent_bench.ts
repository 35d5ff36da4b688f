/**
 * Measures the agent's metrics pipeline: resident memory and CPU while it samples every second
 * with 20 running containers and reports to a local receiver. The pipeline runs in a child process
 * of its own (`deno run … --child`), so the figures are that process's alone: its /proc/self/stat
 * utime + stime over the measured minute, and its VmRSS at the end, V8 heap included. The parent
 * starts the containers and the receiver, and removes the containers afterwards.
 *
 *   deno run -A bench/agent_bench.ts           # prints {"agent_rss_mb":…,"agent_cpu_pct":…}
 *   deno run -A bench/agent_bench.ts --record  # the same, merged into bench/results.json
 *
 * Both run with the memory settings of install.sh's unit (AGENT_UNIT_ENV).
 *
 * Over time (issue 20: flat memory, under 60 MB): the whole agent as a host runs it (the bundle the
 * hub serves, started with the unit's flags and environment), connected to a stand-in hub (the
 * metrics receiver, which also welcomes its WebSocket and pings it), with 10 running containers;
 * its VmRSS is read from /proc every 30 s. It reports the RSS at the end and the growth over the
 * second half (Theil–Sen slope × the half's length, so one GC's swing does not decide it). An hour
 * does not fit CI's budget, so it is opt-in:
 *
 *   CAPSTAN_BENCH_AGENT_MINUTES=60 deno run -A bench/agent_bench.ts --over-time
 *       # alone, ~61 min: merges agent_rss_mb_after_1h and agent_rss_growth_mb_last_30min into
 *       # bench/results.json (default 5 min: agent_rss_mb_after_5min, …_last_2.5min)
 *   CAPSTAN_BENCH_AGENT_MINUTES=60 deno task bench
 *       # the same inside the whole bench; without the variable the last long figures are kept
 */
import {
  createDockerClient,
  DEFAULT_DOCKER_SOCKET,
  type DockerClient,
} from "../lib/docker/client.ts";
import { createAgentBundler } from "../lib/agents/bundle.ts";
import { cleanupSuite, TEST_IMAGE, testLabels, testName } from "../lib/docker/testing.ts";
import { createLogger } from "../lib/log.ts";
import { startMetrics } from "../agent/metrics/mod.ts";
import { startReceiver } from "../agent/metrics/receiver.ts";
import { startMemoryTrim } from "../agent/memory_trim.ts";
import { AGENT_RUN_FLAGS, AGENT_UNIT_ENV } from "../agent/unit.ts";
import { median } from "./stats.ts";
import { recordAlone } from "./results.ts";

/** The benchmark's figures. */
export interface AgentFigures {
  agent_rss_mb: number;
  agent_cpu_pct: number;
}

/** Options of a measurement run. */
export interface MeasureOptions {
  containers?: number;
  /** The measured window; default 60 s. */
  seconds?: number;
  /** Running before the window opens (module loading, first walk of the data root); default 10 s. */
  warmupSeconds?: number;
}

const SUITE = "metrics-measure";
// The whole agent's run has its own containers: cleaning up one run never removes the other's.
const OVER_TIME_SUITE = "agent-over-time";
const TOKEN = "caph_measure";
// /proc reports CPU times in USER_HZ ticks, 100 per second on every Linux architecture.
const USER_HZ = 100;

function cpuTicks(): number {
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

function statusKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(
    Deno.readTextFileSync("/proc/self/status"),
  );
  return m ? Number(m[1]) : NaN;
}

/** Starts `count` containers of `suite`, mostly idle with a little steady work like a service. */
async function startContainers(docker: DockerClient, suite: string, count: number) {
  await Promise.all(Array.from({ length: count }, async (_, i) => {
    const { id } = await docker.createContainer(testName(suite, String(i)), {
      image: TEST_IMAGE,
      cmd: ["sh", "-c", "while true; do echo tick > /dev/null; sleep 1; done"],
      labels: testLabels(suite),
    });
    await docker.startContainer(id);
  }));
}

/** The child: runs the pipeline, measures itself, prints one JSON line. */
async function child(): Promise<void> {
  const seconds = Number(Deno.env.get("MEASURE_SECONDS"));
  const warmup = Number(Deno.env.get("MEASURE_WARMUP"));
  const stateDir = await Deno.makeTempDir({ prefix: "capstan-measure-" });
  const docker = createDockerClient();
  // As agent/main.ts does: the unit's DENO_USR2_MEMORY_TRIM is in this child's environment.
  const trim = startMemoryTrim({ env: Deno.env.toObject(), log: createLogger("warn") });
  const metrics = await startMetrics({
    hubUrl: Deno.env.get("MEASURE_HUB")!,
    token: TOKEN,
    stateDir,
    docker,
    log: createLogger("warn"),
    intervalMs: 1000,
  });
  await new Promise((r) => setTimeout(r, warmup * 1000));
  const ticks0 = cpuTicks();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const ticks1 = cpuTicks();
  const elapsed = (performance.now() - t0) / 1000;
  const rssKb = statusKb("VmRSS");
  const hwmKb = statusKb("VmHWM");
  const stats = metrics.stats();
  await metrics.stop();
  trim.stop();
  docker.close();
  await Deno.remove(stateDir, { recursive: true });
  console.log(JSON.stringify({
    agent_rss_mb: Math.round(rssKb / 102.4) / 10,
    agent_cpu_pct: Math.round(((ticks1 - ticks0) / USER_HZ / elapsed) * 100 * 100) / 100,
    peak_rss_mb: Math.round(hwmKb / 102.4) / 10,
    heap_used_mb: Math.round(Deno.memoryUsage().heapUsed / 1e5) / 10,
    samples: stats.sampler.samples,
    skipped_ticks: stats.sampler.skippedTicks,
    batches_sent: stats.reporter.batchesSent,
  }));
}

/** Runs the measurement (about warmup + 60 s) and returns the figures. */
export async function measureAgent(opts: MeasureOptions = {}): Promise<AgentFigures> {
  const count = opts.containers ?? 20;
  const docker = createDockerClient();
  const receiver = startReceiver({ token: TOKEN });
  try {
    await startContainers(docker, SUITE, count);
    const root = new URL("../", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        `${root}deno.json`,
        new URL(import.meta.url).pathname,
        "--child",
      ],
      cwd: root,
      env: {
        ...AGENT_UNIT_ENV,
        MEASURE_HUB: receiver.url,
        MEASURE_SECONDS: String(opts.seconds ?? 60),
        MEASURE_WARMUP: String(opts.warmupSeconds ?? 10),
      },
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    if (!out.success) throw new Error(`measure child failed (exit ${out.code}): ${text}`);
    const result = JSON.parse(text.split("\n").at(-1)!);
    const samples = receiver.received.flatMap((r) => r.batch.samples);
    const containersSeen = Math.max(
      0,
      ...samples.map((s) => Object.keys(s.containers ?? {}).length),
    );
    console.error(
      `measure: ${JSON.stringify({ ...result, containers_in_samples: containersSeen })}`,
    );
    if (containersSeen < count) {
      throw new Error(`measure: only ${containersSeen} of ${count} containers were sampled`);
    }
    return { agent_rss_mb: result.agent_rss_mb, agent_cpu_pct: result.agent_cpu_pct };
  } finally {
    await receiver.close();
    await cleanupSuite(docker, SUITE);
    docker.close();
  }
}

/** One reading of the agent process's memory. */
export interface RssSample {
  /** Seconds since the agent was started. */
  at: number;
  rss_mb: number;
  anon_mb: number;
  file_mb: number;
}

/** Figures of a whole agent over time. */
export interface AgentOverTime {
  /** VmRSS at the end of the run. */
  rss_mb_end: number;
  /** Robust growth over the second half of the run: Theil–Sen slope × the half's length. */
  growth_mb_second_half: number;
  /** RSS at the end minus RSS at the middle (the plain reading, noisier). */
  growth_mb_end_minus_middle: number;
  samples: RssSample[];
}

/** Options of a run of the whole agent. */
export interface OverTimeOptions {
  containers?: number;
  minutes: number;
  /** Between two readings of the agent's memory; default 30 s. */
  sampleSeconds?: number;
  /** Progress lines on stderr (one per reading). */
  verbose?: boolean;
  /**
   * How the agent runs: "bundle" (default) is what install.sh installs without a binary, the
   * bundle the hub serves run by `deno run` with the unit's flags; "source" is `deno task agent`.
   */
  form?: "bundle" | "source";
}

/** The memory settings of install.sh's systemd unit (agent/unit.ts says why): what a host runs. */
export { AGENT_UNIT_ENV };

/** The agent's command line in `form`, as install.sh's unit or `deno task agent` starts it. */
async function agentCommand(form: "bundle" | "source", root: string, stateDir: string) {
  if (form === "source") return ["run", "-A", "--config", `${root}deno.json`, "agent/main.ts"];
  const bundle = await createAgentBundler(root).get();
  const file = `${stateDir}/agent.js`;
  await Deno.writeFile(file, bundle.code);
  await Deno.mkdir(`${stateDir}/tmp`);
  // The flags of install.sh's ExecStart (bundle mode), word for word.
  const socket = Deno.env.get("DOCKER_SOCKET") ?? DEFAULT_DOCKER_SOCKET;
  return ["run", ...AGENT_RUN_FLAGS, `--allow-write=${stateDir},${socket}`, file];
}

/** A process's status fields in MB (VmRSS, RssAnon, RssFile). */
async function processMemory(pid: number): Promise<Omit<RssSample, "at">> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const mb = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : NaN;
  };
  return { rss_mb: mb("VmRSS"), anon_mb: mb("RssAnon"), file_mb: mb("RssFile") };
}

/** Theil–Sen slope of y over x: the median of every pair's slope, deaf to a few outliers (GC). */
export function theilSen(points: { x: number; y: number }[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dx = points[j].x - points[i].x;
      if (dx !== 0) slopes.push((points[j].y - points[i].y) / dx);
    }
  }
  return slopes.length ? median(slopes) : 0;
}

/**
 * Runs the whole agent (`agent/main.ts`, as `deno task agent` does: WebSocket session, health
 * runner, operations and metrics) against a receiver that also stands in for the hub's WebSocket,
 * with `containers` running, and reads its VmRSS from /proc every `sampleSeconds` for `minutes`.
 */
export async function measureAgentOverTime(opts: OverTimeOptions): Promise<AgentOverTime> {
  const count = opts.containers ?? 10;
  const every = (opts.sampleSeconds ?? 30) * 1000;
  const token = `caph_${"b".repeat(43)}`;
  const docker = createDockerClient();
  const receiver = startReceiver({ token, agentSocket: { pingMs: 30_000 }, discard: true });
  const stateDir = await Deno.makeTempDir({ prefix: "capstan-agent-rss-" });
  let agent: Deno.ChildProcess | undefined;
  try {
    await Deno.writeTextFile(`${stateDir}/host-token`, token + "\n", { mode: 0o600 });
    await startContainers(docker, OVER_TIME_SUITE, count);
    const root = new URL("../", import.meta.url).pathname;
    agent = new Deno.Command(Deno.execPath(), {
      args: await agentCommand(opts.form ?? "bundle", root, stateDir),
      cwd: root,
      env: {
        ...AGENT_UNIT_ENV,
        DENO_DIR: `${stateDir}/deno-cache`,
        DENO_NO_UPDATE_CHECK: "1",
        TMPDIR: `${stateDir}/tmp`,
        CAPSTAN_HUB_URL: receiver.url,
        CAPSTAN_AGENT_DIR: stateDir,
        CAPSTAN_AGENT_LOG_LEVEL: "warn",
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const started = performance.now();
    const samples: RssSample[] = [];
    const end = started + opts.minutes * 60_000;
    for (let next = started + every; next <= end + 1; next += every) {
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
      const at = Math.round((performance.now() - started) / 1000);
      const sample = { at, ...await processMemory(agent.pid) };
      samples.push(sample);
      if (opts.verbose) console.error(`agent over time: ${JSON.stringify(sample)}`);
    }
    const batches = receiver.statuses.filter((s) => s === 200).length;
    if (batches < opts.minutes * 3) {
      throw new Error(`agent over time: only ${batches} metric batches reached the receiver`);
    }
    const middle = opts.minutes * 30;
    const half = samples.filter((s) => s.at >= middle);
    const atMiddle = half[0] ?? samples[samples.length - 1];
    const last = samples[samples.length - 1];
    const slope = theilSen(half.map((s) => ({ x: s.at, y: s.rss_mb })));
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      rss_mb_end: last.rss_mb,
      growth_mb_second_half: round(slope * (last.at - atMiddle.at)),
      growth_mb_end_minus_middle: round(last.rss_mb - atMiddle.rss_mb),
      samples,
    };
  } finally {
    if (agent) {
      try {
        agent.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => agent?.kill("SIGKILL"), 10_000);
      await agent.status;
      clearTimeout(timer);
    }
    await receiver.close();
    await cleanupSuite(docker, OVER_TIME_SUITE);
    docker.close();
    await Deno.remove(stateDir, { recursive: true });
  }
}

/** Minutes of the whole-agent run: CAPSTAN_BENCH_AGENT_MINUTES (60 for the hour figures), else 5. */
export function overTimeMinutes(env: Record<string, string | undefined>): number {
  const n = Number(env.CAPSTAN_BENCH_AGENT_MINUTES ?? "5");
  if (!Number.isFinite(n) || n < 1) throw new Error("CAPSTAN_BENCH_AGENT_MINUTES must be ≥ 1");
  return n;
}

/** Names of the whole agent's figures, kept in results.json between runs that do not make them. */
export const OVER_TIME_FIGURE = /^agent_rss_(mb_after|growth_mb_last)_/;

/**
 * The whole agent's figures: `agent_rss_mb_after_<n>min` and `agent_rss_growth_mb_last_<n/2>min`,
 * named `…_after_1h` / `…_last_30min` for the hour.
 */
export async function agentOverTimeBench(
  record: (name: string, value: number) => void,
  minutes: number,
): Promise<void> {
  const r = await measureAgentOverTime({ minutes, containers: 10, verbose: true });
  const after = minutes === 60 ? "1h" : `${minutes}min`;
  const last = minutes === 60 ? "30min" : `${minutes / 2}min`;
  console.error(
    `agent over time: end ${r.rss_mb_end} MB, growth over the second half ${r.growth_mb_second_half} MB ` +
      `(Theil–Sen), ${r.growth_mb_end_minus_middle} MB (end − middle)`,
  );
  record(`agent_rss_mb_after_${after}`, r.rss_mb_end);
  record(`agent_rss_growth_mb_last_${last}`, r.growth_mb_second_half);
}

if (import.meta.main) {
  if (Deno.args.includes("--child")) await child();
  else if (Deno.args.includes("--over-time")) {
    // Alone: keep the other figures of results.json and update these.
    await recordAlone((record) => agentOverTimeBench(record, overTimeMinutes(Deno.env.toObject())));
  } else if (Deno.args.includes("--record")) {
    // Alone, into bench/results.json: agent_rss_mb and agent_cpu_pct as `deno task bench` makes them.
    await recordAlone(async (record) => {
      const r = await measureAgent();
      record("agent_rss_mb", r.agent_rss_mb);
      record("agent_cpu_pct", r.agent_cpu_pct);
    });
  } else console.log(JSON.stringify(await measureAgent()));
}
