import assert from "node:assert/strict";
import { healthCheck } from "./health_check.ts";
import type { HealthCheckChange } from "./kind.ts";
import { harness, HOST, lastInfo, rule, T0 } from "./testing.ts";

const SUBJECT = `h1/${"c".repeat(64)}/chk1`;
const change = (to: string, retries = 3, error: string | null = "timeout"): HealthCheckChange => ({
  host_id: HOST.id,
  check_id: "chk1",
  check_name: "http",
  container_id: "c".repeat(64),
  container_name: "api",
  to,
  retries,
  error,
});

Deno.test("healthCheck fires at once when a check turns unhealthy; anything else resolves", async () => {
  const r = rule({ name: "Check failing", kind: "event", event: "health_check" });
  const h = harness([r]);
  healthCheck.healthChange!(h.at(T0), r, HOST, change("unknown"));
  assert.deepEqual(h.take(), [], "nothing to resolve");
  healthCheck.healthChange!(h.at(T0), r, HOST, change("unhealthy"));
  assert.deepEqual(await lastInfo(h.ops), {
    hostName: "web-1",
    containerName: "api",
    title: "Check failing on web-1 / api (http)",
    detail: 'Health check "http" of api failed 3 times in a row: timeout',
  });
  assert.deepEqual(h.take(), [`fire ${SUBJECT} firing null`]);
  healthCheck.healthChange!(h.at(T0 + 1000), r, HOST, change("unhealthy"));
  assert.deepEqual(h.take(), [], "already firing");
  healthCheck.healthChange!(h.at(T0 + 2000), r, HOST, change("healthy"));
  assert.deepEqual(h.take(), [`resolve ${SUBJECT} ok null`]);
  healthCheck.healthChange!(h.at(T0 + 3000), r, HOST, change("unhealthy", 1, null));
  assert.equal((await lastInfo(h.ops))?.detail, 'Health check "http" of api failed once');
});
