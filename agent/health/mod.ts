/**
 * The agent's health check runner (issue 6). The hub hands it the complete set of checks for this
 * host (`health.sync`); it runs each on its own fixed grid (schedule.ts) close to the containers
 * and hands results to `send` in batches. It lives as long as the agent, across reconnects: while
 * the hub is away checks go on and results wait in a bounded buffer.
 */
import type { DockerClient } from "../../lib/docker/client.ts";
import type { Logger } from "../../lib/log.ts";
import type {
  HealthCheckSpec,
  HealthResult,
  HealthResultsMessage,
  HealthSync,
} from "../../lib/protocol/health.ts";
import type { Transport } from "../../lib/protocol/transport.ts";
import { type Clock, systemClock } from "../../lib/util/clock.ts";
import { commandProbe } from "./command_probe.ts";
import { dockerProbe } from "./docker_probe.ts";
import { httpProbe } from "./http_probe.ts";
import { type Probe, ProbeError } from "./probe.ts";
import { ResultBuffer } from "./result_buffer.ts";
import { firstSlot, nextSlot, phaseOf, slotAfterFirst } from "./schedule.ts";
import { createTargets } from "./targets.ts";
import { tcpProbe } from "./tcp_probe.ts";

const PROBES: Record<HealthCheckSpec["kind"], Probe> = {
  http: httpProbe,
  tcp: tcpProbe,
  docker: dockerProbe,
  command: commandProbe,
};

/** Results per message, as the wire contract allows. */
export const MAX_RESULTS_PER_MESSAGE = 1000;
/** At most one message per this many ms. */
export const SEND_EVERY_MS = 1000;
/** Results kept while the hub is away (about 3 minutes of 500 checks every 10 s). */
export const DEFAULT_MAX_BUFFERED = 10_000;

/** What the runner needs. */
export interface HealthRunnerOptions {
  docker: DockerClient;
  /** Hands a message to the hub; false when there is no connection now (the batch is kept). */
  send(m: HealthResultsMessage): boolean;
  log: Logger;
  clock?: Clock;
  maxBuffered?: number;
  /** Called as each attempt starts, with its planned and actual start (the benchmark's jitter). */
  onAttempt?(checkId: string, plannedMs: number, startedMs: number): void;
}

/** Counters for logs and the benchmark. */
export interface HealthRunnerStats {
  checks: number;
  running: number;
  buffered: number;
  dropped: number;
  skipped: number;
}

/** The runner while the agent lives. */
export interface HealthRunner {
  /** Replaces the set of checks: unchanged ones keep their schedule, new ones start after their delay. */
  sync(p: HealthSync): Promise<{ checks: number; added: number; changed: number; removed: number }>;
  stats(): HealthRunnerStats;
  /** Stops every check and the sender; results still buffered are dropped. */
  close(): void;
}

interface Scheduled {
  spec: HealthCheckSpec;
  /** The spec as JSON: equal keys mean an unchanged check. */
  key: string;
  intervalMs: number;
  phase: number;
  planned: number;
  /** The next attempt is the first (off the grid; see schedule.ts). */
  first: boolean;
  timer?: ReturnType<typeof setTimeout>;
  /** The attempt in flight; a check never has two. */
  inFlight?: AbortController;
  /** Aborted when the check is removed or changed. */
  stop: AbortController;
}

/** Creates a runner with no checks; the hub's first `health.sync` fills it. */
export function createHealthRunner(o: HealthRunnerOptions): HealthRunner {
  const clock = o.clock ?? systemClock;
  const targets = createTargets(o.docker);
  const buffer = new ResultBuffer(o.maxBuffered ?? DEFAULT_MAX_BUFFERED);
  const checks = new Map<string, Scheduled>();
  let closed = false;
  let skipped = 0;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let lastSend = -Infinity;
  let droppedLogged = 0;

  function arm(s: Scheduled) {
    s.timer = setTimeout(() => fire(s), Math.max(0, s.planned - clock.now()));
  }

  function fire(s: Scheduled) {
    s.timer = undefined;
    if (s.stop.signal.aborted) return;
    const started = clock.now();
    const planned = s.planned;
    s.planned = s.first
      ? slotAfterFirst(planned, s.phase, s.intervalMs)
      : nextSlot(planned, started, s.intervalMs);
    s.first = false;
    arm(s);
    if (s.inFlight) {
      // The previous attempt still runs (timeout longer than the interval): skip this slot.
      skipped++;
      return;
    }
    o.onAttempt?.(s.spec.id, planned, started);
    void attempt(s, started);
  }

  async function attempt(s: Scheduled, started: number) {
    const timeoutMs = s.spec.timeout_s * 1000;
    const ac = new AbortController();
    s.inFlight = ac;
    const timer = setTimeout(
      () => ac.abort(new DOMException("timeout", "TimeoutError")),
      timeoutMs,
    );
    const stopped = () => ac.abort(new DOMException("check removed", "AbortError"));
    s.stop.signal.addEventListener("abort", stopped, { once: true });
    let outcome: Omit<HealthResult, "check_id" | "at">;
    try {
      outcome = await PROBES[s.spec.kind](s.spec, { docker: o.docker, targets, signal: ac.signal });
    } catch (err) {
      outcome = {
        ok: false,
        response_ms: null,
        ...(err instanceof ProbeError ? err.extra : {}),
        error: ac.signal.aborted && !s.stop.signal.aborted
          ? `timeout after ${s.spec.timeout_s} s`
          : err instanceof ProbeError
          ? err.message
          : `check failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300),
      };
    } finally {
      clearTimeout(timer);
      s.stop.signal.removeEventListener("abort", stopped);
      s.inFlight = undefined;
    }
    // A removed or changed check's last answer describes a check that no longer exists.
    if (s.stop.signal.aborted || closed) return;
    if (!outcome.ok) targets.forget(s.spec.container_id);
    const result: HealthResult = { check_id: s.spec.id, at: Math.round(started), ...outcome };
    if (result.error) result.error = result.error.slice(0, 500);
    buffer.push(result);
    scheduleFlush();
  }

  function scheduleFlush() {
    if (flushTimer !== undefined || closed || buffer.size === 0) return;
    flushTimer = setTimeout(flush, Math.max(0, lastSend + SEND_EVERY_MS - clock.now()));
  }

  function flush() {
    flushTimer = undefined;
    if (closed) return;
    const batch = buffer.peek(MAX_RESULTS_PER_MESSAGE);
    if (batch.length === 0) return;
    lastSend = clock.now();
    let sent = false;
    try {
      sent = o.send({ t: "health", results: batch });
    } catch (err) {
      o.log.warn("health results could not be sent", { error: String(err) });
    }
    if (sent) buffer.take(batch.length);
    if (buffer.dropped > droppedLogged) {
      o.log.warn("health results dropped while the hub was away", {
        dropped: buffer.dropped - droppedLogged,
      });
      droppedLogged = buffer.dropped;
    }
    scheduleFlush();
  }

  function start(spec: HealthCheckSpec, delayMs: number): Scheduled {
    const intervalMs = spec.interval_s * 1000;
    const phase = phaseOf(spec.id, intervalMs);
    const s: Scheduled = {
      spec,
      key: JSON.stringify(spec),
      intervalMs,
      phase,
      planned: firstSlot(clock.now() + delayMs, phase, intervalMs),
      first: true,
      stop: new AbortController(),
    };
    arm(s);
    return s;
  }

  function stop(s: Scheduled) {
    if (s.timer !== undefined) clearTimeout(s.timer);
    s.timer = undefined;
    s.stop.abort();
  }

  return {
    sync(p) {
      if (closed) return Promise.reject(new Error("the health runner is closed"));
      let added = 0, changed = 0, removed = 0;
      const wanted = new Map(p.checks.map((c) => [c.id, c]));
      for (const [id, s] of checks) {
        if (!wanted.has(id)) {
          stop(s);
          checks.delete(id);
          removed++;
        }
      }
      for (const [id, spec] of wanted) {
        const old = checks.get(id);
        if (old && old.key === JSON.stringify(spec)) continue;
        if (old) {
          // An edited check keeps running on its grid from the next slot: its container is up.
          stop(old);
          changed++;
          checks.set(id, start(spec, 0));
        } else {
          added++;
          checks.set(id, start(spec, spec.start_delay_s * 1000));
        }
      }
      targets.retain(new Set([...checks.values()].map((s) => s.spec.container_id)));
      if (added || changed || removed) {
        o.log.info("health checks synced", { checks: checks.size, added, changed, removed });
      }
      return Promise.resolve({ checks: checks.size, added, changed, removed });
    },
    stats() {
      let running = 0;
      for (const s of checks.values()) if (s.inFlight) running++;
      return {
        checks: checks.size,
        running,
        buffered: buffer.size,
        dropped: buffer.dropped,
        skipped,
      };
    },
    close() {
      closed = true;
      for (const s of checks.values()) stop(s);
      checks.clear();
      if (flushTimer !== undefined) clearTimeout(flushTimer);
      flushTimer = undefined;
    },
  };
}

/** Outgoing bytes waiting on the connection above which results stay in the buffer. */
const SEND_HIGH_WATER = 1024 * 1024;

/**
 * A `send` for the runner over whichever connection is current: false (keep the batch) when
 * there is none, it is closing, or it is backed up.
 */
export function transportSender(current: () => Transport | undefined) {
  return (m: HealthResultsMessage): boolean => {
    const t = current();
    if (!t || !t.open || t.bufferedAmount > SEND_HIGH_WATER) return false;
    t.send(JSON.stringify(m));
    return true;
  };
}
