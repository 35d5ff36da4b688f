/**
 * Health check figures of `deno task bench` (issue 6): one runner with 500 HTTP checks every 10 s
 * against a local busybox httpd. It measures each attempt's scheduling jitter (actual start −
 * planned start) and the runner's CPU as % of one core. The runner runs in a child process of its
 * own, so the CPU is its alone: the child's CPU time (process.cpuUsage) over 30 s of checks, minus
 * the same child's idle CPU measured just before in the same run.
 *
 *   deno run -A bench/health_bench.ts     # alone: merges its two figures into bench/results.json
 */
import process from "node:process";
import { createDockerClient } from "../lib/docker/client.ts";
import { cleanupSuite, TEST_IMAGE, testLabels, testName } from "../lib/docker/testing.ts";
import { createLogger } from "../lib/log.ts";
import { HealthSync } from "../lib/protocol/health.ts";
import { recordAlone } from "./results.ts";
import { createHealthRunner } from "../agent/health/mod.ts";

const SUITE = "health-bench";
const CHECKS = 500;
const INTERVAL_S = 10;
const BASELINE_S = 10;
/** One full interval and a bit: every check has run once and the connection pool is warm. */
const WARMUP_S = 12;
const MEASURE_S = 30;

/** The child's figures. */
interface Figures {
  health_500_jitter_p99_ms: number;
  health_500_cpu_pct: number;
  idle_cpu_pct: number;
  attempts: number;
  results_ok: number;
  results_failed: number;
  skipped: number;
  dropped: number;
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** CPU used by this process over `seconds` of wall time, as % of one core. */
async function cpuPctOver(seconds: number): Promise<number> {
  const c0 = cpuSeconds();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return ((cpuSeconds() - c0) / ((performance.now() - t0) / 1000)) * 100;
}

/** The child: idle baseline, then the runner, then one JSON line of figures on stdout. */
async function child(): Promise<void> {
  const containerId = Deno.env.get("HEALTH_BENCH_CONTAINER")!;
  const port = Number(Deno.env.get("HEALTH_BENCH_PORT"));
  const docker = createDockerClient();
  const idle = await cpuPctOver(BASELINE_S);
  let measuring = false;
  const jitters: number[] = [];
  let ok = 0;
  let failed = 0;
  const runner = createHealthRunner({
    docker,
    log: createLogger("warn"),
    // Serialised as the real sender would, so the message cost is in the figure.
    send: (m) => {
      JSON.stringify(m);
      if (measuring) { for (const r of m.results) r.ok ? ok++ : failed++; }
      return true;
    },
    onAttempt: (_id, planned, started) => {
      if (measuring) jitters.push(started - planned);
    },
  });
  const { checks } = HealthSync.parse({
    checks: Array.from({ length: CHECKS }, () => ({
      id: crypto.randomUUID(),
      container_id: containerId,
      kind: "http",
      interval_s: INTERVAL_S,
      timeout_s: 5,
      start_delay_s: 0,
      http: { port, path: "/", body_contains: "ok" },
    })),
  });
  await runner.sync({ checks });
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  measuring = true;
  const busy = await cpuPctOver(MEASURE_S);
  measuring = false;
  const stats = runner.stats();
  runner.close();
  docker.close();
  jitters.sort((a, b) => a - b);
  const figures: Figures = {
    health_500_jitter_p99_ms:
      jitters[Math.min(jitters.length - 1, Math.floor(jitters.length * 0.99))],
    health_500_cpu_pct: Math.max(0, busy - idle),
    idle_cpu_pct: idle,
    attempts: jitters.length,
    results_ok: ok,
    results_failed: failed,
    skipped: stats.skipped,
    dropped: stats.dropped,
  };
  console.log(JSON.stringify(figures));
}

/** Runs the health benchmark and reports its figures through `record`. */
export async function healthBench(record: (name: string, value: number) => void): Promise<void> {
  const docker = createDockerClient();
  try {
    await cleanupSuite(docker, SUITE);
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = l.addr.port;
    l.close();
    // On the host network the runner reaches httpd on 127.0.0.1, as it does for such containers.
    const { id } = await docker.createContainer(testName(SUITE, "httpd"), {
      image: TEST_IMAGE,
      cmd: [
        "sh",
        "-c",
        `mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p ${port} -h /www`,
      ],
      networkMode: "host",
      labels: testLabels(SUITE),
    });
    await docker.startContainer(id);
    for (let i = 0;; i++) {
      const up = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => undefined);
      if (up?.includes("ok")) break;
      if (i > 100) throw new Error("httpd did not come up");
      await new Promise((r) => setTimeout(r, 100));
    }
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, "--child"],
      env: { HEALTH_BENCH_CONTAINER: id, HEALTH_BENCH_PORT: String(port) },
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("the health bench child failed");
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    const f = JSON.parse(lines[lines.length - 1]) as Figures;
    console.log(
      `health: ${f.attempts} attempts measured, ${f.results_ok} ok, ${f.results_failed} failed, ` +
        `${f.skipped} skipped, idle ${f.idle_cpu_pct.toFixed(2)} % CPU`,
    );
    if (f.results_failed > 0 || f.attempts < (CHECKS * MEASURE_S) / INTERVAL_S * 0.9) {
      throw new Error(`the health bench did not run its checks cleanly: ${JSON.stringify(f)}`);
    }
    record("health_500_jitter_p99_ms", f.health_500_jitter_p99_ms);
    record("health_500_cpu_pct", f.health_500_cpu_pct);
  } finally {
    await cleanupSuite(docker, SUITE).catch((err) => console.error(err));
    docker.close();
  }
}

if (import.meta.main) {
  if (Deno.args.includes("--child")) await child();
  else {
    // Alone: keep the other figures of results.json and update these two.
    await recordAlone(healthBench);
  }
}
