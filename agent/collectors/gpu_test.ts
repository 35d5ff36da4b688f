import assert from "node:assert/strict";
import { SERIES_KEY } from "../../lib/protocol/metrics.ts";
import { createGpuCollector, findOnPath, NVIDIA_SMI_ARGS, parseNvidiaSmiCsv } from "./gpu.ts";

const CSV = `0, 45, 1024, 16384, 61, 71.35
1, 0, 0, 16384, 34, [N/A]
2, [Not Supported], 512, 8192, [N/A], ERR!
garbage line
`;

Deno.test("parseNvidiaSmiCsv() reads each GPU and skips values nvidia-smi cannot give", () => {
  const s = parseNvidiaSmiCsv(CSV);
  assert.deepEqual(s, {
    "gpu.util_pct{gpu=0}": 45,
    "gpu.mem_used_bytes{gpu=0}": 1024 * 1024 * 1024,
    "gpu.mem_total_bytes{gpu=0}": 16 * 1024 * 1024 * 1024,
    "gpu.temp_c{gpu=0}": 61,
    "gpu.power_w{gpu=0}": 71.35,
    "gpu.util_pct{gpu=1}": 0,
    "gpu.mem_used_bytes{gpu=1}": 0,
    "gpu.mem_total_bytes{gpu=1}": 16 * 1024 * 1024 * 1024,
    "gpu.temp_c{gpu=1}": 34,
    "gpu.mem_used_bytes{gpu=2}": 512 * 1024 * 1024,
    "gpu.mem_total_bytes{gpu=2}": 8 * 1024 * 1024 * 1024,
  });
  for (const k of Object.keys(s)) assert.match(k, SERIES_KEY);
  assert.deepEqual(parseNvidiaSmiCsv(""), {});
  // Windows line endings (nvidia-smi.exe output copied around) parse the same.
  assert.equal(parseNvidiaSmiCsv("0, 1, 2, 3, 4, 5\r\n")["gpu.power_w{gpu=0}"], 5);
});

Deno.test("createGpuCollector() without the binary reports nothing and looks again only rarely", async () => {
  let now = 0;
  let lookups = 0;
  const c = createGpuCollector({
    locate: () => (lookups++, undefined),
    run: () => Promise.reject(new Error("must not run")),
    recheckMs: 60_000,
    monotonic: () => now,
  });
  assert.equal(await c.collect(0), undefined);
  now = 30_000;
  assert.equal(await c.collect(0), undefined);
  assert.equal(lookups, 1);
  now = 61_000;
  await c.collect(0);
  assert.equal(lookups, 2);
});

Deno.test("createGpuCollector() runs the query as an argument array and parses it", async () => {
  const calls: [string, readonly string[]][] = [];
  const c = createGpuCollector({
    locate: () => "/usr/bin/nvidia-smi",
    run: (bin, args) => (calls.push([bin, args]), Promise.resolve(CSV)),
  });
  assert.equal((await c.collect(0))?.["gpu.util_pct{gpu=0}"], 45);
  assert.deepEqual(calls, [["/usr/bin/nvidia-smi", NVIDIA_SMI_ARGS]]);
});

const nvidiaSmi = findOnPath("nvidia-smi");
if (!nvidiaSmi) {
  console.log(
    "[gpu] live test ignored: nvidia-smi is not on PATH (no NVIDIA driver on this machine)",
  );
}

Deno.test({
  name: "createGpuCollector() queries every GPU of the real machine",
  ignore: !nvidiaSmi,
  async fn() {
    const s = (await createGpuCollector().collect(0)) ?? {};
    assert.ok(
      Object.keys(s).some((k) => k.startsWith("gpu.mem_total_bytes{gpu=")),
      JSON.stringify(s),
    );
  },
});

Deno.test("findOnPath() finds executables only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/tool`, "#!/bin/true\n", { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/data`, "x", { mode: 0o644 });
    assert.equal(findOnPath("tool", `/nonexistent:${dir}`), `${dir}/tool`);
    assert.equal(findOnPath("data", dir), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createGpuCollector() runs a real binary and kills one that hangs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Stand-ins for nvidia-smi: one answers only to the exact query, one never answers.
    await Deno.writeTextFile(
      `${dir}/nvidia-smi`,
      `#!/bin/sh\n[ "$1" = "${NVIDIA_SMI_ARGS[0]}" ] && [ "$2" = "${
        NVIDIA_SMI_ARGS[1]
      }" ] && echo "0, 7, 1, 2, 3, 4"\n`,
      { mode: 0o755 },
    );
    await Deno.writeTextFile(`${dir}/hangs`, "#!/bin/sh\nexec sleep 30\n", { mode: 0o755 });
    const ok = createGpuCollector({ locate: () => `${dir}/nvidia-smi` });
    assert.equal((await ok.collect(0))?.["gpu.util_pct{gpu=0}"], 7);
    const started = performance.now();
    const hung = createGpuCollector({ locate: () => `${dir}/hangs`, timeoutMs: 200 });
    assert.equal(await hung.collect(0), undefined);
    assert.ok(performance.now() - started < 5000, "killed at the timeout");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
