import assert from "node:assert/strict";
import {
  Conflict,
  Forbidden,
  InsufficientCapacity,
  Invalid,
  NotFound,
  Unavailable,
} from "./errors.ts";
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
  ];
  for (const [err, status, code] of cases) {
    const h = toHttpError(err);
    assert.equal(h.status, status, err.constructor.name);
    assert.equal(h.code, code);
    assert.equal(h.message, err.message);
  }
  assert.deepEqual(toHttpError(new Invalid("x", { name: "is required" })).fields, {
    name: "is required",
  });
  assert.equal(new Conflict("x").name, "Conflict");
  // Anything else stays an opaque 500.
  assert.equal(toHttpError(new Error("secret detail")).message.includes("secret"), false);
});
