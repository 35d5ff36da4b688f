import assert from "node:assert/strict";
import { isConflict, operate, type OperateDeps } from "./operate.ts";
import { parseOpParams } from "../protocol/ops.ts";
import { Conflict, type DomainError, NotFound, Unavailable } from "../errors.ts";
import { fromWireError } from "../agents/connection.ts";
import { statusOf } from "../../tests/support/errors.ts";
import type { AuditEntry } from "../audit/service.ts";

/** Fakes of the three services: one host "h1" in org "o1", online or not. */
function fakes(online: boolean) {
  const rows: Omit<AuditEntry, "ctx" | "durationMs">[] = [];
  const calls: { op: string; params: unknown }[] = [];
  const deps = {
    hosts: {
      get: (orgId: string, hostId: string) => {
        if (orgId !== "o1" || hostId !== "h1") {
          return Promise.reject(new NotFound("host not found"));
        }
        return Promise.resolve({ id: "h1", name: "edge" });
      },
    },
    agents: {
      require: () => {
        if (!online) throw new Unavailable("The host's agent is not connected", "host_offline");
        return {
          call: (op: string, params: unknown) => {
            calls.push({ op, params });
            return op === "container.start" ? Promise.resolve({ ok: true }) : Promise.reject(
              fromWireError({ status: 409, code: "conflict", message: "engine says no" }),
            );
          },
        };
      },
    },
    audit: {
      async run<T>(
        _ctx: unknown,
        action: string,
        info: { orgId?: string | null; metadata?: Record<string, unknown> },
        fn: () => Promise<T>,
      ): Promise<T> {
        try {
          const r = await fn();
          rows.push({ action, orgId: info.orgId, status: "ok", metadata: info.metadata });
          return r;
        } catch (err) {
          rows.push({
            action,
            orgId: info.orgId,
            status: "error",
            error: (err as Error).message,
            metadata: info.metadata,
          });
          throw err;
        }
      },
    },
  } as unknown as OperateDeps;
  return { deps, rows, calls };
}

const ctx = { actor: { type: "system" as const } };
const target = { type: "container", id: "web" };
/** Starting container "web" on host "h1" of org "o1", as an operation. */
const start = {
  ctx,
  orgId: "o1",
  hostId: "h1",
  action: "container.started",
  target,
  op: "container.start" as const,
  params: { id: "web" },
};

Deno.test("operate() behaviour: runs the call and writes one ok row with the host", async () => {
  const f = fakes(true);
  const r = await operate(f.deps, {
    ctx,
    orgId: "o1",
    hostId: "h1",
    action: "container.started",
    target,
    op: "container.start",
    params: { id: "web" },
  });
  assert.deepEqual(r, { ok: true });
  assert.deepEqual(f.calls, [{ op: "container.start", params: { id: "web" } }]);
  assert.equal(f.rows.length, 1);
  assert.equal(f.rows[0].status, "ok");
  assert.deepEqual(f.rows[0].metadata, { host_id: "h1", host_name: "edge" });
});

Deno.test("operate() behaviour: invalid params are a 400 naming the field before the host is looked up", async () => {
  const f = fakes(true);
  await assert.rejects(
    operate(f.deps, { ...start, orgId: "o2", hostId: "nope", params: { id: "; rm -rf /" } }),
    (e: DomainError) => statusOf(e) === 400 && e.fields?.id !== undefined,
  );
  assert.equal(f.rows.length, 0);
  assert.equal(f.calls.length, 0);
});

Deno.test("operate() behaviour: another org's host is a 404 and is not audited", async () => {
  const f = fakes(true);
  await assert.rejects(
    operate(f.deps, { ...start, orgId: "o2" }),
    (e: DomainError) => statusOf(e) === 404,
  );
  assert.equal(f.rows.length, 0);
});

Deno.test("operate() behaviour: an offline host is a 503 with an error row", async () => {
  const f = fakes(false);
  await assert.rejects(
    operate(f.deps, start),
    (e: DomainError) => statusOf(e) === 503,
  );
  assert.equal(f.rows[0].status, "error");
  assert.match(f.rows[0].error!, /not connected/);
});

Deno.test("operate() behaviour: mapError's clearer message is what the row records", async () => {
  const f = fakes(true);
  await assert.rejects(
    operate(f.deps, {
      ...start,
      action: "container.stopped",
      op: "container.stop",
      mapError: () => new Conflict("Cannot stop web: clearer"),
    }),
    (e: DomainError) => e.message === "Cannot stop web: clearer",
  );
  assert.equal(f.rows[0].error, "Cannot stop web: clearer");
});

Deno.test("operate() behaviour: parameters are parsed once on the hub; the connection gets that value", async () => {
  const f = fakes(true);
  const sent: unknown[] = [];
  const deps = {
    ...f.deps,
    agents: {
      require: () => ({ call: (_op: string, p: unknown) => (sent.push(p), Promise.resolve({})) }),
    },
  } as unknown as OperateDeps;
  await operate(deps, start);
  // The connection skips its check for a value parseOpParams produced (lib/protocol/ops.ts).
  const again = parseOpParams("container.start", sent[0]);
  assert.ok(again?.success);
  assert.equal(again.data, sent[0], "the same object back: not parsed a second time");
  const other = parseOpParams("container.stop", sent[0]);
  assert.ok(other?.success);
  assert.notEqual(other.data, sent[0], "checked for one operation is not checked for another");
});

Deno.test("isConflict() behaviour: a domain Conflict or an agent error with status 409", () => {
  assert.ok(isConflict(new Conflict("in use")));
  assert.ok(isConflict(fromWireError({ status: 409, code: "conflict", message: "in use" })));
  assert.ok(!isConflict(fromWireError({ status: 404, code: "not_found", message: "gone" })));
  assert.ok(!isConflict({ status: 409 }), "only errors count");
});
