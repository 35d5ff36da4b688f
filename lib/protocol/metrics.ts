import { z } from "zod";

/**
 * The metrics report an agent POSTs to `/api/v1/agent/report` (gzip JSON). Each batch carries a
 * sequence number per host; the hub commits a batch before answering and ignores a sequence number
 * it already has, so an agent may retry any batch safely.
 *
 * Series keys are `name` or `name{label=value}`: `cpu.total`, `cpu.core{core=3}`,
 * `fs.used_bytes{mount=/}`, `net.rx_bps{iface=eth0}`, `gpu.util_pct{gpu=0}`.
 */
export const SERIES_KEY = /^[a-z][a-z0-9_.]{0,63}(\{[a-z_]{1,32}=[^{}=,\s"]{1,128}\})?$/;
export const SeriesKey = z.string().regex(
  SERIES_KEY,
  "series keys look like name or name{label=value}",
);
const ContainerId = z.string().regex(/^[a-f0-9]{64}$/);

export const MetricsSample = z.object({
  /** Sample time, ms since the epoch (the agent's clock). */
  t: z.number().int().min(0),
  host: z.record(SeriesKey, z.number().finite()).refine(
    (r) => Object.keys(r).length <= 512,
    "at most 512 host series",
  ),
  /** Per-container series, present on the samples where containers were collected (every 10 s by default). */
  containers: z.record(ContainerId, z.record(SeriesKey, z.number().finite())).refine(
    (r) => Object.keys(r).length <= 1000,
    "at most 1000 containers",
  ).optional(),
});
export type MetricsSample = z.infer<typeof MetricsSample>;

export const MetricsBatch = z.object({
  seq: z.number().int().min(0),
  /** Batches the agent's spool dropped (oldest first) since it started counting; reported, never hidden. */
  dropped: z.number().int().min(0).default(0),
  samples: z.array(MetricsSample).max(3600),
});
export type MetricsBatch = z.infer<typeof MetricsBatch>;

/** The hub's answer: the batch is committed (or was already). */
export const ReportAck = z.object({ seq: z.number().int(), duplicate: z.boolean() });
export type ReportAck = z.infer<typeof ReportAck>;

/** Largest compressed report body the hub accepts, and largest after decompression. */
export const MAX_REPORT_BYTES = 1024 * 1024;
export const MAX_REPORT_INFLATED_BYTES = 32 * 1024 * 1024;
