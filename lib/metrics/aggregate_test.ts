import assert from "node:assert/strict";
import { type MemberBucket, sumAcrossMembers } from "./aggregate.ts";

const MIN = 60_000;
/** `n` samples of value `v` in the minute starting at `t`. */
const b = (member: string, t: number, v: number, n = 6, key = "ctr.cpu_pct"): MemberBucket => ({
  member,
  key,
  t,
  sum: v * n,
  count: n,
});
const groups: Record<string, string[]> = {
  a: ["svc", "slot1"],
  b: ["svc", "slot2"],
  a2: ["svc", "slot1"],
};

Deno.test("sumAcrossMembers() sums whole buckets per group and keeps replaced members' history", () => {
  const rows = [
    b("a", 0, 10),
    b("b", 0, 20),
    // Slot 1's container is replaced at minute 2: the new one carries on.
    b("a", MIN, 11),
    b("b", MIN, 21),
    b("a2", 2 * MIN, 30),
    b("b", 2 * MIN, 22),
  ];
  const out = sumAcrossMembers(rows, (m) => groups[m], MIN, 0, 3 * MIN);
  const get = (g: string) => out.find((s) => s.group === g)!.points.map((p) => [p[0], p[1]]);
  assert.deepEqual(get("svc"), [[0, 30], [MIN, 32], [2 * MIN, 52]]);
  assert.deepEqual(get("slot1"), [[0, 10], [MIN, 11], [2 * MIN, 30]]);
  assert.deepEqual(get("slot2"), [[0, 20], [MIN, 21], [2 * MIN, 22]]);
});

Deno.test("sumAcrossMembers() weighs a member alive for part of a bucket by its share of it", () => {
  const rows = [
    b("b", 0, 20),
    b("b", MIN, 20),
    // Within minute 1 slot 1's old container ran 3 samples at 10, its replacement 3 at 40.
    b("a", 0, 10),
    b("a", MIN, 10, 3),
    b("a2", MIN, 40, 3),
  ];
  const out = sumAcrossMembers(rows, (m) => groups[m], MIN, 0, 2 * MIN);
  const slot1 = out.find((s) => s.group === "slot1")!.points;
  assert.deepEqual(slot1.map((p) => p[1]), [10, 25], "the time-weighted mean, not 10 + 40");
  const svc = out.find((s) => s.group === "svc")!.points;
  assert.deepEqual(svc.map((p) => p[1]), [30, 45]);
});

Deno.test("sumAcrossMembers() does not read the current (partial) bucket low", () => {
  const rows = [b("a", 0, 10), b("b", 0, 20), b("a", MIN, 10, 2), b("b", MIN, 20, 2)];
  const out = sumAcrossMembers(rows, (m) => groups[m], MIN, 0, 2 * MIN);
  assert.deepEqual(out.find((s) => s.group === "svc")!.points.map((p) => p[1]), [30, 30]);
});

Deno.test("sumAcrossMembers() averages buckets into display steps with min and max, within the range", () => {
  const rows = [b("a", 0, 10), b("a", MIN, 20), b("a", 2 * MIN, 60), b("a", 3 * MIN, 99)];
  const out = sumAcrossMembers(rows, (m) => groups[m], 2 * MIN, 0, 3 * MIN);
  assert.deepEqual(out.find((s) => s.group === "slot1")!.points, [[0, 15, 10, 20], [
    2 * MIN,
    60,
    60,
    60,
  ]]);
  // Pending hours arrive as minute rows of the same bucket: they merge before the sums.
  const hour = 3_600_000;
  const merged = sumAcrossMembers(
    [b("a", 0, 10, 180), b("a", 0, 30, 180), b("b", 0, 5, 360)],
    (m) => groups[m],
    hour,
    0,
    hour,
  );
  assert.deepEqual(merged.find((s) => s.group === "svc")!.points[0].slice(0, 2), [0, 25]);
});
