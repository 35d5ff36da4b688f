import assert from "node:assert/strict";
import { dechunk, http1 } from "./http1.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("dechunk() joins chunks and stops at the cap", () => {
  const raw = enc.encode("5\r\nhello\r\n7;x=1\r\n, world\r\n0\r\n\r\n");
  assert.equal(dec.decode(dechunk(raw, 100)), "hello, world");
  assert.equal(dec.decode(dechunk(raw, 7)), "hello, ");
});

Deno.test("http1() reads status, headers and a bounded body, plain and chunked", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const u = new URL(req.url);
    if (u.pathname === "/chunked") {
      const body = new ReadableStream({
        start(c) {
          c.enqueue(enc.encode("part one, "));
          c.enqueue(enc.encode("part two"));
          c.close();
        },
      });
      return new Response(body);
    }
    if (u.pathname === "/moved") return Response.redirect("http://127.0.0.1/x", 302);
    return new Response("x".repeat(100_000) + req.headers.get("x-probe"), { status: 503 });
  });
  const base = {
    hostname: "127.0.0.1",
    port: server.addr.port,
    method: "GET" as const,
    host: `127.0.0.1:${server.addr.port}`,
    headers: new Headers({ "x-probe": "yes" }),
    signal: AbortSignal.timeout(5000),
  };
  try {
    const c = await http1({ ...base, target: "/chunked", maxBody: 1024 });
    assert.deepEqual([c.status, dec.decode(c.body)], [200, "part one, part two"]);
    const big = await http1({ ...base, target: "/", maxBody: 64 * 1024 });
    assert.equal(big.status, 503);
    assert.equal(big.body.length, 64 * 1024);
    const moved = await http1({ ...base, target: "/moved", maxBody: 0 });
    assert.deepEqual([moved.status, moved.headers.get("location")], [302, "http://127.0.0.1/x"]);
  } finally {
    await server.shutdown();
  }
});
