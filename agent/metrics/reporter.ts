/**
 * Turns samples into report batches and delivers them. Every `reportIntervalMs` the buffered
 * samples become one batch {seq, dropped, samples}, gzip-compressed straight into the spool; a
 * sender loop POSTs the spooled batches strictly in order to `<hub>/api/v1/agent/report`. The hub
 * commits before it answers and ignores a seq it already has, so every failure is handled by
 * sending the same bytes again:
 *
 * - 2xx: committed, the batch leaves the spool;
 * - network error, timeout, 5xx, 408, 429: retried with exponential backoff and jitter (cap 60 s)
 *   while new batches keep spooling behind it;
 * - 401/403: the host token was revoked: sending stops with a clear error (sampling goes on into
 *   the bounded spool until the agent is stopped or re-enrolled);
 * - any other 4xx: the hub will never take this batch; it is dropped and counted, so one poison
 *   batch cannot block the queue forever.
 *
 * When the spool cannot be written (a read-only or full state dir) batches are kept in a bounded
 * memory queue instead and sent from there, numbered in an epoch of their own that lives as long
 * as the process (so a restart can never reuse their seqs); what falls off the bound is counted as
 * lost. Every POST says, in headers, the machine id, the agent's clock, the samples lost so far and
 * what is wrong (the spool), and the hub's answer says how many samples it refused and how far off
 * it saw this clock: both are logged.
 */
import type { Logger } from "../../lib/log.ts";
import { type MetricsSample, ReportAck, reportHeaders } from "../../lib/protocol/metrics.ts";
import { type Backoff, createBackoff } from "../backoff.ts";
import { type MetricsClock, systemClock } from "./clock.ts";
import { newEpoch, type Spool, type SpoolStats } from "./spool.ts";

/** Options of the reporter. */
export interface ReporterOptions {
  /** Origin (and optional path prefix) of the hub. */
  hubUrl: string;
  /** The host token. */
  token: string;
  /** The machine id the host token is bound to (sent with every report). */
  machineId?: string;
  spool: Spool;
  /** Default 10000. */
  reportIntervalMs?: number;
  fetch?: typeof fetch;
  log?: Logger;
  clock?: MetricsClock;
  /** Retry delays; default full-jitter exponential from 1 s, capped at 60 s. */
  backoff?: Backoff;
  /** How long one POST may take. Default 30 s. */
  requestTimeoutMs?: number;
  /** Called once when the hub refuses the token (401/403). */
  onUnauthorized?: (status: number) => void;
  /** Sending waits for this (batches are spooled meanwhile): the embedded agent before it knows its host. */
  ready?: Promise<unknown>;
}

/** Where delivery stands. */
export type ReporterState = "idle" | "sending" | "retrying" | "unauthorized" | "stopped";

/** Counters of the reporter. */
export interface ReporterStats {
  state: ReporterState;
  /** Samples waiting for the next batch. */
  buffered: number;
  batchesSpooled: number;
  batchesSent: number;
  /** Batches the hub refused for good (4xx other than auth) and that were dropped. */
  batchesPoisoned: number;
  /** Failed attempts (each retried). */
  sendFailures: number;
  /** Samples lost: over the memory bound while the spool could not be written, or refused for good. */
  samplesLost: number;
  /** Batches waiting in memory because the spool could not be written. */
  memoryBatches: number;
  /** Why the spool cannot be written, while it cannot. */
  spoolError?: string;
  /** Agent clock minus hub clock as the hub last saw it, ms. */
  skewMs?: number | null;
  /** Samples the hub refused (dated > 5 min ahead, or before its raw retention window). */
  samplesRefused: number;
  lastSentSeq?: number;
  lastError?: string;
  spool: SpoolStats;
}

/** A running reporter. */
export interface Reporter {
  /** Buffers one sample for the next batch. */
  add(sample: MetricsSample): void;
  /** Spools the buffered samples now (also done on every report interval and on stop). */
  flush(): Promise<void>;
  start(): void;
  /** Stops sending (an in-flight POST is abandoned; its batch stays spooled) and spools the buffer. */
  stop(): Promise<void>;
  stats(): ReporterStats;
}

/** The protocol's cap of samples per batch. */
const MAX_SAMPLES = 3600;
/** Batches are split well below the hub's inflated-size limit (32 MiB). */
const MAX_JSON_CHARS = 8 * 1024 * 1024;
/** Samples kept in memory while the spool cannot be written (an hour at 1 s). */
const MAX_BUFFERED = 3600;
/** A clock further off the hub's than this is logged. */
const SKEW_LOG_MS = 2000;
/** Refused samples are logged at most this often. */
const REFUSED_LOG_MS = 600_000;

/** gzip-compresses text with the platform's CompressionStream. */
export async function gzip(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Splits samples into batch-sized groups, each with its samples already serialised. */
export function chunkSamples(samples: MetricsSample[]): { json: string; count: number }[] {
  const out: { json: string; count: number }[] = [];
  const split = (group: MetricsSample[]) => {
    const json = JSON.stringify(group);
    if (json.length > MAX_JSON_CHARS && group.length > 1) {
      const half = Math.ceil(group.length / 2);
      split(group.slice(0, half));
      split(group.slice(half));
    } else out.push({ json, count: group.length });
  };
  for (let i = 0; i < samples.length; i += MAX_SAMPLES) split(samples.slice(i, i + MAX_SAMPLES));
  return out;
}

/** Creates a reporter; call start() to begin batching and sending. */
export function createReporter(opts: ReporterOptions): Reporter {
  const { spool } = opts;
  const clock = opts.clock ?? systemClock;
  const log = opts.log;
  const doFetch = opts.fetch ?? fetch;
  const backoff = opts.backoff ?? createBackoff({ baseMs: 1000, capMs: 60_000 });
  const url = `${opts.hubUrl.replace(/\/+$/, "")}/api/v1/agent/report`;
  const headers = {
    "content-type": "application/json",
    "content-encoding": "gzip",
    authorization: `Bearer ${opts.token}`,
  };
  const stopping = new AbortController();
  let buffer: MetricsSample[] = [];
  // Batches built while the spool could not be written, oldest first, in an epoch of this process.
  const memory: { seq: number; bytes: Uint8Array<ArrayBuffer>; count: number }[] = [];
  let memorySamples = 0;
  let memoryEpoch: string | undefined;
  let memorySeq = 0;
  let state: ReporterState = "idle";
  let wake: (() => void) | undefined;
  let loops: Promise<void> | undefined;
  let flushing: Promise<void> = Promise.resolve();
  const stats = {
    batchesSpooled: 0,
    batchesSent: 0,
    batchesPoisoned: 0,
    sendFailures: 0,
    samplesLost: 0,
    samplesRefused: 0,
    spoolError: undefined as string | undefined,
    skewMs: undefined as number | null | undefined,
    lastSentSeq: undefined as number | undefined,
    lastError: undefined as string | undefined,
  };
  let refusedLoggedAt = -Infinity;
  let skewLogged: number | null = null;

  /** Keeps a batch in memory (the spool failed), dropping the oldest over the bound. */
  const keepInMemory = async (json: string, count: number) => {
    memoryEpoch ??= newEpoch();
    const seq = memorySeq++;
    const dropped = spool.stats().dropped;
    const bytes = await gzip(
      `{"epoch":"${memoryEpoch}","seq":${seq},"dropped":${dropped},"memory":true,"samples":${json}}`,
    );
    memory.push({ seq, bytes, count });
    memorySamples += count;
    while (memorySamples > MAX_BUFFERED && memory.length > 1) {
      const old = memory.shift()!;
      memorySamples -= old.count;
      stats.samplesLost += old.count;
    }
    wake?.();
  };

  const spoolBuffered = async () => {
    if (!buffer.length) return;
    const samples = buffer;
    buffer = [];
    // Each flush tries the spool first: a state dir that is writable again is used again.
    let spoolOk = true;
    for (const { json, count } of chunkSamples(samples)) {
      if (spoolOk) {
        try {
          await spool.append((seq, dropped, epoch) =>
            gzip(`{"epoch":"${epoch}","seq":${seq},"dropped":${dropped},"samples":${json}}`)
          );
          if (stats.spoolError !== undefined) {
            log?.info("metrics: the spool can be written again");
            stats.spoolError = undefined;
          }
          stats.batchesSpooled++;
          wake?.();
          continue;
        } catch (err) {
          // Read-only or full state dir: send from memory rather than not at all.
          const why = err instanceof Error ? err.message : String(err);
          if (stats.spoolError === undefined) {
            log?.error("metrics: cannot write to the spool; sending from memory", { error: why });
          }
          stats.spoolError = why;
          spoolOk = false;
        }
      }
      await keepInMemory(json, count);
    }
  };
  // Serialised: the timer and stop() may both flush.
  const flush = () => (flushing = flushing.then(spoolBuffered));

  const batchLoop = async () => {
    while (!stopping.signal.aborted) {
      await clock.sleep(opts.reportIntervalMs ?? 10_000, stopping.signal);
      if (!stopping.signal.aborted) await flush();
    }
  };

  const idle = () =>
    new Promise<void>((resolve) => {
      if (stopping.signal.aborted) return resolve();
      wake = resolve;
      stopping.signal.addEventListener("abort", () => resolve(), { once: true });
    }).finally(() => (wake = undefined));

  const retryAfter = (res: Response) => {
    const s = Number(res.headers.get("retry-after"));
    return Number.isFinite(s) && s > 0 ? Math.min(60_000, s * 1000) : undefined;
  };

  /** What is wrong on this side, for the hub's host page; undefined when nothing is. */
  const problem = () =>
    stats.spoolError === undefined
      ? undefined
      : `the agent cannot write its metrics spool (${stats.spoolError}); it sends from memory, ` +
        `keeping at most ${MAX_BUFFERED} samples while the hub is unreachable`;

  /** Logs what the hub said about this agent's clock and samples. */
  const readAck = (text: string) => {
    let ack: ReportAck;
    try {
      ack = ReportAck.parse(JSON.parse(text));
    } catch {
      return;
    }
    const refused = (ack.refused?.future ?? 0) + (ack.refused?.old ?? 0);
    stats.samplesRefused += refused;
    if (ack.skew_ms !== undefined) stats.skewMs = ack.skew_ms;
    const skew = ack.skew_ms ?? null;
    if (skew !== null && Math.abs(skew) >= SKEW_LOG_MS) {
      if (skewLogged === null || Math.abs(skew - skewLogged) >= SKEW_LOG_MS) {
        log?.warn(
          `metrics: this host's clock is ${Math.round(Math.abs(skew) / 1000)} s ${
            skew > 0 ? "ahead of" : "behind"
          } the hub's; sync it (NTP): samples dated more than 5 minutes ahead are refused`,
          { skew_ms: skew },
        );
        skewLogged = skew;
      }
    } else if (skew !== null && skewLogged !== null) {
      log?.info("metrics: this host's clock agrees with the hub's again", { skew_ms: skew });
      skewLogged = null;
    }
    if (refused > 0 && clock.monotonic() - refusedLoggedAt >= REFUSED_LOG_MS) {
      refusedLoggedAt = clock.monotonic();
      log?.warn("metrics: the hub refused samples dated outside what it keeps", {
        future: ack.refused?.future,
        too_old: ack.refused?.old,
        skew_ms: skew,
        refused_total: stats.samplesRefused,
      });
    }
  };

  /** The oldest batch to send: the spool's first, then what waits in memory. */
  const nextBatch = async () => {
    let head: { seq: number; bytes: Uint8Array<ArrayBuffer> } | undefined;
    try {
      head = await spool.peek();
    } catch (err) {
      if (!memory.length) throw err;
      stats.spoolError ??= err instanceof Error ? err.message : String(err);
    }
    if (head) return { ...head, fromMemory: false };
    return memory.length ? { ...memory[0], fromMemory: true } : undefined;
  };
  const done = async (head: { seq: number; fromMemory: boolean }, poisoned: boolean) => {
    if (!head.fromMemory) {
      return poisoned ? await spool.discard(head.seq) : await spool.ack(head.seq);
    }
    const i = memory.findIndex((m) => m.seq === head.seq);
    if (i < 0) return;
    const [m] = memory.splice(i, 1);
    memorySamples -= m.count;
    if (poisoned) stats.samplesLost += m.count;
  };

  let failing = false;
  /** One step of the sender: sends the oldest batch, or waits for one; false to stop sending. */
  const sendOne = async (): Promise<boolean> => {
    const head = await nextBatch();
    if (!head) {
      state = "idle";
      await idle();
      return true;
    }
    state = failing ? "retrying" : "sending";
    let res: Response;
    try {
      res = await doFetch(url, {
        method: "POST",
        headers: {
          ...headers,
          ...reportHeaders({
            machineId: opts.machineId,
            agentTime: clock.now(),
            lost: stats.samplesLost,
            problem: problem(),
          }),
        },
        body: head.bytes,
        signal: AbortSignal.any([
          stopping.signal,
          AbortSignal.timeout(opts.requestTimeoutMs ?? 30_000),
        ]),
      });
    } catch (err) {
      if (stopping.signal.aborted) return false;
      stats.sendFailures++;
      stats.lastError = `POST ${url} failed: ${err instanceof Error ? err.message : err}`;
      if (!failing) {
        log?.warn("metrics: hub unreachable, batches stay spooled", { error: stats.lastError });
      }
      failing = true;
      state = "retrying";
      await clock.sleep(backoff.next(), stopping.signal);
      return true;
    }
    const text = await res.text().catch(() => "");
    if (res.ok) {
      await done(head, false);
      readAck(text);
      stats.batchesSent++;
      stats.lastSentSeq = head.seq;
      backoff.reset();
      if (failing) {
        log?.info("metrics: hub reachable again", {
          queued: spool.stats().batches + memory.length,
        });
      }
      failing = false;
      return true;
    }
    const detail = text.slice(0, 300);
    if (res.status === 401 || res.status === 403) {
      state = "unauthorized";
      stats.lastError = `The hub refused the host token (HTTP ${res.status}): it was revoked, ` +
        `the host was removed or the token is bound to another machine (${detail}); metrics stay ` +
        `spooled and are no longer sent`;
      log?.error(`metrics: ${stats.lastError}`);
      opts.onUnauthorized?.(res.status);
      return false;
    }
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      await done(head, true);
      stats.batchesPoisoned++;
      stats.lastError = `The hub refused batch ${head.seq} (HTTP ${res.status}): ${detail}`;
      log?.error(`metrics: ${stats.lastError}; dropped it`);
      return true;
    }
    stats.sendFailures++;
    stats.lastError = `The hub answered HTTP ${res.status} to batch ${head.seq}: ${detail}`;
    if (!failing) log?.warn(`metrics: ${stats.lastError}; retrying`);
    failing = true;
    state = "retrying";
    await clock.sleep(retryAfter(res) ?? backoff.next(), stopping.signal);
    return true;
  };

  const sendLoop = async () => {
    if (opts.ready) {
      await Promise.race([
        opts.ready,
        new Promise((r) => stopping.signal.addEventListener("abort", r, { once: true })),
      ]);
    }
    while (!stopping.signal.aborted) {
      try {
        if (!(await sendOne())) return;
      } catch (err) {
        // The spool itself failed (disk error): say so, and try again later rather than die.
        if (stopping.signal.aborted) return;
        stats.lastError = `metrics spool failed: ${err instanceof Error ? err.message : err}`;
        log?.error(stats.lastError);
        await clock.sleep(backoff.next(), stopping.signal);
      }
    }
  };

  return {
    add(sample) {
      buffer.push(sample);
      if (buffer.length > MAX_BUFFERED) {
        buffer.shift();
        stats.samplesLost++;
      }
    },
    flush,
    start() {
      loops ??= Promise.all([batchLoop(), sendLoop()]).then(() => {});
    },
    async stop() {
      stopping.abort();
      await loops;
      await flush();
      if (memorySamples > 0) {
        // Only the spool outlives the process.
        log?.warn("metrics: samples kept in memory (the spool could not be written) are lost", {
          samples: memorySamples,
        });
        stats.samplesLost += memorySamples;
      }
      state = "stopped";
    },
    stats: () => ({
      ...stats,
      state,
      buffered: buffer.length,
      memoryBatches: memory.length,
      spool: spool.stats(),
    }),
  };
}
