/**
 * Measures the agent's metrics pipeline: resident memory and CPU while it samples every second
 * with 20 running containers and reports to a local receiver. The pipeline runs in a child process
 * of its own (`deno run … --child`), so the figures are that process's alone: its /proc/self/stat
 * utime + stime over the measured minute, and its VmRSS at the end, V8 heap included. The parent
 * starts the containers and the receiver, and removes the containers afterwards.
 *
 *   deno run -A bench/agent_bench.ts         # prints {"agent_rss_mb":…,"agent_cpu_pct":…}
 */
import { createDockerClient } from "../lib/docker/client.ts";
import { cleanupSuite, TEST_IMAGE, testLabels, testName } from "../lib/docker/testing.ts";
import { createLogger } from "../lib/log.ts";
import { startMetrics } from "../agent/metrics/mod.ts";
import { startReceiver } from "../agent/metrics/receiver.ts";

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

/** The child: runs the pipeline, measures itself, prints one JSON line. */
async function child(): Promise<void> {
  const seconds = Number(Deno.env.get("MEASURE_SECONDS"));
  const warmup = Number(Deno.env.get("MEASURE_WARMUP"));
  const stateDir = await Deno.makeTempDir({ prefix: "capstan-measure-" });
  const docker = createDockerClient();
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
    await Promise.all(Array.from({ length: count }, async (_, i) => {
      const { id } = await docker.createContainer(testName(SUITE, String(i)), {
        image: TEST_IMAGE,
        // Mostly idle with a little steady work, like a typical service.
        cmd: ["sh", "-c", "while true; do echo tick > /dev/null; sleep 1; done"],
        labels: testLabels(SUITE),
      });
      await docker.startContainer(id);
    }));
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

if (import.meta.main) {
  if (Deno.args.includes("--child")) await child();
  else console.log(JSON.stringify(await measureAgent()));
}
