import assert from "node:assert/strict";
import { z } from "zod";
import { sentenceFor, useSentenceMessages } from "./zod_messages.ts";

/** The message zod gives `input` under `schema` once sentences are in use. */
function message(schema: z.ZodType, input: unknown): string {
  useSentenceMessages();
  const r = schema.safeParse(input);
  assert.ok(!r.success);
  return r.error.issues[0].message;
}

Deno.test("sentenceFor() says limits, types and choices as sentences", () => {
  assert.equal(message(z.string().min(16), "short"), "must be at least 16 characters");
  assert.equal(message(z.string().max(3), "long"), "must be at most 3 characters");
  assert.equal(message(z.string().min(1), ""), "is required");
  assert.equal(message(z.number().int().min(1), 0), "must be at least 1");
  assert.equal(message(z.number().gt(0), 0), "must be more than 0");
  assert.equal(message(z.array(z.string()).max(1), ["a", "b"]), "must be at most 1 item");
  assert.equal(message(z.number(), "x"), "must be a number");
  assert.equal(message(z.object({ a: z.string() }), {}), "is required");
  assert.equal(message(z.email(), "nope"), "must be an email address");
  assert.equal(message(z.enum(["read", "write"]), "admin"), 'must be one of "read", "write"');
  // A schema's own words win.
  assert.equal(message(z.string().regex(/^a/, "must start with a"), "b"), "must start with a");
  assert.equal(
    sentenceFor({ code: "custom", input: 1, path: [], message: "" } as never),
    undefined,
  );
});
