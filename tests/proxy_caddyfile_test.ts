/**
 * The Caddyfile export run by a real Caddy (Debian's `caddy`): adapted by `caddy adapt`, loaded
 * through the admin API, and asked over HTTP and HTTPS (internal CA), so each option is proven by
 * a request as the JSON renderer's are, including what the Caddyfile leaves to Caddy (the
 * automatic HTTP → HTTPS redirect in front of the catch-all 404).
 */
import assert from "node:assert/strict";
import { adaptCaddyfile, ask, startUpstream, withCaddy } from "./support/caddy.ts";
import { until } from "./support/process.ts";
import { renderCaddyfile } from "../lib/proxy/caddyfile.ts";
import { optionRoutes } from "./support/proxy_routes.ts";

Deno.test("caddyfile: the export, adapted and loaded into Caddy, applies each route option", async () => {
  const a = startUpstream("a");
  const b = startUpstream("b");
  try {
    await withCaddy(async (caddy, admin) => {
      const routes = optionRoutes(a.dial, b.dial);
      const caddyfile = renderCaddyfile(routes, {
        adminListen: caddy.endpoint.listen,
        httpPort: caddy.httpPort,
        httpsPort: caddy.httpsPort,
      });
      const { config } = await adaptCaddyfile(caddyfile);
      await admin.load(config);
      const tls = { ca: await caddy.rootCa() };
      const https = (host: string, path = "/", opts = {}) =>
        ask(caddy.httpsPort, host, path, { tls, ...opts });
      // Not on demand (as the JSON is): Caddy issues each certificate just after the load.
      for (const r of routes.filter((r) => Object.values(r.tls).includes("internal"))) {
        const host = r.spec.hostnames[0];
        await until(`a certificate for ${host}`, () => https(host).then(() => true, () => false));
      }

      assert.equal((await ask(caddy.httpPort, "plain.capstan.test")).status, 200);
      const secure = await https("shop.capstan.test", "/page");
      assert.equal(secure.status, 200);
      assert.match(secure.issuer ?? "", /Caddy Local Authority/);
      assert.equal(JSON.parse(secure.body).headers["x-from-proxy"], "capstan");
      assert.equal(JSON.parse(secure.body).headers["x-literal"], "{env.HOME}");
      assert.equal(secure.headers["x-frame-options"], "DENY");

      const redirected = await ask(caddy.httpPort, "shop.capstan.test", "/page?q=1");
      assert.equal(redirected.status, 308, "Caddy's automatic redirect, before the catch-all");
      assert.equal(
        redirected.headers.location,
        `https://shop.capstan.test:${caddy.httpsPort}/page?q=1`,
      );
      const www = await https("www.shop.capstan.test", "/x");
      assert.deepEqual([www.status, www.headers.location], [
        308,
        `https://shop.capstan.test:${caddy.httpsPort}/x`,
      ]);

      const api = JSON.parse((await https("shop.capstan.test", "/api/orders")).body);
      assert.deepEqual([api.name, api.path], ["b", "/orders"]);
      const big = await https("shop.capstan.test", "/api/orders", {
        method: "POST",
        body: "x".repeat(10_000),
      });
      assert.equal(big.status, 413);

      assert.equal((await https("admin.capstan.test")).status, 401);
      const right = { authorization: `Basic ${btoa("ops:correct horse")}` };
      assert.equal((await https("admin.capstan.test", "/", { headers: right })).status, 200);
      assert.equal((await https("walled.capstan.test")).status, 403);
      const closed = await https("closed.capstan.test");
      assert.equal(closed.status, 503);
      assert.match(closed.body, /Down for maintenance/);
      assert.equal((await https("empty.capstan.test")).status, 502);
      const nobody = await ask(caddy.httpPort, "nobody.capstan.test");
      assert.deepEqual([nobody.status, nobody.body], [404, "No route for nobody.capstan.test."]);
    });
  } finally {
    await a.stop();
    await b.stop();
  }
});
