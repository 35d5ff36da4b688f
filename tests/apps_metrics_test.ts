/**
 * App metrics on the real engine adopted as a single-node cluster, on both databases: an app with
 * 2 replicas is deployed, then a new version (every container replaced); the hub learns the task
 * containers from the app's status and the reconciler; samples are fed through metrics ingest for
 * the old and the new containers' ids; the API's service total equals the sum of its replicas at
 * every point and still holds the replaced containers' minutes. Also: 404 across organizations,
 * 400 naming the field, a viewer may read, and the app page carries the charts.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { dockerTestsIgnored, TEST_IMAGE } from "../lib/docker/testing.ts";
import { appsApiFixture, cleanupApps } from "./support/apps.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { until } from "./support/process.ts";

const SUITE = "apps-metrics";
const ignored = dockerTestsIgnored(SUITE);
const MIN = 60_000;

type Task = { slot: number; state: string; desired: string; container_id: string | null };

dbTest(
  "[docker] app metrics: service total is the sum of its replicas, replaced containers included; 404 across orgs; 400 names the field; charts on the page",
  async (h) => {
    if (ignored) return;
    const { f, docker, root, org } = await appsApiFixture(h, SUITE);
    const other = await f.t.services.orgs.create(SYSTEM_CTX, {
      slug: `other-${crypto.randomUUID().slice(0, 6)}`,
      name: "Other",
    });
    const outsider = await f.t.user("out@x.io", { org: other.slug, role: "owner" });
    const name = `metered-${crypto.randomUUID().slice(0, 6)}`;
    const api = `/api/v1/orgs/acme/apps/${name}`;
    try {
      const made = await f.t.request("/api/v1/cluster", {
        method: "POST",
        cookie: root.cookie,
        json: { host_id: f.hostId, advertise_addr: "127.0.0.1", adopt: true },
      });
      assert.equal(made.status, 201, await made.text());
      const spec = (version: string) => ({
        services: [{
          name: "web",
          image: TEST_IMAGE,
          command: ["sh", "-c"],
          args: ["mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 80 -h /www"],
          replicas: 2,
          update: { parallelism: 2, delay_s: 0, order: "start-first", monitor_s: 1 },
          restart: { condition: "any", delay_s: 1 },
          stop_grace_s: 1,
          env: { VERSION: version },
        }],
      });
      const created = await f.call("member", "POST", "/api/v1/orgs/acme/apps", {
        name,
        spec: spec("1"),
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));

      /** The running container of each slot, once both slots run one not in `not`. */
      const running = async (not: Set<string>) => {
        let slots = new Map<number, string>();
        let last = "";
        await until(
          "2 running replicas",
          async () => {
            const st = await f.call("viewer", "GET", `${api}/status`);
            const tasks: Task[] = st.body?.services?.[0]?.tasks ?? [];
            last = JSON.stringify(tasks);
            const up = tasks.filter((t) =>
              t.state === "running" && t.desired === "running" && t.container_id &&
              !not.has(t.container_id)
            );
            slots = new Map(up.map((t) => [t.slot, t.container_id!]));
            return up.length === 2 && slots.size === 2;
          },
          120_000,
          300,
        ).catch((e) => {
          throw new Error(`${e.message}; tasks last seen: ${last}`);
        });
        return slots;
      };
      const settled = async (n: number) => {
        let status = "";
        await until(
          `deployment #${n}`,
          async () => {
            status = (await f.call("viewer", "GET", `${api}/deployments/${n}`)).body?.status;
            return ["running", "failed", "rolled_back"].includes(status);
          },
          120_000,
          300,
        );
        return status;
      };
      assert.equal(await settled(1), "running");
      // The deployment's end records its containers (before anyone asks for the app's status).
      const appRow = await f.t.services.apps.store.get(org.id, name);
      await until(
        "the deployment's containers recorded",
        async () =>
          (await f.t.services.db.selectFrom("app_task_containers").select("container_id")
            .where("app_id", "=", appRow.id).execute()).length === 2,
        30_000,
        200,
      );
      const first = await running(new Set());
      // A new version replaces every container (a restart keeps them: it changes no task spec).
      assert.equal((await f.call("member", "PATCH", api, { spec: spec("2") })).status, 200);
      const redeployed = await f.call("member", "POST", `${api}/deploy`);
      assert.equal(redeployed.status, 202, JSON.stringify(redeployed.body));
      assert.equal(await settled(2), "running");
      const second = await running(new Set(first.values()));
      // The reconciler's pass records them too (and must not report a failure doing so).
      const pass = await f.t.services.reconciler.pass();
      assert.deepEqual(pass.errors, []);

      // Samples for the replaced containers in one minute, for their replacements in the next.
      const now = f.t.services.clock.now();
      const m0 = now - (now % MIN) - 3 * MIN;
      const m1 = m0 + MIN;
      const fig = (cpu: number) => ({
        "ctr.cpu_pct": cpu,
        "ctr.mem_used_bytes": cpu * 1_000_000,
        "ctr.net_rx_bps": cpu * 100,
        "ctr.net_tx_bps": cpu * 10,
      });
      const minute = (start: number, containers: Record<string, ReturnType<typeof fig>>) =>
        Array.from({ length: 6 }, (_, i) => ({ t: start + i * 10_000, host: {}, containers }));
      const host = { id: f.hostId, org_id: org.id };
      await f.t.services.metrics.ingest(host, {
        seq: 1,
        dropped: 0,
        samples: [
          ...minute(m0, { [first.get(1)!]: fig(1), [first.get(2)!]: fig(2) }),
          ...minute(m1, { [second.get(1)!]: fig(10), [second.get(2)!]: fig(20) }),
        ],
      });

      const r = await f.call("viewer", "GET", `${api}/metrics?from=${now - 3_600_000}&to=${now}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.tier, "1m");
      assert.equal(r.body.containers, 4, "the replaced containers are still the app's");
      assert.equal(r.body.truncated, false);
      const series = new Map<string, [number, number][]>(
        r.body.series.map((
          s: { key: string; points: number[][] },
        ) => [s.key, s.points.map((p) => [p[0], p[1]])]),
      );
      for (const key of ["ctr.cpu_pct", "ctr.mem_used_bytes", "ctr.net_rx_bps", "ctr.net_tx_bps"]) {
        const total = series.get(`${key}{service=web}`);
        const r1 = new Map(series.get(`${key}{replica=web.1}`));
        const r2 = new Map(series.get(`${key}{replica=web.2}`));
        assert.ok(total, `${key}: ${[...series.keys()].join(", ")}`);
        assert.deepEqual(total.map((p) => p[0]), [m0, m1], key);
        for (const [t, v] of total) assert.equal(v, r1.get(t)! + r2.get(t)!, `${key} at ${t}`);
      }
      assert.deepEqual(series.get("ctr.cpu_pct{service=web}"), [[m0, 3], [m1, 30]]);
      assert.deepEqual(series.get("ctr.cpu_pct{replica=web.1}"), [[m0, 1], [m1, 10]]);
      // A week reads hour buckets (still pending here, so computed from the minutes): same sums.
      const week = await f.call(
        "viewer",
        "GET",
        `${api}/metrics?from=${now - 7 * 24 * 3_600_000}&to=${now}&metric=ctr.cpu_pct`,
      );
      assert.equal(week.status, 200, JSON.stringify(week.body));
      assert.equal(week.body.tier, "1h");
      const weekly = new Map<string, number[][]>(
        week.body.series.map((s: { key: string; points: number[][] }) => [s.key, s.points]),
      );
      const weekTotal = weekly.get("ctr.cpu_pct{service=web}")!;
      assert.ok(weekTotal.length >= 1 && weekTotal.length <= 2, JSON.stringify(weekTotal));
      const at = (key: string, t: number) => weekly.get(key)!.find((p) => p[0] === t)![1];
      for (const [t, v] of weekTotal) {
        assert.equal(v, at("ctr.cpu_pct{replica=web.1}", t) + at("ctr.cpu_pct{replica=web.2}", t));
      }
      const one = await f.call("viewer", "GET", `${api}/metrics?metric=ctr.cpu_pct&service=web`);
      assert.equal(one.status, 200);
      assert.deepEqual(
        one.body.series.map((s: { key: string }) => s.key),
        ["ctr.cpu_pct{replica=web.1}", "ctr.cpu_pct{replica=web.2}", "ctr.cpu_pct{service=web}"],
      );

      // The apps list: CPU and memory now, the sums of the running containers' newest figures.
      await f.t.services.metrics.ingest(host, {
        seq: 2,
        dropped: 0,
        samples: [{
          t: f.t.services.clock.now(),
          host: {},
          containers: { [second.get(1)!]: fig(10), [second.get(2)!]: fig(20) },
        }],
      });
      const list = await (await f.t.request("/o/acme/apps", { cookie: f.users.viewer.cookie }))
        .text();
      assert.match(list, new RegExp(`data-usage="${name}">30\\.0 % · 28\\.6 MiB<`));

      // Another organization's member sees no such app, by name or id, under their own org.
      const appId = created.body.deployment ? (await f.call("viewer", "GET", api)).body.id : "";
      for (const ref of [name, appId]) {
        const res = await f.t.request(`/api/v1/orgs/${other.slug}/apps/${ref}/metrics`, {
          cookie: outsider.cookie,
        });
        assert.equal(res.status, 404, ref);
      }
      // In the OpenAPI document, with its query parameters.
      const doc = await (await f.t.request("/api/v1/openapi.json")).json();
      const op = doc.paths["/api/v1/orgs/{org}/apps/{app}/metrics"]?.get;
      assert.ok(op, "app metrics in the OpenAPI document");
      assert.deepEqual(
        op.parameters.map((p: { name: string }) => p.name).sort(),
        ["app", "from", "metric", "org", "service", "to"],
      );
      // Bad input: 400 naming the field.
      const backwards = await f.call("viewer", "GET", `${api}/metrics?from=${now}&to=${now - 1}`);
      assert.equal(backwards.status, 400);
      assert.ok(backwards.body.error.fields.from, JSON.stringify(backwards.body));
      const bogus = await f.call("viewer", "GET", `${api}/metrics?metric=cpu.total_pct`);
      assert.equal(bogus.status, 400);
      assert.ok(bogus.body.error.fields.metric, JSON.stringify(bogus.body));
      const badService = await f.call("viewer", "GET", `${api}/metrics?service=Web!`);
      assert.equal(badService.status, 400);
      assert.ok(badService.body.error.fields.service, JSON.stringify(badService.body));

      // The app page draws the charts from this API (server-rendered frame, island hydrates).
      const page = await (await f.t.request(`/o/acme/apps/${name}`, {
        cookie: f.users.viewer.cookie,
      })).text();
      assert.match(page, /<h2[^>]*>Metrics<\/h2>/);
      for (const chart of ["cpu", "mem", "net"]) {
        assert.match(page, new RegExp(`data-chart="${chart}"`));
      }
      assert.match(page, /web\.1/);
    } finally {
      await f.t.services.apps.idle();
      await cleanupApps(docker, [org.id, other.id], SUITE);
      docker.close();
      await f.close();
    }
  },
);
