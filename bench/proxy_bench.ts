/**
 * The reverse proxy (issue 15), with a real Caddy (Debian's) driven by the hub's own routes API
 * (in process, SQLite) and a real upstream on loopback:
 * - `route_apply_ms`: p95 over 50 routes of "create call → the new hostname answering through
 *   Caddy" (target < 500 ms); each create answers once Caddy has loaded it;
 * - `proxy_reload_failed_requests`: requests to an unchanged route that failed while 100 route
 *   changes were loaded under a steady client (target 0; needs `net.ipv4.tcp_migrate_req=1`);
 * - `proxy_overhead_p50_ms`: the median request through Caddy minus the median request straight
 *   to the upstream, same run, new connection each (reported).
 */
import { openTestDb } from "../tests/support/db.ts";
import { testApp } from "../tests/support/app.ts";
import { ask, startCaddy } from "../tests/support/caddy.ts";
import { freePort } from "../tests/support/process.ts";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];

/** Measures the three figures and hands them to `record`. */
export async function proxyBench(record: (name: string, value: number) => void): Promise<void> {
  const caddy = await startCaddy();
  const upstreamPort = freePort();
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: upstreamPort, onListen: () => {} },
    () => new Response("ok"),
  );
  const h = await openTestDb("sqlite");
  try {
    const t = testApp(h, undefined, undefined, {
      CAPSTAN_CADDY_ADMIN: caddy.endpoint.base,
      CAPSTAN_PROXY_HTTP_PORT: String(caddy.httpPort),
      CAPSTAN_PROXY_HTTPS_PORT: String(caddy.httpsPort),
    });
    const root = await t.user("root@bench.io", { admin: true, org: "bench", role: "owner" });
    const target = { kind: "url", url: `http://127.0.0.1:${upstreamPort}` };
    const create = async (hostname: string) => {
      const res = await t.request("/api/v1/orgs/bench/routes", {
        method: "POST",
        cookie: root.cookie,
        json: { hostnames: [hostname], target, https_redirect: false },
      });
      const body = await res.json();
      if (res.status !== 201 || !body.applied.ok) {
        throw new Error(`route ${hostname}: ${res.status} ${JSON.stringify(body)}`);
      }
    };

    // Apply latency: call → answering through Caddy.
    const applyMs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const host = `r${i}.bench.test`;
      const t0 = performance.now();
      await create(host);
      while ((await ask(caddy.httpPort, host).catch(() => null))?.status !== 200) {
        await new Promise((r) => setTimeout(r, 10));
      }
      applyMs.push(performance.now() - t0);
    }
    record("route_apply_ms", p95(applyMs));

    // Reloads under load: a steady client on r0 while 100 more routes are created.
    let failed = 0;
    let done = 0;
    let stop = false;
    const client = (async () => {
      while (!stop) {
        const r = await ask(caddy.httpPort, "r0.bench.test").catch(() => null);
        if (r?.status === 200) done++;
        else failed++;
      }
    })();
    for (let i = 0; i < 100; i++) await create(`load${i}.bench.test`);
    stop = true;
    await client;
    console.log(`proxy reloads under load: ${done} requests ok, ${failed} failed`);
    record("proxy_reload_failed_requests", failed);

    // Overhead: through Caddy against straight to the upstream, one new connection each.
    const via: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < 300; i++) {
      let t0 = performance.now();
      await ask(caddy.httpPort, "r0.bench.test");
      via.push(performance.now() - t0);
      t0 = performance.now();
      await ask(upstreamPort, "127.0.0.1");
      direct.push(performance.now() - t0);
    }
    record("proxy_overhead_p50_ms", median(via) - median(direct));
  } finally {
    await h.close?.();
    await upstream.shutdown();
    await caddy.stop();
  }
}
