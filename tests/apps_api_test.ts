/**
 * Apps through the HTTP API as a new user would drive them, on the real engine adopted as a
 * single-node cluster: the cluster created by a platform admin (adoption confirmed), an app with
 * 2 replicas and one with a host-mode published port (this kernel has no IPVS, so no routing
 * mesh: see the README) that answers curl, an update, a broken version that Swarm rolls back by
 * itself, a rollback by hand with its diff, stop/start, the timeline, the audit log, and a delete
 * that needs the app's name. Every action answers within 5 s; the work goes on in the background.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { dockerTestsIgnored } from "../lib/docker/testing.ts";
import { appsApiFixture, cleanupApps } from "./support/apps.ts";
import { TEST_IMAGE } from "../lib/docker/testing.ts";

const SUITE = "apps-api";
const ignored = dockerTestsIgnored(SUITE);

/** An httpd service answering `text`; host-mode port `published` when given. */
function httpd(text: string, extra: Record<string, unknown> = {}) {
  return {
    name: "web",
    image: TEST_IMAGE,
    command: ["sh", "-c"],
    args: [`mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`],
    health_check: { cmd: ["test", "-f", "/www/index.html"], interval_s: 1, retries: 1 },
    update: { parallelism: 1, delay_s: 1, order: "start-first", monitor_s: 3 },
    restart: { condition: "any", delay_s: 1 },
    stop_grace_s: 1,
    ...extra,
  };
}

/** A free TCP port on the loopback (to publish in host mode). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

dbTest(
  "[docker] apps API: cluster, deploy, curl, update, automatic and manual rollback, stop/start, delete",
  async (h) => {
    if (ignored) return;
    const { f, docker, root, org } = await appsApiFixture(h, SUITE);
    const as = async (cookie: string, method: string, path: string, json?: unknown) => {
      const started = performance.now();
      const res = await f.t.request(path, { method, cookie, json });
      const ms = performance.now() - started;
      assert.ok(ms < 5000, `${method} ${path} answered in ${Math.round(ms)} ms`);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const member = (m: string, p: string, j?: unknown) => as(f.users.member.cookie, m, p, j);
    const api = "/api/v1/orgs/acme/apps";
    const deployment = (app: string, n: number) => member("GET", `${api}/${app}/deployments/${n}`);
    const settled = (app: string, n: number) =>
      until(`deployment #${n} of ${app}`, async () => {
        const d = (await deployment(app, n)).body;
        return ["running", "failed", "rolled_back"].includes(d.status) ? d : undefined;
      });
    try {
      // The cluster: platform admins only; the CI engine already manages a swarm, so it is adopted.
      assert.equal((await as(f.users.owner.cookie, "GET", "/api/v1/cluster")).status, 403);
      assert.deepEqual((await as(root.cookie, "GET", "/api/v1/cluster")).body, {
        cluster: null,
        nodes: [],
      });
      const noCluster = await member("POST", api, {
        name: "early",
        spec: { services: [httpd("x")] },
      });
      assert.equal(noCluster.status, 503);
      assert.match(noCluster.body.error.message, /Settings → Cluster/);
      const create = { host_id: f.hostId, advertise_addr: "127.0.0.1" };
      const refused = await as(root.cookie, "POST", "/api/v1/cluster", create);
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      const made = await as(root.cookie, "POST", "/api/v1/cluster", { ...create, adopt: true });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      assert.equal(made.body.adopted, true);
      const cluster = (await as(root.cookie, "GET", "/api/v1/cluster")).body;
      assert.equal(cluster.nodes.length, 1);
      assert.equal(cluster.nodes[0].host_id, f.hostId);

      // Bad specs: 400 naming the field; the org's policy: 403 naming the field.
      const bad = await member("POST", api, {
        name: "bad",
        spec: {
          services: [httpd("x", {
            resources: {
              limits: { memory_bytes: 16 << 20 },
              reservations: { memory_bytes: 32 << 20 },
            },
          })],
        },
      });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.ok(
        Object.keys(bad.body.error.fields).some((k) => k.startsWith("spec.services.0.resources")),
        JSON.stringify(bad.body.error.fields),
      );
      const bind = await member("POST", api, {
        name: "bind",
        spec: { services: [httpd("x", { binds: ["/etc:/host-etc"] })] },
      });
      assert.equal(bind.status, 403, JSON.stringify(bind.body));
      assert.ok("spec.services.0.binds" in bind.body.error.fields);
      assert.equal(
        (await as(f.users.viewer.cookie, "POST", api, { name: "v", spec: {} })).status,
        403,
      );
      const huge = await member("POST", api, {
        name: "huge",
        spec: {
          services: [httpd("x", { resources: { reservations: { memory_bytes: 2 ** 50 } } })],
        },
      });
      assert.equal(huge.status, 507, JSON.stringify(huge.body));
      assert.match(huge.body.error.message, /no node has .* MiB of memory free/);

      // Without IPVS there is no routing mesh: an ingress port is refused with the way out.
      if (!made.body.routing_mesh) {
        const ingress = await member("POST", api, {
          name: "ingress",
          spec: { services: [httpd("x", { ports: [{ target: 80, published: freePort() }] })] },
        });
        assert.equal(ingress.status, 400, JSON.stringify(ingress.body));
        assert.match(ingress.body.error.fields["spec.services.0.ports.0.mode"], /host mode/);
      }

      // Two replicas, reached inside the cluster; their status names the node of each task.
      const pair = await member("POST", api, {
        name: "pair",
        spec: { services: [httpd("pair", { replicas: 2 })] },
      });
      assert.equal(pair.status, 202, JSON.stringify(pair.body));
      assert.equal(pair.body.deployment.number, 1);
      assert.equal((await settled("pair", 1)).status, "running");
      const st = (await member("GET", `${api}/pair/status`)).body;
      assert.equal(st.services[0].running, 2);
      assert.ok(st.services[0].tasks.every((t: { host_id: string }) => t.host_id === f.hostId));
      // The host page says the host is the cluster's node and names the app tasks on it.
      const hostPage = await (await f.t.request(`/o/acme/hosts/${f.hostId}`, {
        cookie: f.users.member.cookie,
      })).text();
      assert.match(hostPage, /<h2 id="swarm-title">Cluster node<\/h2>/);
      assert.match(hostPage, /<dt>Role<\/dt><dd>manager/);
      assert.match(hostPage, /href="\/o\/acme\/apps\/pair">pair<\/a>/);
      assert.match(hostPage, /web\.1/);
      assert.match(hostPage, /web\.2/);

      // One replica on a host-mode published port: curl answers v1, then v2 after an update.
      const port = freePort();
      const web = (text: string) => ({
        services: [httpd(text, { ports: [{ target: 80, published: port, mode: "host" }] })],
      });
      const shop = await member("POST", api, { name: "shop", spec: web("v1") });
      assert.equal(shop.status, 202, JSON.stringify(shop.body));
      assert.equal((await settled("shop", 1)).status, "running");
      const curl = async () => {
        const r = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
        return r ? (await r.text()).trim() : undefined;
      };
      assert.equal(await until("shop to answer", curl), "v1");
      const taken = await member("POST", api, { name: "other", spec: web("x") });
      assert.equal(taken.status, 400);
      assert.match(
        taken.body.error.fields["spec.services.0.ports.0.published"],
        /already published by app shop/,
      );

      assert.equal((await member("PATCH", `${api}/shop`, { spec: web("v2") })).status, 200);
      const second = await member("POST", `${api}/shop/deploy`);
      assert.equal(second.status, 202);
      assert.equal((await settled("shop", 2)).status, "running");
      assert.equal(await until("v2", async () => (await curl()) === "v2" ? "v2" : undefined), "v2");
      const diff = (await deployment("shop", 2)).body;
      assert.equal(diff.previous_number, 1);
      assert.ok(JSON.stringify(diff.diff).includes("v2"), JSON.stringify(diff.diff));

      // A version that exits: Swarm rolls it back by itself; v2 keeps answering.
      const broken = web("v3");
      broken.services[0].args = ["echo 'fatal: no config' >&2; exit 3"];
      await member("PATCH", `${api}/shop`, { spec: broken });
      assert.equal((await member("POST", `${api}/shop/deploy`)).status, 202);
      const third = await settled("shop", 3);
      assert.equal(third.status, "rolled_back", JSON.stringify(third));
      assert.match(third.reason, /exit|3/);
      assert.equal(await curl(), "v2");

      // By hand, back to #1.
      const back = await member("POST", `${api}/shop/rollback`, { to: "1" });
      assert.equal(back.status, 202, JSON.stringify(back.body));
      assert.equal((await settled("shop", back.body.deployment.number)).status, "running");
      assert.equal(
        await until("v1 again", async () => (await curl()) === "v1" ? "v1" : undefined),
        "v1",
      );

      // Stop keeps the app (0 tasks), start brings it back.
      const stop = await member("POST", `${api}/shop/stop`);
      assert.equal(stop.status, 202);
      // While it runs, another deployment of the app is refused.
      assert.equal((await member("POST", `${api}/shop/restart`)).status, 409);
      assert.equal((await settled("shop", stop.body.deployment.number)).status, "running");
      assert.equal(await curl(), undefined, "no task answers once stopped");
      assert.equal((await member("GET", `${api}/shop`)).body.desired_state, "stopped");
      assert.equal((await member("POST", `${api}/shop/start`)).status, 202);
      assert.equal(await until("started", curl), "v1");

      const events = (await member("GET", `${api}/shop/events`)).body.items;
      assert.ok(events.length >= 5, JSON.stringify(events));
      const list = (await member("GET", `${api}?search=sh`)).body;
      assert.deepEqual(list.items.map((a: { name: string }) => a.name), ["shop"]);
      const audit = await f.t.services.audit.list({ orgId: org.id, limit: 200 });
      const actions = new Set(audit.rows.map((r) => r.action));
      for (
        const a of ["app.created", "app.updated", "app.deployed", "app.rolled_back", "app.stopped"]
      ) {
        assert.ok(actions.has(a), `${a} audited`);
      }

      // Delete: admins, and only with the app's name.
      assert.equal((await member("DELETE", `${api}/shop?confirm=shop`)).status, 403);
      const admin = (m: string, p: string) => as(f.users.admin.cookie, m, p);
      const unconfirmed = await admin("DELETE", `${api}/shop?confirm=shopp`);
      assert.equal(unconfirmed.status, 400);
      assert.match(unconfirmed.body.error.fields.confirm, /must be "shop"/);
      assert.equal((await admin("DELETE", `${api}/shop?confirm=shop`)).status, 204);
      assert.equal((await member("GET", `${api}/shop`)).status, 404);
      await until("shop's services gone", async () => {
        const left = await docker.listServices({ filters: { label: [`capstan.org=${org.id}`] } });
        return left.some((s) => s.Spec.Name.includes("shop")) ? undefined : true;
      });
    } finally {
      await f.t.services.apps.idle();
      await cleanupApps(docker, [org.id], SUITE);
      docker.close();
      await f.agent.stop();
    }
  },
);
