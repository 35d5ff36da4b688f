/**
 * Custom domains end to end, with a real Caddy and a real DNS responder on loopback: a route's
 * hostname shows the records to create; its DNS check goes pending (nothing yet) → wrong target
 * (naming what it found) → verified; an ACME hostname is served over plain HTTP and handed to the
 * CA only once verified (then HTTP redirects to HTTPS), never served a stand-in certificate as if
 * it were its own; an internal-CA hostname shows the certificate Caddy serves (issuer, expiry).
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { ask, startCaddy } from "./support/caddy.ts";
import { startDnsServer } from "./support/dns_server.ts";
import { freePort } from "./support/process.ts";

// deno-lint-ignore no-explicit-any
type Answer = { status: number; body: any };

dbTest(
  "[e2e] proxy domains: records to create, DNS pending → wrong target → verified, ACME only once verified, internal certificates read",
  async (h) => {
    const caddy = await startCaddy();
    const dns = await startDnsServer();
    const upstreamPort = freePort();
    const upstream = Deno.serve(
      { hostname: "127.0.0.1", port: upstreamPort, onListen: () => {} },
      () => new Response("upstream says hi"),
    );
    const t = testApp(h, undefined, undefined, {
      CAPSTAN_CADDY_ADMIN: caddy.endpoint.base,
      CAPSTAN_PROXY_HTTP_PORT: String(caddy.httpPort),
      CAPSTAN_PROXY_HTTPS_PORT: String(caddy.httpsPort),
      CAPSTAN_DNS_SERVERS: dns.server,
    });
    try {
      const root = await t.user("root@x.io", { admin: true, org: "acme", role: "owner" });
      const certificateEvents: { hostname: string; state: string }[] = [];
      t.services.events.on("proxy.certificate", (e) => {
        certificateEvents.push({ hostname: e.hostname, state: e.state });
      });
      const call = async (method: string, path: string, json?: unknown): Promise<Answer> => {
        const res = await t.request(path, { method, cookie: root.cookie, json });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : null };
      };
      // Where custom domains must point, and an ACME CA that cannot be reached from here.
      const s = await call("PUT", "/api/v1/proxy/settings", {
        ingress: { ipv4: ["127.0.0.1"] },
        acme_ca: "https://127.0.0.1:1/directory",
      });
      assert.equal(s.status, 200, JSON.stringify(s.body));
      const badIngress = await call("PUT", "/api/v1/proxy/settings", {
        ingress: { ipv4: ["nope"] },
      });
      assert.deepEqual([badIngress.status, Object.keys(badIngress.body.error.fields)], [400, [
        "ingress.ipv4.0",
      ]]);

      const target = { kind: "url", url: `http://127.0.0.1:${upstreamPort}` };
      const made = await call("POST", "/api/v1/orgs/acme/routes", {
        hostnames: ["shop.example.test"],
        target,
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const id = made.body.route.id;
      const [d0] = made.body.route.domains;
      assert.deepEqual(d0.dns_records, [{
        type: "A",
        name: "shop.example.test",
        value: "127.0.0.1",
      }]);
      assert.deepEqual([d0.dns_status, d0.tls_state], ["unchecked", "pending_dns"]);
      // Not verified: served over HTTP, not redirected to an HTTPS without a certificate.
      const plain = await ask(caddy.httpPort, "shop.example.test");
      assert.deepEqual([plain.status, plain.body], [200, "upstream says hi"]);

      const check = async () =>
        (await call("POST", `/api/v1/orgs/acme/routes/${id}/check-dns`)).body
          .domains[0];
      const pending = await check();
      assert.equal(pending.dns_status, "pending");
      assert.match(pending.dns_detail, /does not resolve/);
      assert.equal(pending.tls_state, "pending_dns");

      dns.set("shop.example.test", { a: ["10.9.9.9"] });
      const wrong = await check();
      assert.equal(wrong.dns_status, "wrong_target");
      assert.match(wrong.dns_detail, /10\.9\.9\.9/);

      dns.set("shop.example.test", { a: ["127.0.0.1"] });
      const verified = await check();
      assert.equal(verified.dns_status, "verified", verified.dns_detail);
      assert.equal(verified.tls_state, "issuing", "handed to the CA, no certificate yet");
      assert.deepEqual(certificateEvents, [{ hostname: "shop.example.test", state: "issuing" }]);
      // Now the hostname is HTTPS: plain HTTP redirects.
      const redirected = await ask(caddy.httpPort, "shop.example.test", "/x");
      assert.equal(redirected.status, 308);

      // A hostname on Caddy's internal CA: its certificate as served.
      const internal = await call("POST", "/api/v1/orgs/acme/routes", {
        hostnames: ["private.example.test"],
        target,
        tls: "internal",
      });
      assert.equal(internal.status, 201, JSON.stringify(internal.body));
      const ca = await caddy.rootCa();
      const through = await ask(caddy.httpsPort, "private.example.test", "/", { tls: { ca } });
      assert.equal(through.status, 200);
      const cert =
        (await call("POST", `/api/v1/orgs/acme/routes/${internal.body.route.id}/check-dns`))
          .body.domains[0];
      assert.equal(cert.tls_state, "internal");
      assert.match(cert.cert_issuer, /Caddy Local Authority/);
      assert.ok(cert.cert_not_after > Date.now(), "a certificate valid now");
    } catch (e) {
      console.log(caddy.output().slice(-3000));
      throw e;
    } finally {
      await upstream.shutdown();
      await dns.close();
      await caddy.stop();
    }
  },
);
