import assert from "node:assert/strict";
import { CheckCreateInput, CheckFields, normalizeCheck, refusedTarget } from "./schema.ts";
import { type DomainError, invalidInput } from "../errors.ts";
import { statusOf } from "../../tests/support/errors.ts";
import { HealthCheckSpec } from "../protocol/health.ts";

const HOST = "0190a0a0-0000-7000-8000-000000000001";

/** The 400 fields of an input, or null when it is accepted. */
function fieldsOf(input: unknown): Record<string, string> | null {
  const r = CheckCreateInput.safeParse(input);
  if (r.success) {
    try {
      normalizeCheck(r.data);
      return null;
    } catch (e) {
      assert.ok(statusOf(e) === 400);
      return (e as DomainError).fields ?? {};
    }
  }
  const err = invalidInput(r.error);
  assert.equal(statusOf(err), 400);
  return err.fields!;
}

const base = { host_id: HOST, container: "web" };

Deno.test("CheckCreateInput refuses a command given as a shell string, naming the field", () => {
  const f1 = fieldsOf({ ...base, kind: "command", command: "pg_isready -h localhost; rm -rf /" });
  assert.match(f1!.command, /argument array/);
  const f2 = fieldsOf({ ...base, kind: "command", command: { argv: "pg_isready -h localhost" } });
  assert.match(f2!["command.argv"], /argument array/);
  assert.equal(fieldsOf({ ...base, kind: "command", command: { argv: ["pg_isready"] } }), null);
  assert.deepEqual(Object.keys(fieldsOf({ ...base, kind: "command" })!), ["command"]);
});

Deno.test("CheckCreateInput refuses CR, LF and NUL in headers", () => {
  for (const v of ["a\r\nX-Evil: 1", "a\nb", "a\0b"]) {
    const f = fieldsOf({ ...base, kind: "http", http: { port: 80, headers: { "X-Test": v } } });
    assert.match(f!["http.headers.X-Test"], /CR, LF or NUL/);
  }
  const bad = fieldsOf({ ...base, kind: "http", http: { port: 80, headers: { "X\r\nY": "1" } } });
  assert.ok(Object.keys(bad!).some((k) => k.startsWith("http.headers")));
});

Deno.test("CheckCreateInput refuses file://, other schemes, link-local and metadata targets", () => {
  for (
    const url of [
      "file:///etc/passwd",
      "gopher://example.com/",
      "ftp://example.com/",
      "http://169.254.169.254/latest/meta-data/",
      "http://169.254.1.1:8080/",
      "http://2852039166/", // 169.254.169.254 as one number
      "http://[fe80::1]/",
      "http://[febf::1]/",
      "http://[fd00:ec2::254]/",
      "http://[::ffff:169.254.169.254]/",
      "http://metadata.google.internal/computeMetadata/v1/",
      "http://user:pw@example.com/",
      "not a url",
    ]
  ) {
    const f = fieldsOf({ ...base, kind: "http", http: { url } });
    assert.ok(f?.["http.url"], `${url} refused with the field named: ${JSON.stringify(f)}`);
  }
  for (const host of ["169.254.169.254", "fe80::1", "metadata.google.internal", "fd00:ec2::254"]) {
    const f = fieldsOf({ ...base, kind: "http", http: { host, port: 80 } });
    assert.ok(f?.["http.host"], `${host} refused: ${JSON.stringify(f)}`);
  }
  assert.equal(refusedTarget("10.0.0.5"), null, "private addresses are container addresses");
  assert.equal(refusedTarget("127.0.0.1"), null);
});

Deno.test("CheckCreateInput turns a URL into the probe's host, port, scheme and path", () => {
  const r = CheckCreateInput.parse({
    ...base,
    kind: "http",
    http: { url: "https://127.0.0.1:8443/healthz?deep=1", expect_status: [[200, 204]] },
  });
  const spec = normalizeCheck(r);
  assert.deepEqual(spec.config, {
    method: "GET",
    scheme: "https",
    host: "127.0.0.1",
    port: 8443,
    path: "/healthz?deep=1",
    expect_status: [[200, 204]],
    headers: {},
    follow_redirects: false,
  });
  assert.equal(spec.name, "HTTP 127.0.0.1:8443/healthz?deep=1");
  // What is stored is exactly what the agent accepts.
  const wire = HealthCheckSpec.safeParse({
    id: "0190a0a0-0000-7000-8000-000000000002",
    container_id: "a".repeat(64),
    kind: "http",
    interval_s: spec.interval_s,
    timeout_s: spec.timeout_s,
    start_delay_s: spec.start_delay_s,
    http: spec.config,
  });
  assert.ok(wire.success, JSON.stringify(wire.error?.issues));
  assert.equal(
    CheckCreateInput.parse({ ...base, kind: "http", http: { url: "http://x/" } })
      .http!.port,
    80,
  );
});

Deno.test("normalizeCheck requires the kind's probe, a port for HTTP, and timeout ≤ interval", () => {
  assert.deepEqual(Object.keys(fieldsOf({ ...base, kind: "http" })!), ["http"]);
  assert.deepEqual(Object.keys(fieldsOf({ ...base, kind: "http", http: { path: "/" } })!), [
    "http.port",
  ]);
  assert.deepEqual(
    Object.keys(
      fieldsOf({ ...base, kind: "tcp", tcp: { port: 5 }, interval_s: 5, timeout_s: 10 })!,
    ),
    ["timeout_s"],
  );
  assert.equal(fieldsOf({ ...base, kind: "docker" }), null);
  // An update keeps the stored probe and merges fields over the stored check.
  const stored = normalizeCheck(CheckFields.parse({ kind: "tcp", tcp: { port: 5432 } }));
  const upd = normalizeCheck(CheckFields.parse({ retries: 5 }), stored);
  assert.deepEqual(upd, { ...stored, retries: 5 });
});
