/**
 * The tables that hold the raw metrics tier (every stored sample at full resolution, before
 * rollups), so storage figures (bench/raw_tier_bench.ts: bytes per stored sample) measure whichever
 * of them exist: today's row-per-sample `metric_raw`, and the compressed chunks that replace it
 * once their table is added here. Rollup tiers (`metric_1m`, `metric_1h`) are not raw.
 */
export const RAW_TIER_TABLES = ["metric_raw"] as const;
