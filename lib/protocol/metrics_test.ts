import assert from "node:assert/strict";
import * as z from "zod";
import { MetricsBatch, SERIES_KEY } from "./metrics.ts";

// The schema as it was written with z.record before the one-loop check replaced it for speed: the
// new one must accept and refuse the same reports, at the same fields.
const Reference = z.object({
  epoch: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/).optional(),
  seq: z.number().int().min(0),
  dropped: z.number().int().min(0).default(0),
  memory: z.boolean().optional(),
  samples: z.array(z.object({
    t: z.number().int().min(0),
    host: z.record(z.string().regex(SERIES_KEY), z.number().finite()).refine(
      (r) => Object.keys(r).length <= 512,
    ),
    containers: z.record(
      z.string().regex(/^[a-f0-9]{64}$/),
      z.record(z.string().regex(SERIES_KEY), z.number().finite()),
    ).refine((r) => Object.keys(r).length <= 1000).optional(),
  })).max(3600),
});

const C = "a".repeat(64);
const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`m.k${i}`, i]));
const sample = (extra: Record<string, unknown>) => ({
  t: 1,
  host: { "cpu.total_pct": 1 },
  ...extra,
});
const cases: Record<string, unknown> = {
  "a realistic report": {
    seq: 3,
    epoch: "epoch-0001",
    samples: [
      sample({ containers: { [C]: { "c.m0": 1.5, "mem.used_bytes": 9e9 } } }),
      { t: 2, host: { "net.rx_bps{iface=eth0}": 0, "fs.used_pct{mount=/}": 12.5 } },
    ],
  },
  "no samples": { seq: 0, samples: [] },
  "an empty host record": { seq: 0, samples: [{ t: 1, host: {} }] },
  "a key with capitals": { seq: 0, samples: [sample({ host: { "Cpu.total": 1 } })] },
  "a key with two labels": { seq: 0, samples: [sample({ host: { "a{b=1,c=2}": 1 } })] },
  "a string value": { seq: 0, samples: [sample({ host: { "cpu.total": "1" } })] },
  "a null value": { seq: 0, samples: [sample({ host: { "cpu.total": null } })] },
  "a nested value": { seq: 0, samples: [sample({ host: { "cpu.total": { v: 1 } } })] },
  "an infinite value": { seq: 0, samples: [sample({ host: { "cpu.total": Infinity } })] },
  "NaN": { seq: 0, samples: [sample({ host: { "cpu.total": NaN } })] },
  "host as an array": { seq: 0, samples: [sample({ host: [1, 2] })] },
  "host as null": { seq: 0, samples: [sample({ host: null })] },
  "no host": { seq: 0, samples: [{ t: 1 }] },
  "512 host series": { seq: 0, samples: [sample({ host: many(512) })] },
  "513 host series": { seq: 0, samples: [sample({ host: many(513) })] },
  "a short container id": { seq: 0, samples: [sample({ containers: { abc: { "c.m0": 1 } } })] },
  "a bad container key": { seq: 0, samples: [sample({ containers: { [C]: { "C!": 1 } } })] },
  "a bad container value": { seq: 0, samples: [sample({ containers: { [C]: { "c.m0": "x" } } })] },
  "containers as an array": { seq: 0, samples: [sample({ containers: [] })] },
  "a container as null": { seq: 0, samples: [sample({ containers: { [C]: null } })] },
  "1001 containers": {
    seq: 0,
    samples: [sample({
      containers: Object.fromEntries(
        Array.from({ length: 1001 }, (_, i) => [i.toString(16).padStart(64, "0"), {}]),
      ),
    })],
  },
  "a negative seq": { seq: -1, samples: [] },
};

Deno.test("MetricsBatch accepts and refuses what the z.record schema did, at the same fields", () => {
  for (const [name, input] of Object.entries(cases)) {
    const ours = MetricsBatch.safeParse(input);
    const ref = Reference.safeParse(input);
    assert.equal(ours.success, ref.success, name);
    if (ours.success && ref.success) assert.deepEqual(ours.data, ref.data, name);
    if (!ours.success && !ref.success) {
      const paths = (e: z.ZodError) => [...new Set(e.issues.map((i) => i.path.join(".")))].sort();
      assert.deepEqual(paths(ours.error), paths(ref.error), name);
    }
  }
});

Deno.test("__proto__ is refused as a series key (the z.record schema dropped it silently)", () => {
  const r = MetricsBatch.safeParse({
    seq: 0,
    samples: [JSON.parse('{"t":1,"host":{"__proto__":1}}')],
  });
  assert.equal(r.success, false);
  assert.deepEqual(r.error!.issues[0].path, ["samples", 0, "host", "__proto__"]);
});

Deno.test("a refused series key names the key and says what keys look like", () => {
  const r = MetricsBatch.safeParse({ seq: 0, samples: [sample({ host: { "Bad Key": 1 } })] });
  assert.equal(r.success, false);
  const issue = r.error!.issues[0];
  assert.deepEqual(issue.path, ["samples", 0, "host", "Bad Key"]);
  assert.match(issue.message, /name or name\{label=value\}/);
});
