import assert from "node:assert/strict";
import { chartSpecs, FAMILY_CAP, labelKey, statsKeys, unitOf } from "./keys.ts";

Deno.test("chartSpecs() draws only the lines a host has, families summed per line", () => {
  const specs = chartSpecs([
    "cpu.total_pct",
    "load.1",
    "net.rx_bps{iface=eth0}",
    "net.rx_bps{iface=eth1}",
    "mem.used_bytes",
  ]);
  assert.deepEqual(specs.map((s) => s.id), ["cpu", "mem", "net", "load"]);
  assert.deepEqual(specs[0].lines.map((l) => l.label), ["Total"]);
  assert.deepEqual(specs[2].lines, [{
    label: "In",
    keys: ["net.rx_bps{iface=eth0}", "net.rx_bps{iface=eth1}"],
    color: "--accent",
  }]);
});

Deno.test("statsKeys() stays within the API's 50 series and caps each family", () => {
  const many = Array.from({ length: 40 }, (_, i) => `fs.used_pct{mount=/m${i}}`);
  const keys = statsKeys(["cpu.total_pct", "mem.used_pct", ...many]);
  assert.equal(keys.filter((k) => k.startsWith("fs.")).length, FAMILY_CAP);
  assert.deepEqual(keys.slice(0, 2), ["cpu.total_pct", "mem.used_pct"]);
  assert.ok(statsKeys(["cpu.total_pct"]).length <= 50);
});

Deno.test("labelKey() and unitOf() read a key for people", () => {
  assert.equal(labelKey("net.rx_bps{iface=eth0}"), "Network in eth0");
  assert.equal(labelKey("gpu.util_pct{gpu=1}"), "GPU 1 utilisation");
  assert.equal(labelKey("cpu.total_pct"), "CPU");
  assert.equal(unitOf("fs.used_bytes{mount=/}"), "bytes");
  assert.equal(unitOf("disk.read_bps{dev=sda}"), "bps");
  assert.equal(unitOf("load.1"), "num");
});
