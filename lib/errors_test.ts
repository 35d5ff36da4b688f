import assert from "node:assert/strict";
import {
  Conflict,
  Forbidden,
  InsufficientCapacity,
  Invalid,
  invalidInput,
  NotFound,
  QuotaExceeded,
  RateLimited,
  Rejected,
  Unauthenticated,
  Unavailable,
} from "./errors.ts";
import { z } from "zod";
import { toHttpError } from "./http/error_handler.ts";

Deno.test("toHttpError() maps each domain error to its status, keeping code, message and fields", () => {
  const cases: [Error, number, string][] = [
    [new NotFound('No app "shop"'), 404, "not_found"],
    [new Conflict('Cannot create app "shop": name is already in use'), 409, "conflict"],
    [new Invalid("Invalid input: name", { name: "is required" }), 400, "validation"],
    [new Forbidden("Only admins", { binds: "only admins may set this" }), 403, "forbidden"],
    [
      new Unavailable("The manager's agent is not connected", "manager_offline"),
      503,
      "manager_offline",
    ],
    [new InsufficientCapacity("No node has 64 CPUs free"), 507, "insufficient_capacity"],
    [
      new Unauthenticated("Email or password is wrong", "invalid_credentials"),
      401,
      "invalid_credentials",
    ],
    [new Rejected("The signature does not verify", "bad_signature"), 422, "bad_signature"],
    [new RateLimited("Too many failed sign-ins; try again in 15 min"), 429, "rate_limited"],
    // An org's quota is a conflict with its own use (409), not the cluster's room (507).
    [
      new QuotaExceeded("Quota exceeded", {
        resource: "apps",
        unit: "apps",
        limit: 3,
        used: 3,
        requested: 1,
      }),
      409,
      "quota_exceeded",
    ],
  ];
  for (const [err, status, code] of cases) {
    const h = toHttpError(err);
    assert.equal(h.status, status, err.constructor.name);
    assert.equal(h.code, code);
    assert.equal(h.message, err.message);
  }
  const quota = { resource: "apps", unit: "apps", limit: 3, used: 3, requested: 1 };
  assert.deepEqual(toHttpError(new QuotaExceeded("Quota exceeded", quota)).toJSON(), {
    error: {
      code: "quota_exceeded",
      message: "Quota exceeded",
      fields: { apps: "Quota exceeded" },
      quota,
    },
  });
  assert.deepEqual(toHttpError(new Invalid("x", { name: "is required" })).fields, {
    name: "is required",
  });
  assert.equal(new Conflict("x").name, "Conflict");
  // Anything else stays an opaque 500.
  assert.equal(toHttpError(new Error("secret detail")).message.includes("secret"), false);
});

Deno.test("invalidInput() names each offending field once, in the API's dotted form", () => {
  const r = z.object({ name: z.string().min(3), http: z.object({ port: z.number() }) })
    .safeParse({ name: "x", http: { port: "80" } });
  assert.ok(!r.success);
  const e = invalidInput(r.error);
  assert.ok(e instanceof Invalid);
  assert.equal(e.code, "validation");
  assert.equal(e.message, "Invalid input: name, http.port");
  assert.deepEqual(Object.keys(e.fields!), ["name", "http.port"]);
  const whole = z.string().safeParse(1);
  assert.ok(!whole.success);
  assert.deepEqual(Object.keys(invalidInput(whole.error).fields!), ["_"]);
});
