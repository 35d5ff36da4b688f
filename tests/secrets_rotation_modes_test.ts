/**
 * What each rotation mode does to an app on the real single-node Swarm, through the API on both
 * dialects: "at next deploy" starts nothing (the trail says when the app gets it) and the next
 * deploy takes the new version; "restart now" replaces the tasks stop-first for that deployment
 * only; a stopped app is not started by a rotation; old versions past their retention are purged
 * (on the trail) except one a running deployment uses; a rollback to a deployment whose version was
 * purged runs the current version and the app's timeline says so; a binary secret cannot be an
 * environment variable (400 naming the field).
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { apiApps } from "./support/apps_api.ts";
import { dockerTestsIgnored, TEST_IMAGE } from "../lib/docker/testing.ts";
import { LABELS } from "../lib/apps/swarm_spec.ts";
import { execOutput } from "./support/counting_client.ts";

const SUITE = "secrets-modes";
const ignored = dockerTestsIgnored(SUITE);

const web = (secrets: unknown[]) => ({
  services: [{
    name: "web",
    image: TEST_IMAGE,
    command: ["sh", "-c"],
    args: ["mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www"],
    health_check: { cmd: ["test", "-f", "/www/index.html"], interval_s: 1, retries: 1 },
    update: { parallelism: 1, delay_s: 0, order: "start-first", monitor_s: 1 },
    restart: { condition: "any", delay_s: 1 },
    stop_grace_s: 1,
    secrets,
  }],
});

dbTest(
  "[docker] secret rotation modes: next deploy, restart now (stop-first once), stopped apps, purge and a rollback past a purged version",
  async (h) => {
    if (ignored) return;
    const a = await apiApps(h, SUITE);
    const { f, api, settled, docker } = a;
    const admin = (m: string, p: string, j?: unknown) => f.call("admin", m, p, j);
    const secrets = "/api/v1/orgs/acme/secrets";
    const value = async (appId: string) => {
      const [c] = await docker.listContainers({
        filters: { label: [`${LABELS.app}=${appId}`], status: ["running"] },
      });
      return (await execOutput(docker, c.Id, ["sh", "-c", 'printf "%s" "$TOKEN"'])).trim();
    };
    try {
      assert.equal((await admin("POST", secrets, { name: "TOKEN", value: "one" })).status, 201);
      assert.equal(
        (await admin("POST", secrets, { name: "BLOB", value_base64: btoa("\x00\x01\x02") }))
          .status,
        201,
      );
      const binEnv = await f.call("member", "POST", api, {
        name: "bin",
        spec: web([{ secret: "BLOB", env: "BLOB" }]),
      });
      assert.equal(binEnv.status, 400, JSON.stringify(binEnv.body));
      assert.match(binEnv.body.error.fields["spec.services.0.secrets.0.env"], /binary/);

      const made = await f.call("member", "POST", api, {
        name: "modes",
        spec: web([{ secret: "TOKEN", env: "TOKEN" }]),
      });
      assert.equal(made.status, 202, JSON.stringify(made.body));
      const appId = made.body.app.id;
      assert.equal((await settled("modes", 1)).status, "running");
      assert.equal(await value(appId), "one");

      // At next deploy: nothing starts; the trail says when; the next deploy takes version 2.
      let r = await admin("PUT", `${secrets}/TOKEN`, { value: "two", rotation: "next_deploy" });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      let trail = (await admin("GET", `${secrets}/TOKEN/trail`)).body.items;
      assert.match(trail[0].message, /modes gets it at its next deployment/);
      assert.equal(
        (await f.call("viewer", "GET", `${api}/modes/deployments`)).body.items.length,
        1,
      );
      const used = (await admin("GET", `${secrets}/TOKEN`)).body.used_by;
      assert.deepEqual(
        used.map((u: { app: string; deployed_version: number }) => [u.app, u.deployed_version]),
        [["modes", 1]],
      );
      assert.equal((await f.call("member", "POST", `${api}/modes/deploy`, {})).status, 202);
      let d = await settled("modes", 2);
      assert.equal(d.secrets.TOKEN.version, 2);
      assert.equal(await value(appId), "two");

      // Restart now: this deployment replaces the task stop-first; the next one is start-first.
      r = await admin("PUT", `${secrets}/TOKEN`, { value: "three", rotation: "restart" });
      assert.equal(r.status, 200);
      d = await settled("modes", 3);
      assert.equal(d.status, "running", d.reason);
      assert.deepEqual([d.trigger.kind, d.trigger.mode, d.trigger.version], [
        "secret",
        "restart",
        3,
      ]);
      const svc = async () =>
        (await docker.listServices({ filters: { label: [`${LABELS.app}=${appId}`] } }))[0];
      assert.equal((await svc()).Spec.UpdateConfig?.Order, "stop-first");
      assert.equal(await value(appId), "three");
      assert.equal((await f.call("member", "POST", `${api}/modes/restart`, {})).status, 202);
      assert.equal((await settled("modes", 4)).status, "running");
      assert.equal((await svc()).Spec.UpdateConfig?.Order, "start-first");
      assert.equal(await value(appId), "three", "a restart keeps the running version");

      // A stopped app is not started by a rotation.
      assert.equal((await f.call("member", "POST", `${api}/modes/stop`, {})).status, 202);
      assert.equal((await settled("modes", 5)).status, "running");
      r = await admin("PUT", `${secrets}/TOKEN`, { value: "four" });
      assert.equal(r.status, 200);
      trail = (await admin("GET", `${secrets}/TOKEN/trail`)).body.items;
      assert.match(trail[0].message, /modes is stopped; gets it when started/);
      assert.equal(
        (await f.call("viewer", "GET", `${api}/modes/deployments`)).body.items.length,
        5,
      );
      assert.equal((await f.call("member", "POST", `${api}/modes/start`, {})).status, 202);
      assert.equal((await settled("modes", 6)).status, "running");

      // Purge: every version older than the retention but the current one and the one the
      // running deployment uses (version 3: start keeps what ran) goes, each on the trail.
      const secretId = (await admin("GET", `${secrets}/TOKEN`)).body.id;
      await h.db.updateTable("secret_versions").set({ created_at: 0 })
        .where("secret_id", "=", secretId).execute();
      assert.deepEqual(await f.t.services.secrets.purge(), { purged: 2 });
      const kept = (await admin("GET", `${secrets}/TOKEN`)).body.versions.map((
        v: { version: number },
      ) => v.version);
      assert.deepEqual(kept, [4, 3]);
      trail = (await admin("GET", `${secrets}/TOKEN/trail`)).body.items;
      assert.deepEqual(
        trail.filter((e: { kind: string }) => e.kind === "purged").map((e: { version: number }) =>
          e.version
        ).sort(),
        [1, 2],
      );

      // A rollback to deployment #2 (version 2, purged): the current version runs, and says so.
      r = await f.call("member", "POST", `${api}/modes/rollback`, {
        to: (await f.call("viewer", "GET", `${api}/modes/deployments/2`)).body.id,
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      d = await settled("modes", 7);
      assert.equal(d.status, "running", d.reason);
      assert.equal(d.secrets.TOKEN.version, 4);
      assert.equal(await value(appId), "four");
      const events = (await f.call("viewer", "GET", `${api}/modes/events`)).body.items;
      assert.ok(
        events.some((e: { message: string }) =>
          /secret TOKEN version 2 was purged; version 4 is used instead/.test(e.message)
        ),
        JSON.stringify(events.map((e: { message: string }) => e.message)),
      );
    } finally {
      await a.close();
    }
  },
  { ignore: ignored },
);
