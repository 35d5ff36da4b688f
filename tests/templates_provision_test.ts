/**
 * Provisioning a template end to end on both dialects, through the API, on the real single-node
 * Swarm and a real Caddy: an organization template (a "database" that listens only after a delay
 * and a site that exits at once if the database does not answer) is provisioned with a domain —
 * its steps stream on the provisioning's topic, the site starts only after the database is
 * healthy (its first task is its only task), the connection details and the generated password
 * reach it (as environment from secrets, never in the spec or any answer), and the site answers
 * over HTTPS through Caddy. A failure at each step (secrets, app, deploy, route, check) takes back
 * what the earlier steps made and names the step. Deprovisioning keeps the volumes by default and
 * deletes them only with the app's name typed.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { dockerFixture } from "./support/docker_api.ts";
import { dockerTestsIgnored, eventually, TEST_IMAGE } from "../lib/docker/testing.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import { cleanupApps } from "./support/apps.ts";
import { ask, startCaddy } from "./support/caddy.ts";

/** Waits for `check` to give a value (undefined: not yet); throws naming `what` after `ms`. */
const until = <T>(what: string, check: () => Promise<T | undefined>, ms = 60_000, _every = 200) =>
  eventually(check, what, ms);
import { LABELS } from "../lib/apps/swarm_spec.ts";

const SUITE = "templates-provision";
const ignored = dockerTestsIgnored(SUITE);
// deno-lint-ignore no-explicit-any
type Answer = { status: number; body: any; text: string };

/** A two-service stack on the test image, as an organization template. */
function stack(opts: { dbCommand?: string; reserveCpus?: number } = {}) {
  const db = opts.dbCommand ??
    // Listens only after 3 s; answers "ready" to anyone who connects.
    "mkdir -p /data && sleep 3 && while true; do echo ready | nc -l -p 5432; done";
  return `id: stack
name: Test stack
description: A database and a site that needs it.
category: test
version: 1.2.0
variables:
  - { name: db_password, label: Database password, type: password, generate: password }
  - { name: greeting, label: Greeting, default: hello }
services:
  db:
    image: ${TEST_IMAGE}
    entrypoint: [sh, -c]
    command: ["${db}"]
    environment:
      POSTGRES_PASSWORD: \${db_password}
    volumes: [data:/data]
    healthcheck:
      test: [CMD-SHELL, "echo | nc -w 1 127.0.0.1 5432 | grep -q ready"]
      interval: 1s
      retries: 30
    stop_grace_period: 1s
  web:
    image: ${TEST_IMAGE}
    entrypoint: [sh, -c]
    command:
      - >-
        reply=$(echo | nc -w 2 "$DB_HOST" 5432) && [ "$reply" = ready ] || { echo "db did not answer" >&2; exit 1; };
        mkdir -p /www && echo "$GREETING; db=$reply; password set=$([ -n "$DATABASE_URL" ] && echo yes)" > /www/index.html
        && exec httpd -f -p 80 -h /www
    environment:
      DB_HOST: \${db.host}
      GREETING: \${greeting}
      DATABASE_URL: postgres://app:\${db_password}@\${db.host}:5432/app
    depends_on:
      db: { condition: service_healthy }
    port: 80
    healthcheck:
      test: [CMD, test, -f, /www/index.html]
      interval: 1s
      retries: 2
    stop_grace_period: 1s${
    opts.reserveCpus ? `\n    resources: { reservations: { cpus: ${opts.reserveCpus} } }` : ""
  }
routes:
  - service: web
`;
}

dbTest(
  "[docker] templates: provision with a domain (ordered, secrets, progress, HTTPS through Caddy), failure at each step taken back, deprovision with and without volumes",
  async (h) => {
    if (ignored) return;
    const caddy = await startCaddy();
    const f = await dockerFixture(h, SUITE, undefined, {
      CAPSTAN_CADDY_ADMIN: caddy.endpoint.base,
      CAPSTAN_PROXY_HTTP_PORT: String(caddy.httpPort),
      CAPSTAN_PROXY_HTTPS_PORT: String(caddy.httpsPort),
    });
    const docker = createDockerClient({ timeoutMs: 60_000 });
    const s = f.t.services;
    const org = (await s.orgs.bySlug("acme"))!;
    const root = await f.t.user("root@x.io", { admin: true, org: "acme", role: "owner" });
    const answers: string[] = [];
    const as = async (cookie: string, method: string, path: string, json?: unknown) => {
      const res = await f.t.request(path, { method, cookie, json });
      const text = await res.text();
      answers.push(text);
      return { status: res.status, body: text ? JSON.parse(text) : null, text } as Answer;
    };
    const admin = (m: string, p: string, j?: unknown) => as(f.users.admin.cookie, m, p, j);
    const member = (m: string, p: string, j?: unknown) => as(f.users.member.cookie, m, p, j);
    const topics: string[] = [];
    const unsubscribe = s.bus.subscribe((topic, _data, json) => {
      if (topic.startsWith(`org:${org.id}:provision.`)) topics.push(json);
    });
    const api = "/api/v1/orgs/acme/templates";
    const settled = (id: string) =>
      until(
        `provisioning ${id}`,
        async () => {
          const p = (await member("GET", `/api/v1/orgs/acme/provisions/${id}`)).body;
          return p.status === "provisioning" ? undefined : p;
        },
        240_000,
        300,
      );
    const leftovers = async (name: string) => ({
      app: (await member("GET", `/api/v1/orgs/acme/apps/${name}`)).status,
      secrets: (await admin("GET", "/api/v1/orgs/acme/secrets")).body.items
        .map((x: { name: string }) => x.name).filter((n: string) =>
          n.startsWith(name.toUpperCase())
        ),
      routes: (await member("GET", "/api/v1/orgs/acme/routes")).body.items.filter((
        r: { spec: { target: { app?: string } } },
      ) => r.spec.target.app === name).length,
      services: (await docker.listServices({ filters: { label: [`${LABELS.org}=${org.id}`] } }))
        .filter((x) => x.Spec.Name.includes(`_${name}_`)).length,
    });
    try {
      assert.equal(
        (await as(root.cookie, "POST", "/api/v1/cluster", {
          host_id: f.hostId,
          advertise_addr: "127.0.0.1",
          adopt: true,
        })).status,
        201,
      );
      // Certificates from Caddy's internal CA (no ACME CA is reachable here).
      assert.equal(
        (await as(root.cookie, "PUT", "/api/v1/proxy/settings", { default_tls: "internal" }))
          .status,
        200,
      );

      // The template: members cannot save one; a bad one answers by line; admins save it.
      assert.equal((await member("POST", api, { source: stack() })).status, 403);
      const bad = await admin("POST", api, {
        source: stack().replace("port: 80", "port: 80\n    build: ."),
      });
      assert.equal(bad.status, 400);
      assert.ok(
        Object.entries(bad.body.error.fields).some(([k, v]) =>
          /^source:\d+:\d+$/.test(k) && String(v) === "services.web.build: unknown key build"
        ),
        JSON.stringify(bad.body.error.fields),
      );
      assert.equal((await admin("POST", api, { source: stack() })).status, 201);
      const listed = (await member("GET", `${api}?category=test`)).body.items;
      assert.deepEqual(listed.map((t: { id: string }) => t.id), ["stack"]);

      // Bad input answers before anything is made.
      let r = await member("POST", `${api}/stack/deploy`, {
        name: "Bad Name",
        domain: "not a domain",
        values: { nope: "x" },
      });
      assert.equal(r.status, 400);
      assert.deepEqual(Object.keys(r.body.error.fields).sort(), [
        "domain",
        "name",
        "variables.nope",
      ]);

      // Provision with a domain.
      r = await member("POST", `${api}/stack/deploy`, {
        name: "site",
        domain: "site.capstan.test",
        values: { greeting: "hi there" },
      });
      assert.equal(r.status, 202, r.text);
      const p = await settled(r.body.id);
      assert.equal(p.status, "ready", JSON.stringify(p));
      assert.deepEqual(
        p.steps.map((x: { step: string; status: string }) => `${x.step}:${x.status}`),
        ["secrets:done", "app:done", "deploy:done", "route:done", "check:done"],
      );
      assert.deepEqual(p.created.secrets, ["SITE_DB_PASSWORD", "SITE_WEB_DATABASE_URL"]);
      assert.deepEqual(p.values, { greeting: "hi there" });
      // Progress streamed: the steps as they ran, ending ready.
      const streamed = topics.map((t) => JSON.parse(t)).filter((x) => x.id === p.id);
      assert.ok(streamed.length >= 8, `${streamed.length} progress messages`);
      assert.equal(streamed.at(-1).status, "ready");
      assert.ok(streamed.some((x) => x.step === "deploy" && x.status === "provisioning"));

      // Ordered: the site's first task is its only one (it exits when the database is not up).
      const app = await s.apps.store.get(org.id, "site");
      const webTasks = await docker.listContainers({
        all: true,
        filters: { label: [`${LABELS.app}=${app.id}`, `${LABELS.service}=web`] },
      });
      assert.equal(webTasks.length, 1, "the site never started before its database");

      // Through Caddy over HTTPS with the internal CA.
      const ca = await caddy.rootCa();
      const page = await until("the site through Caddy", async () => {
        const a = await ask(caddy.httpsPort, "site.capstan.test", "/", { tls: { ca } }).catch(() =>
          null
        );
        return a?.status === 200 ? a : undefined;
      }, 60_000);
      assert.equal(page.body.trim(), "hi there; db=ready; password set=yes");

      // The generated password is in a secret, never in an answer or a progress message.
      const password = new TextDecoder().decode(
        (await s.secrets.material(org.id, "SITE_DB_PASSWORD", 1)).value,
      );
      assert.equal(password.length, 24);
      for (const [where, text] of [["answers", answers.join("\n")], ["topic", topics.join("\n")]]) {
        assert.ok(!text.includes(password), `the password appears in the ${where}`);
      }
      const appView = (await member("GET", "/api/v1/orgs/acme/apps/site")).body;
      assert.ok(!JSON.stringify(appView).includes(password));

      // A failure at each step: what was made is taken back; the step is named.
      const failing = async (
        name: string,
        step: string,
        setup: () => Promise<() => void | Promise<void>>,
        opts: { template?: string; domain?: boolean } = {},
      ) => {
        const restore = await setup();
        try {
          const d = await member("POST", `${api}/${opts.template ?? "stack"}/deploy`, {
            name,
            ...(opts.domain ? { domain: `${name}.capstan.test` } : {}),
          });
          assert.equal(d.status, 202, d.text);
          const done = await settled(d.body.id);
          assert.equal(done.status, "failed", `${step}: ${JSON.stringify(done)}`);
          assert.equal(done.step, step);
          assert.match(done.error, new RegExp(`^${step}: `));
          assert.ok(
            done.steps.some((x: { status: string }) => x.status === "undone") || step === "secrets",
          );
          assert.deepEqual(await leftovers(name), {
            app: 404,
            secrets: [],
            routes: 0,
            services: 0,
          });
          return done;
        } finally {
          await restore();
        }
      };
      // secrets: the second secret cannot be made (fault injected); the first is deleted.
      await failing("fail-secrets", "secrets", () => {
        const create = s.secrets.create;
        let n = 0;
        s.secrets.create = (...a: Parameters<typeof create>) => {
          if (++n === 2) return Promise.reject(new Error("injected: the store is down"));
          return create(...a);
        };
        return Promise.resolve(() => {
          s.secrets.create = create;
        });
      });
      // app: no node has the CPUs the site reserves (a real 507).
      await admin("POST", api, {
        source: stack({ reserveCpus: 512 }).replace("id: stack", "id: greedy"),
      });
      await failing("fail-app", "app", () => Promise.resolve(() => {}), { template: "greedy" });
      // deploy: the database exits at once, so nothing ever becomes healthy.
      await admin("POST", api, {
        source: stack({ dbCommand: "exit 3" }).replace("id: stack", "id: broken"),
      });
      const broken = await failing("fail-deploy", "deploy", () => Promise.resolve(() => {}), {
        template: "broken",
      });
      assert.match(broken.error, /^deploy: service db: .*non-zero exit \(3\)/);
      // route: the proxy is down when the route is loaded.
      await failing("fail-route", "route", () => {
        const create = s.proxy.create;
        s.proxy.create = async (...a: Parameters<typeof create>) => {
          const out = await create(...a);
          return {
            ...out,
            applied: { ok: false, at: Date.now(), error: "injected: Caddy is down" },
          };
        };
        return Promise.resolve(() => {
          s.proxy.create = create;
        });
      }, { domain: true });
      // check: the DNS check throws.
      await failing("fail-check", "check", () => {
        const check = s.proxy.checkDns;
        s.proxy.checkDns = () => Promise.reject(new Error("injected: no resolver"));
        return Promise.resolve(() => {
          s.proxy.checkDns = check;
        });
      }, { domain: true });

      // A template an app came from cannot be deleted.
      const inUse = await admin("DELETE", `${api}/stack`);
      assert.equal(inUse.status, 409);
      assert.match(inUse.body.error.message, /site/);
      assert.equal((await admin("DELETE", `${api}/static-site`)).status, 403);

      // Deprovision, keeping the volumes: the route, services and secrets go; the volume stays.
      const volume = "site_data";
      assert.ok((await docker.listVolumes()).some((v) => v.Name === volume));
      assert.equal(
        (await admin("POST", "/api/v1/orgs/acme/apps/site/deprovision", { volumes: true })).status,
        400,
        "deleting volumes needs the name typed",
      );
      r = await admin("POST", "/api/v1/orgs/acme/apps/site/deprovision", {});
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, {
        routes: 1,
        secrets: ["SITE_DB_PASSWORD", "SITE_WEB_DATABASE_URL"],
        volumes_kept: [volume],
      });
      assert.deepEqual(await leftovers("site"), { app: 404, secrets: [], routes: 0, services: 0 });
      assert.ok((await docker.listVolumes()).some((v) => v.Name === volume), "the volume is kept");
      await until("the site gone from Caddy", async () => {
        const a = await ask(caddy.httpsPort, "site.capstan.test", "/", { tls: { ca } }).catch(() =>
          null
        );
        return a?.status !== 200 || undefined;
      }, 30_000);

      // Provision again (the kept volume is reused) and deprovision with the volumes.
      r = await member("POST", `${api}/stack/deploy`, { name: "site" });
      assert.equal(r.status, 202, r.text);
      const again = await settled(r.body.id);
      assert.equal(again.status, "ready", JSON.stringify(again));
      r = await admin("POST", "/api/v1/orgs/acme/apps/site/deprovision", {
        volumes: true,
        confirm: "site",
      });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.volumes_kept, []);
      await until(
        "the volume removed",
        async () => (await docker.listVolumes()).some((v) => v.Name === volume) ? undefined : true,
        60_000,
      );
      const audit = await h.db.selectFrom("audit_log").select("action").where("org_id", "=", org.id)
        .execute();
      for (const a of ["template.create", "template.deploy", "app.deprovisioned"]) {
        assert.ok(audit.some((x) => x.action === a), `${a} audited`);
      }
    } finally {
      unsubscribe();
      await s.templates.idle();
      await s.apps.idle();
      await cleanupApps(docker, [org.id], SUITE).catch((e) => console.error(e));
      for (const v of ["site_data", "fail-deploy_data", "fail-route_data", "fail-check_data"]) {
        await docker.removeVolume(v).catch(() => {});
      }
      docker.close();
      await f.close();
      await caddy.stop();
    }
  },
  { ignore: ignored },
);
