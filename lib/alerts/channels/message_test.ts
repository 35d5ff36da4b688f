import assert from "node:assert/strict";
import { formatDuration } from "./message.ts";

Deno.test("formatDuration() shows at most two units and leaves a zero one out", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [59_000, "59s"],
    [300_000, "5m"],
    [330_000, "5m 30s"],
    [7_200_000, "2h"],
    [7_260_000, "2h 1m"],
    [86_400_000, "1d"],
    [100_800_000, "1d 4h"],
  ];
  for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
});
