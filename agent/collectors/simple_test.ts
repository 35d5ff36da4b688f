import assert from "node:assert/strict";
import { createLoadCollector, parseLoadavg } from "./load.ts";
import { createMemoryCollector, memorySeries, parseMeminfo } from "./memory.ts";
import { parseUptime } from "./uptime.ts";

const MEMINFO = `MemTotal:       16000000 kB
MemFree:         2000000 kB
MemAvailable:   10000000 kB
Buffers:          500000 kB
Cached:          6000000 kB
SwapCached:            0 kB
SReclaimable:     400000 kB
SwapTotal:       4000000 kB
SwapFree:        3000000 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
`;

Deno.test("parseLoadavg() reads the three averages", () => {
  assert.deepEqual(parseLoadavg("1.27 1.67 1.36 2/145 1432\n"), {
    "load.1": 1.27,
    "load.5": 1.67,
    "load.15": 1.36,
  });
  assert.equal(parseLoadavg("garbage"), undefined);
});

Deno.test("parseUptime() reports whole seconds", () => {
  assert.deepEqual(parseUptime("2117.41 2776.99\n"), { "host.uptime_s": 2117 });
  assert.equal(parseUptime(""), undefined);
});

Deno.test("memorySeries() derives used from total − available and reads swap", () => {
  const m = parseMeminfo(MEMINFO);
  assert.equal(m.get("HugePages_Total"), 0, "a count without kB is not scaled");
  const s = memorySeries(m)!;
  const KiB = 1024;
  assert.equal(s["mem.total_bytes"], 16000000 * KiB);
  assert.equal(s["mem.available_bytes"], 10000000 * KiB);
  assert.equal(s["mem.used_bytes"], 6000000 * KiB);
  assert.equal(s["mem.used_pct"], 37.5);
  assert.equal(s["mem.cached_bytes"], 6900000 * KiB);
  assert.equal(s["swap.total_bytes"], 4000000 * KiB);
  assert.equal(s["swap.used_bytes"], 1000000 * KiB);
});

Deno.test("memorySeries() estimates available on kernels without MemAvailable", () => {
  const s = memorySeries(parseMeminfo(MEMINFO.replace(/^MemAvailable.*\n/m, "")))!;
  assert.equal(s["mem.available_bytes"], 8500000 * 1024);
  assert.equal(memorySeries(new Map()), undefined);
});

Deno.test("createLoadCollector() and createMemoryCollector() read below an injected root", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/proc`);
    await Deno.writeTextFile(`${root}/proc/loadavg`, "0.5 0.25 0.125 1/1 1\n");
    await Deno.writeTextFile(`${root}/proc/meminfo`, MEMINFO);
    assert.equal((await createLoadCollector({ root }).collect(0))?.["load.15"], 0.125);
    assert.equal((await createMemoryCollector({ root }).collect(0))?.["mem.used_pct"], 37.5);
    assert.equal(await createLoadCollector({ root: `${root}/nope` }).collect(0), undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
