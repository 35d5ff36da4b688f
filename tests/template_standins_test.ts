/**
 * The stand-in images the end-to-end tests deploy the built-in templates with (no registry is
 * reachable here): they are built for every image a built-in uses, a database stand-in becomes
 * healthy through the template's own health check only after its start delay, a site stand-in
 * answers only once its database does, and the nginx stand-in runs the Decap template's start
 * script. Plain containers on a test network; no Capstan deployment involved.
 */
import assert from "node:assert/strict";
import type { DockerClient } from "../lib/docker/client.ts";
import {
  dockerTestsIgnored,
  eventually,
  testLabels,
  testName,
  withDocker,
} from "../lib/docker/testing.ts";
import { builtinTemplates } from "../lib/templates/builtins.ts";
import { renderTemplate, resolveValues } from "../lib/templates/render.ts";
import type { ServiceSpec } from "../lib/apps/spec.ts";
import { AppSpec } from "../lib/apps/spec.ts";
import { ensureStandins, STANDINS } from "./support/template_standins.ts";

const SUITE = "standins";
const ignore = dockerTestsIgnored(SUITE);
const LABELS = testLabels(SUITE);

/** A built-in rendered with the stand-ins, each service's environment with its secrets put in. */
async function rendered(id: string, given: Record<string, string>, images: Record<string, string>) {
  const t = (await builtinTemplates()).find((b) => b.template.id === id)!.template;
  const { values, problems } = resolveValues(t, given);
  assert.deepEqual(problems, {});
  const { rendered } = renderTemplate(t, "site", values, { images });
  const spec = AppSpec.parse(rendered.spec);
  const service = (name: string) => spec.services.find((s) => s.name === name)!;
  // What the deployer does: each secret reference becomes the variable it names.
  const env = (s: ServiceSpec) => {
    const out = { ...s.env };
    for (const r of s.secrets) {
      if (r.env) out[r.env] = rendered.secrets.find((x) => x.name === r.secret)!.value;
    }
    return out;
  };
  return { service, env, secrets: rendered.secrets.map((s) => s.value) };
}

/** Starts a container on `network` from a rendered service, optionally publishing a port. */
async function run(
  docker: DockerClient,
  network: string,
  s: ServiceSpec,
  env: Record<string, string>,
  publish?: number,
) {
  const name = testName(SUITE, s.name);
  const h = s.health_check;
  const { id } = await docker.createContainer(name, {
    image: s.image,
    ...(s.command ? { entrypoint: s.command } : {}),
    ...(s.args ? { cmd: s.args } : {}),
    env,
    labels: LABELS,
    networkMode: network,
    ...(publish ? { ports: [{ containerPort: publish, hostPort: 0, hostIp: "127.0.0.1" }] } : {}),
    // The template's own check, probing often so the test does not wait for its interval.
    ...(h ? { healthcheck: { test: ["CMD", ...h.cmd], intervalMs: 300, timeoutMs: 3000 } } : {}),
  });
  return { id, name };
}

async function hostPort(docker: DockerClient, id: string, port: number): Promise<number> {
  const c = await docker.inspectContainer(id);
  return Number(c.NetworkSettings.Ports?.[`${port}/tcp`]?.[0]?.HostPort);
}

async function get(
  port: number,
  path = "/",
): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(3000) });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

async function logs(docker: DockerClient, id: string): Promise<string> {
  let out = "";
  for await (const l of await docker.containerLogs(id)) out += `${l.line}\n`;
  return out;
}

async function network(docker: DockerClient): Promise<string> {
  const name = testName(SUITE, "net");
  await docker.createNetwork({ name, labels: LABELS });
  return name;
}

Deno.test({
  name: "[docker] ensureStandins() behaviour: one stand-in per image of the built-ins, built once",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const images = await ensureStandins(docker);
      const used = new Set(
        (await builtinTemplates()).flatMap((b) =>
          Object.values(b.template.services).map((s) => s.image)
        ),
      );
      assert.deepEqual(Object.keys(images).sort(), [...used].sort());
      assert.deepEqual(Object.keys(STANDINS).sort(), [...used].sort());
      const ids = await Promise.all(
        Object.values(images).map(async (tag) => (await docker.inspectImage(tag)).Id),
      );
      const again = await ensureStandins(docker);
      assert.deepEqual(again, images, "same content, same tags");
      const idsAgain = await Promise.all(
        Object.values(again).map(async (tag) => (await docker.inspectImage(tag)).Id),
      );
      assert.deepEqual(idsAgain, ids, "nothing rebuilt");
    }),
});

Deno.test({
  name:
    "[docker] stand-ins behaviour: MariaDB healthy only after its delay, WordPress answers once it is",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const images = await ensureStandins(docker);
      const net = await network(docker);
      const wp = await rendered("wordpress", {}, images);
      const dbSpec = wp.service("db");
      const siteSpec = wp.service("wordpress");
      const db = await run(docker, net, dbSpec, wp.env(dbSpec));
      // On Capstan's network the database is the service "db"; here containers have unique names.
      const siteEnv = wp.env(siteSpec);
      assert.equal(siteEnv.WORDPRESS_DB_HOST, "db:3306");
      siteEnv.WORDPRESS_DB_HOST = `${db.name}:3306`;
      const site = await run(docker, net, siteSpec, siteEnv, 80);

      // The site starts first and waits: nothing answers while its database is not up.
      await docker.startContainer(site.id);
      const port = await hostPort(docker, site.id, 80);
      assert.ok(port > 0);
      await eventually(
        async () => (await logs(docker, site.id)).includes("waiting for the database") || undefined,
        "the site to wait for its database",
      );
      assert.equal(await get(port), undefined, "no answer before the database is up");

      await docker.startContainer(db.id);
      const started = Date.parse((await docker.inspectContainer(db.id)).State.StartedAt);
      const health = await eventually(async () => {
        const h = (await docker.inspectContainer(db.id)).State.Health;
        return h?.Status === "healthy" ? h : undefined;
      }, "the database's health check to pass");
      // The template's `healthcheck.sh --connect --innodb_initialized` passed, but never before
      // the port listened: the first passing probe started after the delay (3 s).
      const firstOk = health.Log!.find((l) => l.ExitCode === 0)!;
      assert.ok(
        Date.parse(firstOk.Start) - started >= 2_900,
        `healthy ${Date.parse(firstOk.Start) - started} ms after start`,
      );

      const page = await eventually(async () => {
        const r = await get(port);
        return r?.status === 200 ? r.body : undefined;
      }, "the site to answer");
      assert.match(page, new RegExp(`^wordpress stand-in; db=${db.name}:3306 reachable; env: `));
      for (const n of ["WORDPRESS_DB_HOST", "WORDPRESS_DB_PASSWORD", "WORDPRESS_AUTH_KEY"]) {
        assert.ok(page.includes(n), n);
      }
      const dbLog = await logs(docker, db.id);
      assert.match(dbLog, /mariadb stand-in: listening on port 3306/);
      assert.match(dbLog, /MARIADB_PASSWORD MARIADB_ROOT_PASSWORD/);
      const siteLog = await logs(docker, site.id);
      for (const secret of wp.secrets) {
        for (const text of [page, dbLog, siteLog]) assert.ok(!text.includes(secret), "no secret");
      }

      // SIGTERM stops a stand-in at once (PID 1 handles it), as the real servers do.
      const t0 = Date.now();
      await docker.stopContainer(site.id, { t: 20 });
      assert.ok(Date.now() - t0 < 10_000, `stopped in ${Date.now() - t0} ms`);
    }),
});

Deno.test({
  name:
    "[docker] stand-ins behaviour: PostgreSQL refuses to start without a password, as the image does",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const images = await ensureStandins(docker);
      const net = await network(docker);
      const django = await rendered("django", {}, images);
      const spec = django.service("db");
      const env = django.env(spec);
      delete env.POSTGRES_PASSWORD;
      const db = await run(docker, net, spec, env);
      await docker.startContainer(db.id);
      const exited = await eventually(async () => {
        const c = await docker.inspectContainer(db.id);
        return c.State.Status === "exited" ? c : undefined;
      }, "the stand-in to exit");
      assert.equal(exited.State.ExitCode, 1);
      assert.match(
        await logs(docker, db.id),
        /none of POSTGRES_PASSWORD, POSTGRES_HOST_AUTH_METHOD/,
      );
    }),
});

Deno.test({
  name:
    "[docker] stand-ins behaviour: nginx runs the Decap template's start script and serves /admin",
  ignore,
  fn: () =>
    withDocker(SUITE, async (docker) => {
      const images = await ensureStandins(docker);
      const net = await network(docker);
      const decap = await rendered(
        "static",
        { git_repo: "acme/site", git_branch: "content" },
        images,
      );
      const spec = decap.service("web");
      const web = await run(docker, net, spec, decap.env(spec), 80);
      await docker.startContainer(web.id);
      const port = await hostPort(docker, web.id, 80);
      const config = await eventually(async () => {
        const r = await get(port, "/admin/config.yml");
        return r?.status === 200 ? r.body : undefined;
      }, "Decap's config");
      assert.match(config, /^# Written by Capstan/);
      assert.match(config, /\n {2}name: "github"\n {2}repo: "acme\/site"\n {2}branch: "content"\n/);
      assert.ok(!config.includes("base_url") && !config.includes("app_id"), config);
      assert.match((await get(port, "/admin/"))!.body, /decap-cms@\^3\.0\.0\/dist\/decap-cms\.js/);
      assert.match((await get(port, "/"))!.body, /Welcome to nginx!/);
    }),
});
