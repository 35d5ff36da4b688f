import assert from "node:assert/strict";
import { renderCaddyConfig } from "./caddy_config.ts";
import { everyOptionRoutes } from "../../tests/support/proxy_routes.ts";

Deno.test("renderCaddyConfig() leaves TCP and UDP routes and rate limits out and reports them", () => {
  const { config, unsupported } = renderCaddyConfig(everyOptionRoutes(), {
    adminListen: "127.0.0.1:2019",
    httpPort: 80,
    httpsPort: 443,
  });
  assert.deepEqual(unsupported.map((u) => `${u.route_id}.${u.field}`).sort(), [
    "db.protocol",
    "dns.protocol",
    "web.rate_limit",
  ]);
  const ids: string[] = JSON.stringify(config).match(/capstan-route-[a-z]+/g) ?? [];
  assert.ok(ids.includes("capstan-route-web"));
  assert.ok(!ids.includes("capstan-route-db") && !ids.includes("capstan-route-dns"));
});
