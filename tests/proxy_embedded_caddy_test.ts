/**
 * The hub runs Caddy itself (`CAPSTAN_CADDY=run`): Caddy starts with the hub, its admin API on a
 * Unix socket in the data directory (no TCP admin port), the routes are loaded into it; when Caddy
 * dies it is started again and gets the routes back; it stops with the hub.
 */
import assert from "node:assert/strict";
import { startTestHub } from "./support/hub.ts";
import { ask } from "./support/caddy.ts";
import { freePort, run, until } from "./support/process.ts";

Deno.test("[e2e] embedded Caddy: started with the hub on a socket, routes loaded, restarted with its routes after a crash, stopped with the hub", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "capstan-embedded-caddy-" });
  const upstreamPort = freePort();
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: upstreamPort, onListen: () => {} },
    () => new Response("embedded ok"),
  );
  const httpPort = freePort();
  const hub = await startTestHub(dataDir, {
    CAPSTAN_CADDY: "run",
    CAPSTAN_PROXY_HTTP_PORT: String(httpPort),
    CAPSTAN_PROXY_HTTPS_PORT: String(freePort()),
  });
  let stopped = false;
  try {
    // Caddy starts beside the hub (a loaded machine takes a moment): wait for its socket.
    await until(
      "Caddy's admin socket",
      async () => {
        const st = await Deno.stat(`${dataDir}/caddy/admin.sock`).catch(() => null);
        return st?.isSocket === true;
      },
      30_000,
      50,
    );
    const s = hub.services;
    const ctx = { actor: { type: "system" as const, name: "test" } };
    const org = await s.orgs.create(ctx, { slug: "acme", name: "Acme" });
    const r = await s.proxy.create(
      { ctx, orgId: org.id, platformAdmin: true },
      {
        hostnames: ["embedded.capstan.test"],
        target: { kind: "url", url: `http://127.0.0.1:${upstreamPort}` },
        https_redirect: false,
      },
    );
    assert.equal(r.applied.ok, true, r.applied.error);
    const answer = () => ask(httpPort, "embedded.capstan.test").catch(() => null);
    assert.equal((await answer())?.body, "embedded ok");

    // Caddy dies: the hub starts it again and loads the routes back.
    await run("pkill", ["-KILL", "-f", `${dataDir}/caddy/initial.json`]);
    await until("Caddy to be gone", async () => (await answer()) === null, 10_000, 50);
    await until(
      "the route after Caddy's restart",
      async () => (await answer())?.status === 200,
      30_000,
    );

    await hub.stop();
    stopped = true;
    assert.equal(await answer(), null, "Caddy stops with the hub");
  } finally {
    if (!stopped) await hub.stop();
    await upstream.shutdown();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
