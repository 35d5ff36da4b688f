import assert from "node:assert/strict";
import { agedStatus, humanDuration, parseHumanDuration } from "./container_status.ts";

const MIN = 60_000;

Deno.test("humanDuration() words durations as Docker does", () => {
  assert.equal(humanDuration(500), "Less than a second");
  assert.equal(humanDuration(1000), "1 second");
  assert.equal(humanDuration(59_000), "59 seconds");
  assert.equal(humanDuration(MIN), "About a minute");
  assert.equal(humanDuration(19 * MIN), "19 minutes");
  assert.equal(humanDuration(60 * MIN), "About an hour");
  assert.equal(humanDuration(5 * 60 * MIN), "5 hours");
  assert.equal(humanDuration(3 * 24 * 60 * MIN), "3 days");
  assert.equal(humanDuration(20 * 24 * 60 * MIN), "2 weeks");
  assert.equal(humanDuration(90 * 24 * 60 * MIN), "3 months");
  assert.equal(humanDuration(800 * 24 * 60 * MIN), "2 years");
});

Deno.test("parseHumanDuration() reads Docker's words back as the shortest such duration", () => {
  assert.equal(parseHumanDuration("About a minute"), MIN);
  assert.equal(parseHumanDuration("1 second"), 1000);
  assert.equal(parseHumanDuration("4 weeks"), 28 * 24 * 60 * MIN);
  assert.equal(parseHumanDuration("soon"), undefined);
});

Deno.test("agedStatus() ages relative status texts and leaves the others alone", () => {
  const at = Date.UTC(2026, 0, 1);
  const later = at + 18 * MIN;
  assert.equal(agedStatus("Exited (1) About a minute ago", at, later), "Exited (1) 19 minutes ago");
  assert.equal(agedStatus("Exited (-1) 2 seconds ago", at, later), "Exited (-1) 18 minutes ago");
  assert.equal(agedStatus("Up Less than a second", at, later), "Up 18 minutes");
  assert.equal(
    agedStatus("Up 2 hours (health: starting)", at, later),
    "Up 2 hours (health: starting)",
  );
  assert.equal(agedStatus("Up 5 minutes (Paused)", at, later), "Up 23 minutes (Paused)");
  assert.equal(
    agedStatus("Restarting (2) 3 seconds ago", at, later),
    "Restarting (2) 18 minutes ago",
  );
  for (const s of ["Created", "Dead", "Removal In Progress", "", "Up to no good"]) {
    assert.equal(agedStatus(s, at, later), s);
  }
  assert.equal(agedStatus("Up 5 minutes", at, at - 1000), "Up 5 minutes", "a clock behind");
});
