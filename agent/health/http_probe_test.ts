import assert from "node:assert/strict";
import type { DockerClient } from "../../lib/docker/client.ts";
import { type HealthCheckSpec, HealthSync } from "../../lib/protocol/health.ts";
import { httpProbe } from "./http_probe.ts";
import { ProbeError } from "./probe.ts";
import type { Targets } from "./targets.ts";

const enc = new TextEncoder();

/**
 * A loopback server that counts the connections it accepts and answers each with `reply` (a
 * whole HTTP/1.0 response), so a test can assert that a refused check never connected.
 */
function countingServer(hostname: string, reply: (port: number) => string) {
  const listener = Deno.listen({ hostname, port: 0 });
  const port = listener.addr.port;
  let accepted = 0;
  const done = (async () => {
    for await (const conn of listener) {
      accepted++;
      (async () => {
        await conn.read(new Uint8Array(4096)).catch(() => null);
        await conn.write(enc.encode(reply(port))).catch(() => 0);
        conn.close();
      })();
    }
  })().catch(() => {});
  return {
    port,
    accepted: () => accepted,
    async close() {
      listener.close();
      await done;
    },
  };
}

/** Targets of one container whose own addresses are `own` (the first is where it answers). */
function targetsOf(own: string[]): Targets {
  return {
    address: () => Promise.resolve(own[0]),
    addresses: () => Promise.resolve(own),
    forget() {},
    retain() {},
  };
}

function spec(http: Record<string, unknown>): HealthCheckSpec {
  return HealthSync.parse({
    checks: [{
      id: crypto.randomUUID(),
      container_id: "c".repeat(64),
      kind: "http",
      interval_s: 10,
      timeout_s: 2,
      start_delay_s: 0,
      http,
    }],
  }).checks[0];
}

const OK = () => "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok";

async function probe(s: HealthCheckSpec, own: string[]) {
  const ctx = {
    docker: {} as DockerClient,
    targets: targetsOf(own),
    signal: AbortSignal.timeout(5_000),
  };
  try {
    return await httpProbe(s, ctx);
  } catch (err) {
    if (err instanceof ProbeError) return { ok: false, error: err.message };
    throw err;
  }
}

Deno.test("httpProbe() behaviour: a loopback host is refused before connecting unless an admin allowed it or it is the container's own", async () => {
  const server = countingServer("127.0.0.1", OK);
  try {
    // The container lives elsewhere (a bridge address); the check names the host's loopback.
    for (const host of ["127.0.0.1", "localhost", "2130706433", "0x7f.1"]) {
      const r = await probe(spec({ host, port: server.port }), ["172.17.0.5"]);
      assert.equal(r.ok, false, host);
      assert.match(r.error ?? "", /^Refused target .*not the container's own/, host);
    }
    assert.equal(server.accepted(), 0, "no connection was made");

    // An admin allowed it (the hub sets allow_private): it connects.
    const allowed = await probe(
      spec({ host: "127.0.0.1", port: server.port, allow_private: true }),
      ["172.17.0.5"],
    );
    assert.equal(allowed.ok, true, JSON.stringify(allowed));
    assert.equal(server.accepted(), 1);

    // The container's own address (a host-network container answers on loopback), named or not.
    const own = await probe(spec({ host: "127.0.0.1", port: server.port }), ["127.0.0.1", "::1"]);
    assert.equal(own.ok, true, JSON.stringify(own));
    const implicit = await probe(spec({ port: server.port }), ["127.0.0.1", "::1"]);
    assert.equal(implicit.ok, true, JSON.stringify(implicit));
    assert.equal(server.accepted(), 3);

    // Link-local and metadata: never, even when allowed.
    for (const host of ["169.254.169.254", "metadata.google.internal", "fe80::1", "2852039166"]) {
      const r = await probe(spec({ host, port: 80, allow_private: true }), ["172.17.0.5"]);
      assert.match(r.error ?? "", /^Refused target/, host);
    }
  } finally {
    await server.close();
  }
});

Deno.test("httpProbe() behaviour: every redirect hop is judged like the first, before connecting", async () => {
  // The hop a container's answer points at: another loopback address, not the container's own.
  const hidden = countingServer("127.0.0.2", OK);
  const redirector = countingServer(
    "127.0.0.1",
    () =>
      `HTTP/1.0 302 Found\r\nLocation: http://127.0.0.2:${hidden.port}/internal\r\n` +
      "Content-Length: 0\r\n\r\n",
  );
  try {
    const r = await probe(
      spec({ port: redirector.port, follow_redirects: true }),
      ["127.0.0.1"],
    );
    assert.equal(r.ok, false);
    assert.match(r.error ?? "", /^Refused target "127\.0\.0\.2"/);
    assert.equal(redirector.accepted(), 1, "the container itself was asked");
    assert.equal(hidden.accepted(), 0, "the redirect's target was never connected to");

    // Allowed by an admin, the same redirect is followed.
    const allowed = await probe(
      spec({
        host: "127.0.0.1",
        port: redirector.port,
        follow_redirects: true,
        allow_private: true,
      }),
      ["172.17.0.5"],
    );
    assert.equal(allowed.ok, true, JSON.stringify(allowed));
    assert.equal(hidden.accepted(), 1);
  } finally {
    await hidden.close();
    await redirector.close();
  }
});
