/**
 * Host and container metrics for the agent: a sampler feeding a reporter that spools batches to
 * the state dir and sends them to the hub. agent/main.ts calls startMetrics() once it has a host
 * token and stop() when the agent stops.
 */
import type { DockerClient } from "../../lib/docker/client.ts";
import type { Logger } from "../../lib/log.ts";
import { createContainerCollector } from "../collectors/containers.ts";
import type { MetricsClock } from "./clock.ts";
import { createHostCollectors } from "./collectors.ts";
import { createReporter, type ReporterStats } from "./reporter.ts";
import { createSampler, type SamplerStats } from "./sampler.ts";
import { openSpoolRetrying } from "./spool.ts";

/** What startMetrics() needs. */
export interface MetricsOptions {
  /** Origin (and optional path prefix) of the hub. */
  hubUrl: string;
  /** The host token. */
  token: string;
  /** The machine id the host token is bound to; sent with every report. */
  machineId?: string;
  /** The agent's state dir; the spool lives in `<stateDir>/metrics-spool`. */
  stateDir: string;
  /** The local engine; without it only host series are collected. */
  docker?: DockerClient;
  log: Logger;
  /** Sampling interval, default 1000 ms. */
  intervalMs?: number;
  /** Batch interval, default 10000 ms. */
  reportIntervalMs?: number;
  /** Container sampling interval, default 10000 ms. */
  containerIntervalMs?: number;
  /** Spool bound, default 100 MB. */
  spoolMaxBytes?: number;
  fetch?: typeof fetch;
  /** Where the host's /proc and /sys are (an agent in a container); default "/". */
  root?: string;
  cgroupRoot?: string;
  /** Called once if the hub refuses the token (401/403); sending has stopped by then. */
  onUnauthorized?: (status: number) => void;
  /** Sending waits for this; sampling and spooling start at once. */
  ready?: Promise<unknown>;
  clock?: MetricsClock;
}

/** Health of the metrics pipeline. */
export interface MetricsStats {
  sampler: SamplerStats;
  reporter: ReporterStats;
}

/** The running pipeline. */
export interface MetricsHandle {
  /** Stops sampling, spools what is buffered, stops sending; safe to call twice. */
  stop(): Promise<void>;
  stats(): MetricsStats;
}

/**
 * Starts sampling and reporting. A state dir that cannot be written (read-only, full) does not
 * stop metrics: batches are sent from memory while the spool is tried again every 10 s.
 */
export function startMetrics(opts: MetricsOptions): Promise<MetricsHandle> {
  const spool = openSpoolRetrying(`${opts.stateDir}/metrics-spool`, {
    maxBytes: opts.spoolMaxBytes,
    log: opts.log,
  });
  const reporter = createReporter({
    hubUrl: opts.hubUrl,
    token: opts.token,
    machineId: opts.machineId,
    spool,
    reportIntervalMs: opts.reportIntervalMs,
    fetch: opts.fetch,
    log: opts.log,
    clock: opts.clock,
    onUnauthorized: opts.onUnauthorized,
    ready: opts.ready,
  });
  const host = createHostCollectors({
    root: opts.root,
    docker: opts.docker,
    stateDir: opts.stateDir,
    log: opts.log,
  });
  const containers = opts.docker
    ? createContainerCollector({ docker: opts.docker, cgroupRoot: opts.cgroupRoot })
    : undefined;
  const sampler = createSampler({
    host,
    containers,
    intervalMs: opts.intervalMs,
    containerIntervalMs: opts.containerIntervalMs,
    clock: opts.clock,
    log: opts.log,
    onSample: (s) => reporter.add(s),
  });
  reporter.start();
  sampler.start();
  let stopped: Promise<void> | undefined;
  return Promise.resolve({
    stop() {
      stopped ??= (async () => {
        await sampler.stop();
        await reporter.stop();
        for (const c of [...host, ...(containers ? [containers] : [])]) await c.close?.();
      })();
      return stopped;
    },
    stats: () => ({ sampler: sampler.stats(), reporter: reporter.stats() }),
  });
}
