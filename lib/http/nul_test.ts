import assert from "node:assert/strict";
import { nulPathIn, nulPathInJson } from "./nul.ts";
import { readJsonBody } from "./gzip_json.ts";
import type { HttpError } from "./errors.ts";

Deno.test("nulPathInJson() names the field holding a NUL, and ignores an escaped backslash", () => {
  assert.equal(nulPathInJson('{"a":"x","b":{"c":["ok","n\\u0000"]}}'), "b.c.1");
  assert.equal(nulPathInJson('{"k\\u0000":1}'), "k");
  assert.equal(nulPathInJson('"\\u0000"'), "body");
  assert.equal(nulPathInJson('{"a":"\\\\u0000 is text"}'), undefined);
  assert.equal(nulPathInJson('{"a":"plain"}'), undefined);
  assert.equal(nulPathInJson("not json \\u0000"), undefined, "left to the route's parser");
  assert.equal(nulPathIn({ labels: { name: "web\0" } }), "labels.name");
});

Deno.test("readJsonBody() refuses a NUL inside a gzip body with 400 naming the field", async () => {
  const body = new Blob([JSON.stringify({ host: "h", series: [{ name: "cpu\0" }] })]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  const req = new Request("http://hub.test/api/v1/agent/report", {
    method: "POST",
    headers: { "content-encoding": "gzip", "content-type": "application/json" },
    body,
  });
  await assert.rejects(
    readJsonBody(req, 1 << 20),
    (e: HttpError) => e.status === 400 && e.fields?.["series.0.name"] !== undefined,
  );
});
