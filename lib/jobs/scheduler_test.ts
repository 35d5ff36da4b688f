import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { recordingLogger } from "../../tests/support/recording_log.ts";
import { runTick } from "./scheduler.ts";

dbTest("runTick() logs a routine completion at debug and a failure at error", async (h) => {
  const clock = manualClock();
  const log = recordingLogger();
  const every = { schedule: "* * * * *", intervalMs: 60_000 };
  await runTick(h.db, clock, { name: "rollup", ...every, run: () => Promise.resolve(3) }, "a", log);
  await runTick(
    h.db,
    clock,
    { name: "purge", ...every, run: () => Promise.reject(new Error("disk full")) },
    "a",
    log,
  );
  // Jobs run every 10 s to every hour: their completions would be most of what info shows.
  assert.deepEqual(log.lines.map((l) => [l.level, l.msg]), [
    ["debug", "job rollup: done"],
    ["error", "job purge: failed"],
  ]);
  assert.equal(log.lines[0].fields?.result, 3);
  assert.equal(typeof log.lines[0].fields?.ms, "number", "how long it took, for debugging");
  assert.equal(log.lines[1].fields?.error, "disk full");
});
