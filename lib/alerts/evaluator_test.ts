import assert from "node:assert/strict";
import {
  inQuietHours,
  newSubject,
  notificationDue,
  pruneWindow,
  step,
  type ThresholdSpec,
  type Transition,
  withheld,
} from "./evaluator.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const S = 1000;
const cpu: ThresholdSpec = {
  op: ">",
  trigger: 90,
  clear: 80,
  holdMs: 300 * S,
  mode: "instant",
  windowMs: 60 * S,
};

/** Feeds `values` as 1 s samples from `start`; returns [time offset s, transition] pairs. */
function feed(spec: ThresholdSpec, values: number[], st = newSubject(), start = T0) {
  const out: [number, Transition][] = [];
  values.forEach((v, i) => {
    const tr = step(spec, st, start + i * S, v);
    if (tr) out.push([i, tr]);
  });
  return { out, st };
}
const repeat = (v: number, n: number) => Array.from({ length: n }, () => v);

Deno.test("step() fires only after the value stayed beyond the trigger for the hold time", () => {
  const { out, st } = feed(cpu, [50, ...repeat(95, 301)]);
  assert.deepEqual(out, [[1, "pending"], [301, "firing"]]);
  assert.equal(st.state, "firing");
  assert.equal(st.since, T0 + 301 * S);
  // One sample short of the hold: still pending.
  assert.deepEqual(feed(cpu, [50, ...repeat(95, 300)]).out, [[1, "pending"]]);
});

Deno.test("step() pending recovers silently when the value comes back before the hold", () => {
  const { out } = feed(cpu, [...repeat(95, 100), 85, ...repeat(95, 301)]);
  assert.deepEqual(out, [[0, "pending"], [100, "recovered"], [101, "pending"], [401, "firing"]]);
});

Deno.test("step() resolves only past the clear threshold (hysteresis)", () => {
  const spec = { ...cpu, holdMs: 0 };
  const { out } = feed(spec, [95, 85, 89, 80, 81, 95, 79.9, 85, 91]);
  assert.deepEqual(out, [[0, "firing"], [6, "resolved"], [8, "firing"]]);
});

Deno.test("step() does not flap on a stream oscillating around the trigger", () => {
  // ±1 around the trigger every second for an hour: with no hold it fires once and stays firing.
  const osc = Array.from({ length: 3600 }, (_, i) => (i % 2 ? 91 : 89));
  assert.deepEqual(feed({ ...cpu, holdMs: 0 }, osc).out, [[1, "firing"]]);
  // With a hold it never fires: the value never stays above for 5 minutes.
  const held = feed(cpu, osc).out;
  assert.ok(held.every(([, tr]) => tr === "pending" || tr === "recovered"));
  // Noise of ±3 around the trigger for an hour, then around the clear threshold: one alert, one
  // resolution, whatever the noise does.
  let seed = 7;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const noisy = [
    ...Array.from({ length: 3600 }, () => 90 + (rnd() * 6 - 3) + 1.5),
    ...Array.from({ length: 3600 }, () => 80 + (rnd() * 6 - 3)),
  ];
  const notified = feed({ ...cpu, holdMs: 0 }, noisy).out.filter(([, tr]) =>
    tr === "firing" || tr === "resolved"
  );
  assert.deepEqual(notified.map(([, tr]) => tr), ["firing", "resolved"]);
});

Deno.test("step() in avg mode compares the sliding-window mean, once the window is covered", () => {
  const spec: ThresholdSpec = { ...cpu, holdMs: 0, mode: "avg", windowMs: 60 * S };
  // Spikes of 100 for 5 s each minute over a base of 50: the mean stays near 54, never fires,
  // although instant mode fires at the first spike.
  const spiky = Array.from({ length: 600 }, (_, i) => (i % 60 < 5 ? 100 : 50));
  assert.deepEqual(feed(spec, spiky).out, []);
  assert.equal(feed({ ...spec, mode: "instant" }, spiky).out[0][1], "firing");
  // A sustained 95 after a base of 50: the mean crosses 90 when 53 of the last 60 samples are 95
  // (53·95 + 7·50)/60 = 89.75, 54 of them: 90.5.
  const { out, st } = feed(spec, [...repeat(50, 120), ...repeat(95, 120)]);
  assert.deepEqual(out, [[173, "firing"]]);
  assert.ok(st.value! > 90);
  // Not before the window is covered: 40 s of 95 from a cold start is not yet an average.
  assert.deepEqual(feed(spec, repeat(95, 40)).out, []);
  assert.deepEqual(feed(spec, repeat(95, 60)).out, [[54, "firing"]]);
});

Deno.test("step() works on sample time: late, repeated and reordered samples change nothing", () => {
  const st = newSubject();
  assert.equal(step(cpu, st, T0, 95), "pending");
  assert.equal(step(cpu, st, T0, 50), null, "same timestamp again");
  assert.equal(step(cpu, st, T0 - S, 50), null, "older sample");
  // Sparse samples (every 30 s, as after a slow link) count by their own times.
  for (let s = 30; s < 300; s += 30) assert.equal(step(cpu, st, T0 + s * S, 95), null);
  assert.equal(step(cpu, st, T0 + 299 * S, 95), null);
  assert.equal(step(cpu, st, T0 + 300 * S, 95), "firing", "hold measured on sample times");
});

Deno.test("step() restarts a pending hold after a gap in the samples", () => {
  const st = newSubject();
  assert.equal(step(cpu, st, T0, 95), "pending");
  assert.equal(step(cpu, st, T0 + 30 * S, 95), null);
  // Two minutes without samples: nobody saw the value stay high; the hold starts again.
  assert.equal(step(cpu, st, T0 + 150 * S, 95), null);
  assert.equal(st.since, T0 + 150 * S);
  for (let s = 180; s < 450; s += 30) assert.equal(step(cpu, st, T0 + s * S, 95), null);
  assert.equal(step(cpu, st, T0 + 450 * S, 95), "firing");
});

Deno.test("step() with op < fires below the trigger and clears above the clear threshold", () => {
  const spec: ThresholdSpec = { ...cpu, op: "<", trigger: 10, clear: 20, holdMs: 0 };
  assert.deepEqual(feed(spec, [50, 9, 15, 19, 21, 5]).out, [[1, "firing"], [4, "resolved"], [
    5,
    "firing",
  ]]);
});

Deno.test("notificationDue() reminds every repeat interval and sends a withheld first notification later", () => {
  const now = T0;
  assert.equal(notificationDue({ state: "firing", lastNotifiedAt: null }, 0, now), "firing");
  assert.equal(
    notificationDue({ state: "firing", lastNotifiedAt: now - 599 * S }, 600 * S, now),
    null,
  );
  assert.equal(
    notificationDue({ state: "firing", lastNotifiedAt: now - 600 * S }, 600 * S, now),
    "reminder",
  );
  assert.equal(notificationDue({ state: "firing", lastNotifiedAt: now - 9e9 }, 0, now), null);
  assert.equal(notificationDue({ state: "pending", lastNotifiedAt: null }, 60 * S, now), null);
});

Deno.test("inQuietHours() handles spans over midnight and time zone offsets", () => {
  const at = (h: number, m = 0) => Date.UTC(2026, 0, 1, h, m);
  const night = { start: 22 * 60, end: 7 * 60, tzOffsetMin: 0 };
  assert.equal(inQuietHours(night, at(23)), true);
  assert.equal(inQuietHours(night, at(6, 59)), true);
  assert.equal(inQuietHours(night, at(7)), false);
  assert.equal(inQuietHours(night, at(12)), false);
  // 22:00–07:00 in UTC+2 is 20:00–05:00 UTC.
  const cest = { ...night, tzOffsetMin: 120 };
  assert.equal(inQuietHours(cest, at(20, 30)), true);
  assert.equal(inQuietHours(cest, at(5, 30)), false);
  // UTC−5: 22:00 local is 03:00 UTC.
  assert.equal(inQuietHours({ ...night, tzOffsetMin: -300 }, at(3, 30)), true);
  const day = { start: 9 * 60, end: 17 * 60, tzOffsetMin: 0 };
  assert.equal(inQuietHours(day, at(10)), true);
  assert.equal(inQuietHours(day, at(17)), false);
  assert.equal(inQuietHours({ start: 60, end: 60, tzOffsetMin: 0 }, at(1)), false);
  assert.equal(inQuietHours(null, at(1)), false);
});

Deno.test("withheld() gates notifications, never state", () => {
  const base = {
    quiet: null,
    silencedUntil: null,
    acknowledged: false,
    muted: false,
    event: "firing" as const,
  };
  assert.equal(withheld(base, T0), null);
  assert.equal(withheld({ ...base, muted: true }, T0), "muted");
  assert.equal(withheld({ ...base, silencedUntil: T0 + 1 }, T0), "silenced");
  assert.equal(withheld({ ...base, silencedUntil: T0 }, T0), null);
  assert.equal(withheld({ ...base, acknowledged: true }, T0), null, "ack stops reminders only");
  assert.equal(withheld({ ...base, acknowledged: true, event: "reminder" }, T0), "acknowledged");
  const q = { start: 0, end: 1439, tzOffsetMin: 0 };
  assert.equal(withheld({ ...base, quiet: q }, Date.UTC(2026, 0, 1, 12)), "quiet_hours");
});

Deno.test("pruneWindow() keeps the events of the last window", () => {
  const times = [1000, 2000, 3000, 9000];
  assert.deepEqual(pruneWindow(times, 10_000, 8000), [3000, 9000]);
});
