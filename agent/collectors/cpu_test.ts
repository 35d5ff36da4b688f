import assert from "node:assert/strict";
import { SERIES_KEY } from "../../lib/protocol/metrics.ts";
import { cpuSeries, createCpuCollector, parseProcStat } from "./cpu.ts";

const A = `cpu  1000 0 500 8000 100 0 0 0 0 0
cpu0 500 0 250 4000 50 0 0 0 0 0
cpu1 500 0 250 4000 50 0 0 0 0 0
intr 2567189 0 0 0
ctxt 6278614
btime 1700000000
`;
// +1000 ticks overall: user +300 (of which nice 100), system +100, irq +50, idle +400, iowait +50,
// steal +100; cpu0 fully busy, cpu1 mostly idle.
const B = `cpu  1200 100 600 8400 150 50 0 100 0 0
cpu0 700 100 300 4000 50 50 0 100 0 0
cpu1 500 0 300 4400 100 0 0 0 0 0
`;

Deno.test("parseProcStat() reads the aggregate and per-core lines", () => {
  const s = parseProcStat(A);
  assert.deepEqual(s.total, [1000, 0, 500, 8000, 100, 0, 0, 0]);
  assert.deepEqual([...s.cores.keys()], [0, 1]);
  // Old kernels without the steal column still parse.
  assert.deepEqual(parseProcStat("cpu 1 2 3 4\n").total, [1, 2, 3, 4, 0, 0, 0, 0]);
});

Deno.test("cpuSeries() splits busy time into user, system, iowait and steal", () => {
  const s = cpuSeries(parseProcStat(A), parseProcStat(B));
  assert.equal(s["cpu.total_pct"], 55); // 1000 - 400 idle - 50 iowait
  assert.equal(s["cpu.user_pct"], 30);
  assert.equal(s["cpu.system_pct"], 15);
  assert.equal(s["cpu.iowait_pct"], 5);
  assert.equal(s["cpu.steal_pct"], 10);
  assert.equal(s["cpu.core_pct{core=0}"], 100);
  assert.equal(s["cpu.core_pct{core=1}"], 10);
  for (const k of Object.keys(s)) assert.match(k, SERIES_KEY);
});

Deno.test("cpuSeries() restarts the baseline when counters go backwards (reboot), no spike", () => {
  const rebooted =
    `cpu  10 0 5 80 1 0 0 0 0 0\ncpu0 5 0 2 40 0 0 0 0 0 0\ncpu1 5 0 3 40 1 0 0 0 0 0\n`;
  assert.deepEqual(cpuSeries(parseProcStat(B), parseProcStat(rebooted)), {});
});

Deno.test("cpuSeries() clamps a few ticks of iowait stepping back instead of dropping the sample", () => {
  const prev = parseProcStat("cpu  100 0 100 1000 50 0 0 0\n");
  const cur = parseProcStat("cpu  150 0 150 1100 49 0 0 0\n");
  const s = cpuSeries(prev, cur);
  assert.equal(s["cpu.iowait_pct"], 0);
  assert.equal(s["cpu.total_pct"], 50);
});

Deno.test("cpuSeries() leaves out a core that was not there at the previous read (hotplug)", () => {
  const prev = parseProcStat("cpu  0 0 0 100 0 0 0 0\ncpu0 0 0 0 100 0 0 0 0\n");
  const cur = parseProcStat(
    "cpu  10 0 0 190 0 0 0 0\ncpu0 10 0 0 190 0 0 0 0\ncpu1 0 0 0 5 0 0 0 0\n",
  );
  const s = cpuSeries(prev, cur);
  assert.equal(s["cpu.core_pct{core=0}"], 10);
  assert.equal(s["cpu.core_pct{core=1}"], undefined);
});

Deno.test("createCpuCollector() reads <root>/proc/stat and reports from the second read", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/proc`);
    await Deno.writeTextFile(`${root}/proc/stat`, A);
    const c = createCpuCollector({ root });
    assert.equal(await c.collect(0), undefined);
    await Deno.writeTextFile(`${root}/proc/stat`, B);
    assert.equal((await c.collect(1000))?.["cpu.total_pct"], 55);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
