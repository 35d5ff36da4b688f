/**
 * The tables that hold the raw metrics tier (every stored sample at full resolution, before
 * rollups), so storage figures (bench/raw_tier_bench.ts: bytes per stored sample) measure all of
 * them: the compressed chunks (chunks.ts) and the old row-per-sample `metric_raw`, empty once the
 * conversion job is done. Rollup tiers (`metric_1m`, `metric_1h`) are not raw.
 */
// The head (head.ts) holds each report's samples until compaction moves them into chunks: raw
// samples too, so measured with them (near empty once compaction has run).
export const RAW_TIER_TABLES = ["metric_chunks", "metric_head", "metric_raw"] as const;
