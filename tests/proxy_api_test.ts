/**
 * Routes through the HTTP API with a real Caddy and a real app on the single-node Swarm: a route
 * to a 2-replica httpd app answers through Caddy over HTTPS (Caddy's internal CA) and follows the
 * app across a redeploy, a scale and a rollback; the app's automatic subdomain
 * `<app>-<org>.<domain>` answers once a default domain is set; who may do what (viewers read,
 * members route to their apps, wildcards and external URLs for platform admins); a hostname
 * belongs to one route in the whole install (the owner named to platform admins only); bad input
 * is a 400 naming the field; a deleted route's hostname answers 404 at the proxy; every change is
 * audited.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { dockerFixture } from "./support/docker_api.ts";
import { dockerTestsIgnored, TEST_IMAGE } from "../lib/docker/testing.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import { cleanupApps } from "./support/apps.ts";
import { ask, startCaddy } from "./support/caddy.ts";
import { until } from "./support/process.ts";

const SUITE = "proxy-api";
// deno-lint-ignore no-explicit-any
type Answer = { status: number; body: any };
const ignored = dockerTestsIgnored(SUITE);

/** An httpd answering `text` on container port 80, published in host mode on a port Swarm picks. */
function httpd(text: string, replicas = 2) {
  return {
    name: "web",
    image: TEST_IMAGE,
    replicas,
    command: ["sh", "-c"],
    args: [`mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`],
    ports: [{ target: 80, mode: "host" }],
    health_check: { cmd: ["test", "-f", "/www/index.html"], interval_s: 1, retries: 1 },
    update: { parallelism: 1, delay_s: 0, order: "start-first", monitor_s: 2 },
    restart: { condition: "any", delay_s: 1 },
    stop_grace_s: 1,
  };
}

dbTest(
  "[docker] proxy API: a route to an app through Caddy over HTTPS, following redeploy, scale and rollback; auto subdomain; policy; conflicts",
  async (h) => {
    if (ignored) return;
    const caddy = await startCaddy();
    const f = await dockerFixture(h, SUITE, undefined, {
      CAPSTAN_CADDY_ADMIN: caddy.endpoint.base,
      CAPSTAN_PROXY_HTTP_PORT: String(caddy.httpPort),
      CAPSTAN_PROXY_HTTPS_PORT: String(caddy.httpsPort),
    });
    const docker = createDockerClient({ timeoutMs: 60_000 });
    const root = await f.t.user("root@x.io", { admin: true, org: "acme", role: "owner" });
    const other = await f.t.user("other@y.io", { org: "globex", role: "owner" });
    const org = (await f.t.services.orgs.bySlug("acme"))!;
    const globex = (await f.t.services.orgs.bySlug("globex"))!;
    const as = async (
      cookie: string,
      method: string,
      path: string,
      json?: unknown,
    ): Promise<Answer> => {
      const res = await f.t.request(path, { method, cookie, json });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const member = (m: string, p: string, j?: unknown) => as(f.users.member.cookie, m, p, j);
    const routes = "/api/v1/orgs/acme/routes";
    const apps = "/api/v1/orgs/acme/apps";
    try {
      const made = await as(root.cookie, "POST", "/api/v1/cluster", {
        host_id: f.hostId,
        advertise_addr: "127.0.0.1",
        adopt: true,
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const created = await member("POST", apps, {
        name: "shop",
        spec: { services: [httpd("hello-v1")] },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      await until(
        "shop #1 running",
        async () => (await member("GET", `${apps}/shop/deployments/1`)).body.status === "running",
        120_000,
      );

      // A route with Caddy's internal CA; the answer comes after Caddy loaded it.
      const spec = {
        hostnames: ["Shop.Capstan.Test."],
        target: { kind: "app", app: "shop", service: "web", port: 80 },
        tls: "internal",
        response_headers: { "X-Served-By": "capstan" },
        basic_auth: { username: "ops", password: "correct horse" },
      };
      assert.equal((await as(f.users.viewer.cookie, "POST", routes, spec)).status, 403);
      const r = await member("POST", routes, spec);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.applied.ok, true, JSON.stringify(r.body.applied));
      assert.equal(r.body.route.status, "active");
      assert.deepEqual(r.body.route.spec.hostnames, ["shop.capstan.test"]);
      assert.deepEqual(
        r.body.route.spec.basic_auth,
        { username: "ops" },
        "the password never comes back",
      );
      assert.equal(r.body.route.domains[0].tls_state, "internal");
      const id = r.body.route.id;
      const auth = { authorization: `Basic ${btoa("ops:correct horse")}` };
      const ca = await caddy.rootCa();
      const through = () =>
        ask(caddy.httpsPort, "shop.capstan.test", "/", { tls: { ca }, headers: auth }).catch((
          e,
        ) => ({
          status: 0,
          body: String(e),
          headers: {} as Record<string, string>,
        }));
      await until("the route over HTTPS", async () => (await through()).status === 200);
      const first = await through();
      assert.equal(first.body.trim(), "hello-v1");
      assert.equal(first.headers["x-served-by"], "capstan");
      assert.equal(
        (await ask(caddy.httpsPort, "shop.capstan.test", "/", { tls: { ca } })).status,
        401,
      );

      // The route follows the app: a redeploy moves both tasks to new host ports.
      const updated = await member("PATCH", `${apps}/shop`, {
        spec: { services: [httpd("hello-v2")] },
      });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.equal((await member("POST", `${apps}/shop/deploy`)).status, 202);
      await until(
        "the route to serve v2",
        async () => (await through()).body.trim() === "hello-v2",
        120_000,
      );
      await until(
        "shop #2 running",
        async () => (await member("GET", `${apps}/shop/deployments/2`)).body.status === "running",
        120_000,
      );
      const scaled = await member("POST", `${apps}/shop/scale`, { service: "web", replicas: 1 });
      assert.equal(scaled.status, 202, JSON.stringify(scaled.body));
      await until(
        "shop #3 running",
        async () => (await member("GET", `${apps}/shop/deployments/3`)).body.status === "running",
        120_000,
      );
      for (let i = 0; i < 5; i++) {
        const r = await through();
        assert.equal(r.status, 200, `still served after the scale: ${r.body}`);
      }
      // And back: a rollback to deployment #1 serves v1 again through the same route.
      const back = await member("POST", `${apps}/shop/rollback`, { to: "1" });
      assert.equal(back.status, 202, JSON.stringify(back.body));
      await until(
        "the route to serve v1 after the rollback",
        async () => (await through()).body.trim() === "hello-v1",
        120_000,
      );

      // Automatic subdomain: <app>-<org>.<default domain>, internal CA.
      const settings = await as(root.cookie, "PUT", "/api/v1/proxy/settings", {
        default_domain: "apps.capstan.test",
        default_tls: "internal",
      });
      assert.equal(settings.status, 200, JSON.stringify(settings.body));
      assert.equal(settings.body.applied.ok, true);
      assert.equal(
        (await as(f.users.owner.cookie, "PUT", "/api/v1/proxy/settings", {})).status,
        403,
      );
      await until("the automatic subdomain", async () => {
        const a = await ask(caddy.httpsPort, "shop-acme.apps.capstan.test", "/", { tls: { ca } })
          .catch(() => null);
        return a?.status === 200 && a.body.trim() === "hello-v1";
      });

      // Policy, validation, conflicts.
      const wild = await member("POST", routes, { ...spec, hostnames: ["*.capstan.test"] });
      assert.deepEqual([wild.status, Object.keys(wild.body.error.fields)], [403, ["hostnames.0"]]);
      const url = await member("POST", routes, {
        hostnames: ["ext.capstan.test"],
        target: { kind: "url", url: "http://127.0.0.1:1/" },
      });
      assert.deepEqual([url.status, Object.keys(url.body.error.fields)], [403, ["target.kind"]]);
      const bad = await member("POST", routes, { ...spec, hostnames: ["not a host"] });
      assert.deepEqual([bad.status, Object.keys(bad.body.error.fields)], [400, ["hostnames.0"]]);
      const noApp = await member("POST", routes, {
        ...spec,
        hostnames: ["x.capstan.test"],
        target: { kind: "app", app: "nope", service: "web", port: 80 },
      });
      assert.deepEqual([noApp.status, Object.keys(noApp.body.error.fields)], [400, ["target.app"]]);
      const theirs = await as(other.cookie, "POST", "/api/v1/orgs/globex/routes", {
        hostnames: ["shop.capstan.test"],
        target: { kind: "url", url: "http://127.0.0.1:1/" },
      });
      assert.equal(theirs.status, 403, "a non-admin of another org cannot route to a URL");
      const taken = await as(other.cookie, "POST", "/api/v1/orgs/globex/routes", {
        hostnames: ["shop.capstan.test"],
        target: { kind: "app", app: "shop", service: "web", port: 80 },
      });
      assert.equal(taken.status, 400, "globex has no app shop");
      const rootTaken = await as(root.cookie, "POST", "/api/v1/orgs/acme/routes", {
        hostnames: ["SHOP.capstan.test"],
        target: { kind: "url", url: "http://127.0.0.1:1/" },
      });
      assert.equal(rootTaken.status, 409);
      assert.match(
        rootTaken.body.error.message,
        new RegExp(`in use by route ${id} of organization ${org.id}`),
      );
      assert.equal(
        (await as(other.cookie, "GET", `/api/v1/orgs/globex/routes`)).body.items.length,
        0,
      );
      assert.equal((await as(other.cookie, "GET", `/api/v1/orgs/globex/routes/${id}`)).status, 404);
      void globex;

      // Viewers read; the list finds by hostname; delete frees the name at the proxy.
      const listed = await as(f.users.viewer.cookie, "GET", `${routes}?search=shop`);
      assert.deepEqual(listed.body.items.map((x: { id: string }) => x.id), [id]);
      const gone = await member("DELETE", `${routes}/${id}`);
      assert.equal(gone.status, 200, JSON.stringify(gone.body));
      assert.equal(gone.body.applied.ok, true);
      const after = await ask(caddy.httpsPort, "shop.capstan.test", "/", { tls: { ca } }).catch((
        e,
      ) => ({ status: 0, body: String(e) }));
      assert.notEqual(after.status, 200, "the deleted route no longer serves");
      assert.equal((await ask(caddy.httpPort, "shop.capstan.test")).status, 404);

      const audit = await as(root.cookie, "GET", `/api/v1/orgs/acme/audit?limit=100`);
      const actions = audit.body.items.map((x: { action: string }) => x.action);
      for (const a of ["route.create", "route.delete"]) {
        assert.ok(actions.includes(a), `${a} audited`);
      }
      assert.ok(
        !JSON.stringify(audit.body).includes("correct horse"),
        "the password is in no audit row",
      );
    } catch (e) {
      console.log(caddy.output().slice(-3000));
      throw e;
    } finally {
      await f.t.services.apps.idle();
      await cleanupApps(docker, [org.id, globex.id], SUITE).catch((e) => console.error(e));
      docker.close();
      await f.close();
      await caddy.stop();
    }
  },
);
