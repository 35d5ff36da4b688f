/**
 * Every built-in template provisioned on the real single-node Swarm through the API, with its
 * official images replaced by local stand-ins (no registry is reachable here; see
 * tests/support/template_standins.ts): each one reaches ready (databases healthy before the
 * sites that wait for them), its routed service answers HTTP on its task's port, no generated
 * secret is in any answer, and deprovisioning with the volumes leaves nothing behind. The
 * official images themselves never ran here.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { dockerFixture } from "./support/docker_api.ts";
import { dockerTestsIgnored, eventually } from "../lib/docker/testing.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import { cleanupApps } from "./support/apps.ts";
import { ask } from "./support/caddy.ts";
import { ensureStandins } from "./support/template_standins.ts";
import { builtinTemplates } from "../lib/templates/builtins.ts";
import { LABELS } from "../lib/apps/swarm_spec.ts";

const SUITE = "templates-builtins";
/** Values for required variables without a default, by name (a pattern must accept them). */
const SAMPLES: Record<string, string> = { git_repo: "acme/site" };
const ignored = dockerTestsIgnored(SUITE);

dbTest(
  "[docker] every built-in template provisions on stand-ins, answers on its port, and deprovisions clean",
  async (h) => {
    if (ignored) return;
    const docker = createDockerClient({ timeoutMs: 60_000 });
    const images = await ensureStandins(docker);
    const map = await Deno.makeTempFile({ suffix: ".json" });
    await Deno.writeTextFile(map, JSON.stringify(images));
    const f = await dockerFixture(h, SUITE, undefined, { CAPSTAN_TEMPLATE_IMAGES: map });
    const s = f.t.services;
    const org = (await s.orgs.bySlug("acme"))!;
    const answers: string[] = [];
    const call = async (who: "member" | "admin", method: string, path: string, json?: unknown) => {
      const r = await f.call(who, method, path, json);
      answers.push(JSON.stringify(r.body));
      return r;
    };
    try {
      const root = await f.t.user("root@x.io", { admin: true, org: "acme", role: "owner" });
      const made = await f.t.request("/api/v1/cluster", {
        method: "POST",
        cookie: root.cookie,
        json: { host_id: f.hostId, advertise_addr: "127.0.0.1", adopt: true },
      });
      assert.equal(made.status, 201, await made.text());
      const figures: string[] = [];
      for (const { template } of await builtinTemplates()) {
        const name = `t-${template.id}`.slice(0, 30);
        const t0 = performance.now();
        const required = Object.fromEntries(
          template.variables.filter((v) => v.required && v.default === undefined && !v.generate)
            .map((
              v,
            ) => [v.name, SAMPLES[v.name] ?? (v.type === "domain" ? "example.org" : "value")]),
        );
        const r = await call(
          "member",
          "POST",
          `/api/v1/orgs/acme/templates/${template.id}/deploy`,
          {
            name,
            values: required,
          },
        );
        assert.equal(r.status, 202, `${template.id}: ${JSON.stringify(r.body)}`);
        const p = await eventually(
          async () => {
            const x =
              (await call("member", "GET", `/api/v1/orgs/acme/provisions/${r.body.id}`)).body;
            return x.status === "provisioning" ? undefined : x;
          },
          `${template.id} provisioned`,
          240_000,
        );
        assert.equal(p.status, "ready", `${template.id}: ${p.error}`);
        const route = template.routes[0];
        if (route) {
          const port = route.port ?? template.services[route.service].port!;
          const status =
            (await call("member", "GET", `/api/v1/orgs/acme/apps/${name}/status`)).body;
          const svc = status.services.find((x: { name: string }) => x.name === route.service);
          const published = svc.tasks.flatMap((
            t: { ports: { target: number; published: number }[] },
          ) => t.ports).find((x: { target: number }) => x.target === port)?.published;
          assert.ok(published, `${template.id}: the routed port is published`);
          const page = await eventually(
            async () => {
              const a = await ask(published, "site.test").catch(() => null);
              return a && a.status < 500 ? a : undefined;
            },
            `${template.id} answering`,
            60_000,
          );
          assert.ok(page.status < 400, `${template.id}: HTTP ${page.status}`);
        }
        for (const secret of p.created.secrets) {
          const value = new TextDecoder().decode(
            (await s.secrets.material(org.id, secret, 1)).value,
          );
          assert.ok(!answers.join("\n").includes(value), `${template.id}: ${secret} in an answer`);
        }
        const down = await call("admin", "POST", `/api/v1/orgs/acme/apps/${name}/deprovision`, {
          volumes: true,
          confirm: name,
        });
        assert.equal(down.status, 200, `${template.id}: ${JSON.stringify(down.body)}`);
        assert.deepEqual(down.body.secrets.sort(), [...p.created.secrets].sort());
        await eventually(
          async () => {
            const left = await docker.listServices({
              filters: { label: [`${LABELS.org}=${org.id}`] },
            });
            return left.length === 0 || undefined;
          },
          `${template.id} services gone`,
          60_000,
        );
        figures.push(`${template.id} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
      console.log(`built-in templates on stand-ins: ${figures.join(", ")}`);
    } finally {
      await s.templates.idle();
      await s.apps.idle();
      await cleanupApps(docker, [org.id], SUITE).catch((e) => console.error(e));
      for (const v of (await docker.listVolumes()).filter((v) => v.Name.startsWith("t-"))) {
        await docker.removeVolume(v.Name).catch(() => {});
      }
      docker.close();
      await f.close();
      await Deno.remove(map).catch(() => {});
    }
  },
  { ignore: ignored },
);
