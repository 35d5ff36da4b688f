import * as z from "zod";

/**
 * The metrics report an agent POSTs to `/api/v1/agent/report` (gzip JSON). Each batch carries a
 * sequence number per host; the hub commits a batch before answering and ignores a sequence number
 * it already has, so an agent may retry any batch safely.
 *
 * Series keys are `name` or `name{label=value}`: `cpu.total`, `cpu.core{core=3}`,
 * `fs.used_bytes{mount=/}`, `net.rx_bps{iface=eth0}`, `gpu.util_pct{gpu=0}`.
 */
export const SERIES_KEY = /^[a-z][a-z0-9_.]{0,63}(\{[a-z_]{1,32}=[^{}=,\s"]{1,128}\})?$/;
const CONTAINER_ID = /^[a-f0-9]{64}$/;

type Ctx = z.core.$RefinementCtx<unknown>;
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Checks one record of series values (`{ key: number }`), adding an issue at the key for each bad
 * key or value. One loop instead of `z.record(SeriesKey, z.number().finite())`, which runs two
 * schemas per entry: a report holds ~400 entries, and that was an eighth of the hub's time at full
 * ingest. It accepts and refuses what the record schema did (protocol/metrics_test.ts), except a
 * `__proto__` key, which that schema dropped silently and this one refuses.
 */
function checkSeriesValues(
  r: unknown,
  ctx: Ctx,
  path: PropertyKey[],
  max: number,
  what: string,
): void {
  if (!isPlainObject(r)) {
    ctx.addIssue({ code: "custom", message: "expected an object of series values", path });
    return;
  }
  let n = 0;
  for (const k in r) {
    n++;
    if (!SERIES_KEY.test(k)) {
      ctx.addIssue({
        code: "custom",
        message: "series keys look like name or name{label=value}",
        path: [...path, k],
      });
    }
    const v = r[k];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      ctx.addIssue({ code: "custom", message: "expected a finite number", path: [...path, k] });
    }
  }
  if (n > max) ctx.addIssue({ code: "custom", message: `at most ${max} ${what}`, path });
}

/** A record of series values; see checkSeriesValues. */
const SeriesValues = (max: number, what: string) =>
  z.custom<Record<string, number>>().superRefine((r, ctx) =>
    checkSeriesValues(r, ctx, [], max, what)
  );

/** Per-container series values: at most 1000 containers of 64-hex ids. */
const ContainerValues = z.custom<Record<string, Record<string, number>>>().superRefine(
  (r, ctx) => {
    if (!isPlainObject(r)) {
      ctx.addIssue({ code: "custom", message: "expected an object of containers" });
      return;
    }
    let n = 0;
    for (const id in r) {
      n++;
      if (!CONTAINER_ID.test(id)) {
        ctx.addIssue({ code: "custom", message: "a container id is 64 hex digits", path: [id] });
      }
      checkSeriesValues(r[id], ctx, [id], Infinity, "series");
    }
    if (n > 1000) ctx.addIssue({ code: "custom", message: "at most 1000 containers" });
  },
);

export const MetricsSample = z.object({
  /** Sample time, ms since the epoch (the agent's clock). */
  t: z.number().int().min(0),
  host: SeriesValues(512, "host series"),
  /** Per-container series, present on the samples where containers were collected (every 10 s by default). */
  containers: ContainerValues.optional(),
});
export type MetricsSample = z.infer<typeof MetricsSample>;

/** A spool epoch: a random id the agent creates with its spool. */
export const EPOCH = /^[A-Za-z0-9_-]{8,64}$/;

export const MetricsBatch = z.object({
  /**
   * The epoch of the spool that numbered this batch. Sequence numbers are unique per (host,
   * epoch): a new spool (its directory removed, a reinstall) starts again at 0 in a new epoch, and
   * its batches are stored rather than taken for retries of old ones. Agents before epochs send none.
   */
  epoch: z.string().regex(EPOCH, "an epoch is 8 to 64 letters, digits, - or _").optional(),
  seq: z.number().int().min(0),
  /** Batches the agent's spool dropped (oldest first) since it started counting; reported, never hidden. */
  dropped: z.number().int().min(0).default(0),
  /**
   * Built in memory because the spool could not be written: its epoch lives only as long as the
   * agent process, so it is not the spool's epoch (the hub does not take it for a new spool).
   */
  memory: z.boolean().optional(),
  samples: z.array(MetricsSample).max(3600),
});
export type MetricsBatch = z.infer<typeof MetricsBatch>;

/** Samples stamped further ahead of the hub's clock than this are refused (a broken agent clock). */
export const MAX_FUTURE_MS = 5 * 60_000;

/**
 * The hub's answer: the batch is committed (or was already). `refused` counts the samples it did
 * not store because they were dated more than 5 minutes ahead of the hub's clock (`future`) or
 * before the raw retention window (`old`); `skew_ms` is the agent's clock minus the hub's as the
 * hub saw it (from the agent-time header; null without one).
 */
export const ReportAck = z.object({
  seq: z.number().int(),
  duplicate: z.boolean(),
  refused: z.object({ future: z.number().int(), old: z.number().int() }).optional(),
  skew_ms: z.number().int().nullable().optional(),
});
export type ReportAck = z.infer<typeof ReportAck>;

/**
 * Request headers of a report, set when it is sent (the body is the spooled batch as it was built):
 * the agent's machine id (the host token is bound to it, as on the WebSocket), the agent's clock
 * (ms since the epoch) for the skew, the samples it has lost since it started, and what is wrong on
 * its side (URI-encoded text; absent when nothing is).
 */
export const REPORT_HEADERS = {
  machineId: "x-capstan-machine-id",
  agentTime: "x-capstan-agent-time",
  lost: "x-capstan-samples-lost",
  problem: "x-capstan-metrics-problem",
} as const;

/** Longest problem text the hub keeps. */
export const MAX_PROBLEM_CHARS = 300;

/** What an agent says about itself with a report. */
export interface ReportMeta {
  machineId?: string;
  /** The agent's clock when it sent the report, ms since the epoch. */
  agentTime?: number;
  /** Samples the agent has lost since it started. */
  lost?: number;
  /** What is wrong on the agent's side (null: nothing). */
  problem?: string | null;
}

/** The headers an agent sends its report with. */
export function reportHeaders(meta: ReportMeta): Record<string, string> {
  const h: Record<string, string> = {};
  if (meta.machineId) h[REPORT_HEADERS.machineId] = meta.machineId;
  if (meta.agentTime !== undefined) {
    h[REPORT_HEADERS.agentTime] = String(Math.round(meta.agentTime));
  }
  if (meta.lost) h[REPORT_HEADERS.lost] = String(meta.lost);
  if (meta.problem) {
    h[REPORT_HEADERS.problem] = encodeURIComponent(meta.problem.slice(0, MAX_PROBLEM_CHARS));
  }
  return h;
}

const HeaderCount = z.string().regex(/^\d{1,15}$/).transform(Number);

/** Reads what an agent said about itself from a report's headers; malformed values are left out. */
export function readReportMeta(headers: Headers): ReportMeta {
  const value = (name: string) => headers.get(name) ?? undefined;
  let problem: string | null = null;
  const raw = value(REPORT_HEADERS.problem);
  if (raw) {
    try {
      problem = decodeURIComponent(raw);
    } catch {
      problem = raw;
    }
    problem = problem.slice(0, MAX_PROBLEM_CHARS);
  }
  return {
    machineId: value(REPORT_HEADERS.machineId),
    agentTime: HeaderCount.safeParse(value(REPORT_HEADERS.agentTime)).data,
    lost: HeaderCount.safeParse(value(REPORT_HEADERS.lost)).data,
    problem,
  };
}

/** Largest compressed report body the hub accepts, and largest after decompression. */
export const MAX_REPORT_BYTES = 1024 * 1024;
export const MAX_REPORT_INFLATED_BYTES = 32 * 1024 * 1024;
