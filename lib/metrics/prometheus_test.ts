import assert from "node:assert/strict";
import { renderPrometheus, splitKey } from "./prometheus.ts";

const CTR = "c".repeat(64);

function render(values: { key: string; v: number; container?: string }[]) {
  return renderPrometheus(
    [{ id: "h1", name: 'web "1"', online: true }, { id: "h2", name: "db", online: false }],
    values.map((x) => ({
      host_id: "h1",
      container_id: x.container ?? "",
      key: x.key,
      t: 1000,
      v: x.v,
    })),
    new Map([[CTR, "nginx"]]),
  );
}

Deno.test("splitKey() splits a series key into name, label and value", () => {
  assert.deepEqual(splitKey("cpu.total_pct"), { name: "cpu.total_pct" });
  assert.deepEqual(splitKey("fs.used_pct{mount=/var/lib}"), {
    name: "fs.used_pct",
    label: "mount",
    value: "/var/lib",
  });
});

Deno.test("renderPrometheus() writes HELP and TYPE for every family, escaped labels and no timestamps", () => {
  const text = renderPrometheus(
    [{ id: "h1", name: 'web "1"', online: true }, { id: "h2", name: "db", online: false }],
    [
      { host_id: "h1", container_id: "", key: "load.1", t: 1000, v: 0.5 },
      { host_id: "h2", container_id: "", key: "load.1", t: 1000, v: 1 },
      { host_id: "gone", container_id: "", key: "load.1", t: 1, v: 1 },
    ],
    new Map(),
  );
  assert.equal(
    text,
    [
      "# HELP capstan_host_up 1 when the host's agent is connected to the hub, else 0.",
      "# TYPE capstan_host_up gauge",
      'capstan_host_up{host="web \\"1\\"",host_id="h1"} 1',
      'capstan_host_up{host="db",host_id="h2"} 0',
      "# HELP node_load1 1m load average.",
      "# TYPE node_load1 gauge",
      'node_load1{host="web \\"1\\"",host_id="h1"} 0.5',
      'node_load1{host="db",host_id="h2"} 1',
      "",
    ].join("\n"),
  );
});

Deno.test("renderPrometheus() uses node_exporter and cAdvisor names, base units and counters", () => {
  const text = render([
    { key: "cpu.total_pct", v: 12.5 },
    { key: "cpu.user_pct", v: 7 },
    { key: "cpu.core_pct{core=3}", v: 50 },
    { key: "fs.total_bytes{mount=/}", v: 1e12 },
    { key: "fs.used_pct{mount=/}", v: 7 },
    { key: "net.rx_bytes_total{iface=eth0}", v: 123456 },
    { key: "net.rx_bps{iface=eth0}", v: 99 },
    { key: "disk.written_bytes_total{dev=sda}", v: 5 },
    { key: "host.uptime_s", v: 3600 },
    { key: "ctr.mem_used_bytes", v: 2048, container: CTR },
    { key: "ctr.cpu_seconds_total", v: 1.5, container: CTR },
    { key: "ctr.cpu_cores", v: 0.2, container: CTR },
  ]);
  assert.match(text, /^capstan_cpu_usage_ratio\{host="web \\"1\\"",host_id="h1"\} 0\.125$/m);
  assert.match(text, /^capstan_cpu_mode_ratio\{[^}]*,mode="user"\} 0\.07$/m);
  assert.match(text, /^capstan_cpu_core_usage_ratio\{[^}]*,cpu="3"\} 0\.5$/m);
  assert.match(text, /^node_filesystem_size_bytes\{[^}]*,mountpoint="\/"\} 1000000000000$/m);
  assert.match(text, /^capstan_filesystem_used_ratio\{[^}]*,mountpoint="\/"\} 0\.07$/m);
  assert.match(text, /^# TYPE node_network_receive_bytes_total counter$/m);
  assert.match(text, /^node_network_receive_bytes_total\{[^}]*,device="eth0"\} 123456$/m);
  assert.match(text, /^node_disk_written_bytes_total\{[^}]*,device="sda"\} 5$/m);
  assert.match(text, /^capstan_host_uptime_seconds\{[^}]*\} 3600$/m);
  assert.match(
    text,
    /^container_memory_working_set_bytes\{host="web \\"1\\"",host_id="h1",container_id="c{64}",container="nginx"\} 2048$/m,
  );
  assert.match(text, /^# TYPE container_cpu_usage_seconds_total counter$/m);
  assert.doesNotMatch(text, /bps|cores|_pct/, "rates with counters, and percents, are not exposed");
  for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) {
    assert.match(line, /^[a-z_0-9]+(\{.*\})? [-0-9.e+]+$/, `one value, no timestamp: ${line}`);
  }
});

Deno.test("renderPrometheus() exposes unknown keys by a generic rule without clashing labels or names", () => {
  const text = render([
    { key: "custom.queue_pct", v: 50 },
    { key: "custom.jobs_total", v: 3 },
    { key: "custom.batch_count", v: 2 },
    { key: "custom.thing{host=other}", v: 1 },
    { key: "custom.thing{container=x}", v: 2, container: CTR },
  ]);
  assert.match(text, /^# TYPE capstan_custom_queue_ratio gauge$/m);
  assert.match(text, /^capstan_custom_queue_ratio\{[^}]*\} 0\.5$/m);
  assert.match(text, /^# TYPE capstan_custom_jobs_total counter$/m);
  assert.match(text, /^capstan_custom_batch_count_value\{/m);
  assert.match(
    text,
    /^capstan_custom_thing\{host="web \\"1\\"",host_id="h1",exported_host="other"\} 1$/m,
  );
  assert.match(text, /^capstan_custom_thing\{[^}]*container="nginx",exported_container="x"\} 2$/m);
  assert.equal(text.match(/^# HELP capstan_custom_thing /gm)?.length, 1);
});
