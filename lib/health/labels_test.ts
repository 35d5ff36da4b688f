import assert from "node:assert/strict";
import { checksFromLabels, parseDuration } from "./labels.ts";

Deno.test("parseDuration() reads s, m, h, ms and bare seconds", () => {
  assert.equal(parseDuration("10s"), 10);
  assert.equal(parseDuration("2m"), 120);
  assert.equal(parseDuration("1h"), 3600);
  assert.equal(parseDuration("1500ms"), 2);
  assert.equal(parseDuration("7"), 7);
  assert.equal(parseDuration("ten"), undefined);
});

Deno.test("checksFromLabels() derives HTTP, TCP, command and docker checks with timings", () => {
  const got = checksFromLabels({
    "capstan.health.http": "/healthz",
    "capstan.health.port": "8080",
    "capstan.health.tcp": "5432",
    "capstan.health.cmd": '["pg_isready","-U","app"]',
    "capstan.health.docker": "true",
    "capstan.health.interval": "10s",
    "capstan.health.timeout": "2s",
    "capstan.health.retries": "2",
    "other": "x",
  });
  assert.ok(got.every((g) => g.ok));
  const specs = got.map((g) => g.ok ? g.spec : null);
  assert.deepEqual(specs.map((s) => [s!.kind, s!.interval_s, s!.timeout_s, s!.retries]), [
    ["http", 10, 2, 2],
    ["tcp", 10, 2, 2],
    ["command", 10, 2, 2],
    ["docker", 10, 2, 2],
  ]);
  assert.equal((specs[0]!.config as { port: number; path: string }).port, 8080);
  assert.equal((specs[0]!.config as { path: string }).path, "/healthz");
  assert.deepEqual(specs[2]!.config, { argv: ["pg_isready", "-U", "app"] });
});

Deno.test("checksFromLabels() HTTP without a port uses the container's first TCP port", () => {
  const [c] = checksFromLabels({ "capstan.health.http": "/" }, [
    { private_port: 53, type: "udp" },
    { private_port: 3000, type: "tcp" },
  ]);
  assert.ok(c.ok && (c.spec.config as { port: number }).port === 3000);
  const [d] = checksFromLabels({ "capstan.health.http": "" });
  assert.ok(d.ok && (d.spec.config as { port: number }).port === 80);
});

Deno.test("checksFromLabels() refuses a shell-line command and bad values; no labels, no checks", () => {
  const [cmd] = checksFromLabels({ "capstan.health.cmd": "pg_isready && echo ok" });
  assert.ok(!cmd.ok && /argument array/.test(cmd.error));
  const [tcp] = checksFromLabels({ "capstan.health.tcp": "http" });
  assert.ok(!tcp.ok);
  const [bad] = checksFromLabels({ "capstan.health.tcp": "80", "capstan.health.interval": "x" });
  assert.ok(!bad.ok && /interval/.test(bad.error));
  const [hdr] = checksFromLabels({
    "capstan.health.http": "/a b",
    "capstan.health.port": "80",
  });
  assert.ok(!hdr.ok);
  assert.deepEqual(checksFromLabels({ "com.example": "1" }), []);
});
