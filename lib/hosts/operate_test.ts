import assert from "node:assert/strict";
import { operate, type OperateDeps } from "./operate.ts";
import { HttpError, notFound } from "../http/errors.ts";
import type { AuditEntry } from "../audit/service.ts";

/** Fakes of the three services: one host "h1" in org "o1", online or not. */
function fakes(online: boolean) {
  const rows: Omit<AuditEntry, "ctx" | "durationMs">[] = [];
  const calls: { op: string; params: unknown }[] = [];
  const deps = {
    hosts: {
      get: (orgId: string, hostId: string) => {
        if (orgId !== "o1" || hostId !== "h1") return Promise.reject(notFound("host"));
        return Promise.resolve({ id: "h1", name: "edge" });
      },
    },
    agents: {
      require: () => {
        if (!online) throw new HttpError(503, "host_offline", "The host's agent is not connected");
        return {
          call: (op: string, params: unknown) => {
            calls.push({ op, params });
            return op === "container.start" ? Promise.resolve({ ok: true }) : Promise.reject(
              new HttpError(409, "conflict", "engine says no"),
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

Deno.test("operate() behaviour: runs the call and writes one ok row with the host", async () => {
  const f = fakes(true);
  const r = await operate(f.deps, ctx, "o1", "h1", "container.started", target, "container.start", {
    id: "web",
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
    operate(f.deps, ctx, "o2", "nope", "container.started", target, "container.start", {
      id: "; rm -rf /",
    }),
    (e: HttpError) => e.status === 400 && e.fields?.id !== undefined,
  );
  assert.equal(f.rows.length, 0);
  assert.equal(f.calls.length, 0);
});

Deno.test("operate() behaviour: another org's host is a 404 and is not audited", async () => {
  const f = fakes(true);
  await assert.rejects(
    operate(f.deps, ctx, "o2", "h1", "container.started", target, "container.start", { id: "web" }),
    (e: HttpError) => e.status === 404,
  );
  assert.equal(f.rows.length, 0);
});

Deno.test("operate() behaviour: an offline host is a 503 with an error row", async () => {
  const f = fakes(false);
  await assert.rejects(
    operate(f.deps, ctx, "o1", "h1", "container.started", target, "container.start", { id: "web" }),
    (e: HttpError) => e.status === 503,
  );
  assert.equal(f.rows[0].status, "error");
  assert.match(f.rows[0].error!, /not connected/);
});

Deno.test("operate() behaviour: mapError's clearer message is what the row records", async () => {
  const f = fakes(true);
  await assert.rejects(
    operate(f.deps, ctx, "o1", "h1", "container.stopped", target, "container.stop", { id: "web" }, {
      mapError: () => new HttpError(409, "conflict", "Cannot stop web: clearer"),
    }),
    (e: HttpError) => e.message === "Cannot stop web: clearer",
  );
  assert.equal(f.rows[0].error, "Cannot stop web: clearer");
});
