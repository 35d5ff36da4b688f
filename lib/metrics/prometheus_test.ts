import assert from "node:assert/strict";
import { renderPrometheus, splitKey } from "./prometheus.ts";

Deno.test("splitKey() maps series keys to Prometheus names and labels", () => {
  assert.deepEqual(splitKey("cpu.total_pct"), { name: "capstan_cpu_total_pct", labels: {} });
  assert.deepEqual(splitKey("fs.used_pct{mount=/var/lib}"), {
    name: "capstan_fs_used_pct",
    labels: { mount: "/var/lib" },
  });
});

Deno.test("renderPrometheus() writes up gauges, grouped samples with timestamps and escaped labels", () => {
  const text = renderPrometheus(
    [{ id: "h1", name: 'web "1"', online: true }, { id: "h2", name: "db", online: false }],
    [
      { host_id: "h1", container_id: "", key: "cpu.total_pct", t: 1000, v: 12.5 },
      { host_id: "h2", container_id: "", key: "cpu.total_pct", t: 1000, v: 1 },
      { host_id: "h1", container_id: "c".repeat(64), key: "ctr.cpu_pct", t: 2000, v: 3 },
      { host_id: "gone", container_id: "", key: "cpu.total_pct", t: 1, v: 1 },
    ],
    new Map([["c".repeat(64), "nginx"]]),
  );
  assert.match(text, /^capstan_host_up\{host="web \\"1\\"",host_id="h1"\} 1$/m);
  assert.match(text, /^capstan_host_up\{host="db",host_id="h2"\} 0$/m);
  assert.equal(text.match(/# TYPE capstan_cpu_total_pct gauge/g)?.length, 1);
  assert.match(text, /^capstan_cpu_total_pct\{host="db",host_id="h2"\} 1 1000$/m);
  assert.match(
    text,
    /^capstan_ctr_cpu_pct\{host="web \\"1\\"",host_id="h1",container_id="c{64}",container="nginx"\} 3 2000$/m,
  );
  assert.ok(!text.includes("gone"));
});
