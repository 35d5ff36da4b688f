/**
 * Organizations are isolated on the Swarm: each has its own overlay network, so a task of org B
 * can neither resolve nor connect to a service of org A — by its `<service>.<app>` name or by any
 * of its addresses — while inside an organization the same names work, and the in-app name `db`
 * of two apps in two organizations means each app's own db.
 */
import assert from "node:assert/strict";
import { dbService, OWNER, webService, withSingleNodeApps } from "./support/apps.ts";
import { execOutput } from "./support/counting_client.ts";
import type { DockerClient } from "../lib/docker/client.ts";
import { dockerTestsIgnored } from "../lib/docker/testing.ts";
import { LABELS } from "../lib/apps/swarm_spec.ts";

const SUITE = "apps-isolation";
const ignore = dockerTestsIgnored(SUITE);

/** A running task container of an app's service, and the task's addresses on every network. */
async function taskOf(docker: DockerClient, appId: string, service: string) {
  const tasks = await docker.listTasks({
    filters: { label: [`${LABELS.app}=${appId}`], "desired-state": ["running"] },
  });
  const t = tasks.find((t) =>
    t.Spec.ContainerSpec.Labels?.[LABELS.service] === service && t.Status.State === "running"
  );
  assert.ok(t?.Status.ContainerStatus?.ContainerID, `a running task of ${service}`);
  const ips = (t.NetworksAttachments ?? []).flatMap((a) =>
    (a.Addresses ?? []).map((x) => x.split("/")[0])
  );
  return { container: t.Status.ContainerStatus.ContainerID, ips };
}

/** What one HTTP request from inside a container gets (the body's last line, or nothing). */
const ask = (docker: DockerClient, container: string, target: string) =>
  execOutput(docker, container, [
    "sh",
    "-c",
    `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${target} 80 2>&1 | tail -1`,
  ]).then((s) => s.trim());

/** Whether a name resolves through Docker's DNS inside a container. */
const resolves = async (docker: DockerClient, container: string, name: string) =>
  /Address:\s*\d+\.\d+\.\d+\.\d+/.test(
    (await execOutput(docker, container, ["nslookup", name, "127.0.0.11"]))
      .split(/Name:/).slice(1).join(""),
  );

Deno.test({
  name:
    "[docker] apps isolation: org B's tasks cannot resolve or reach org A's services by name or address",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withSingleNodeApps(SUITE, async (env, docker) => {
      const { apps, orgA, orgB } = env;
      const dbSays = (word: string) =>
        dbService({
          args: [`mkdir -p /www && echo ${word} > /www/index.html && exec httpd -f -p 80 -h /www`],
        });
      const nameA = `shop-${env.run}`;
      const nameB = `mall-${env.run}`;
      const { app: a } = await apps.create(OWNER, orgA.id, {
        name: nameA,
        spec: { services: [webService("a", { replicas: 1 }), dbSays("ready-a")] },
      });
      const { app: b } = await apps.create(OWNER, orgB.id, {
        name: nameB,
        spec: { services: [webService("b", { replicas: 1 }), dbSays("ready-b")] },
      });
      for (const [org, app] of [[orgA, a], [orgB, b]] as const) {
        const d = await env.deployed(org.id, app.id, 1);
        assert.equal(d.status, "running", d.reason ?? "");
      }
      const webA = await taskOf(docker, a.id, "web");
      const dbA = await taskOf(docker, a.id, "db");
      const webB = await taskOf(docker, b.id, "web");
      assert.equal(webA.ips.length, 2, "a task is on its app's and its organization's network");

      // Inside an organization: the app's own name, and `<service>.<app>` from another service.
      assert.match(
        await ask(docker, dbA.container, `web.${nameA}`),
        /^a from \S+ \(db: ready-a\)$/,
      );
      for (const ip of webA.ips) {
        assert.match(await ask(docker, dbA.container, ip), /^a from /, `${ip} inside org A`);
      }
      // The same in-app name in two organizations: each app reaches its own db.
      assert.match(await ask(docker, webB.container, "db"), /^ready-b$/);
      assert.match(await ask(docker, webB.container, `web.${nameB}`), /\(db: ready-b\)$/);

      // Across organizations: no name resolves, no address answers.
      for (const name of [`web.${nameA}`, `db.${nameA}`]) {
        assert.equal(await resolves(docker, webB.container, name), false, `${name} resolves in B`);
        assert.doesNotMatch(await ask(docker, webB.container, name), /ready|from/);
      }
      for (const ip of [...webA.ips, ...dbA.ips]) {
        const got = await ask(docker, webB.container, ip);
        assert.doesNotMatch(got, /ready|from/, `org B reached ${ip} of org A: ${got}`);
      }
      // And the other way round.
      for (const ip of webB.ips) {
        assert.doesNotMatch(await ask(docker, dbA.container, ip), /ready|from/);
      }
      assert.equal(await resolves(docker, dbA.container, `web.${nameB}`), false);
    }),
});
