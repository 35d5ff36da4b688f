/**
 * Templates (issue 17): `template_deploy_ready_s` — the deploy call of the built-in `wordpress`
 * template (WordPress + MariaDB; their stand-ins, images present: no registry is reachable here)
 * with a domain → its page answering over HTTPS through a real Caddy. It includes the stand-in
 * database's 3 s start delay and waiting for it to be healthy before the site starts; reported
 * beside the apps issue's single-service `app_deploy_ready_s`.
 */
import { openTestDb } from "../tests/support/db.ts";
import { dockerFixture } from "../tests/support/docker_api.ts";
import { ask, startCaddy } from "../tests/support/caddy.ts";
import { ensureStandins } from "../tests/support/template_standins.ts";
import { cleanupApps } from "../tests/support/apps.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import { eventually } from "../lib/docker/testing.ts";

const SUITE = "templates-bench";

/** Measures the figure and hands it to `record`. */
export async function templatesBench(record: (name: string, value: number) => void) {
  const docker = createDockerClient({ timeoutMs: 60_000 });
  const images = await ensureStandins(docker);
  const map = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(map, JSON.stringify(images));
  const h = await openTestDb("sqlite");
  const caddy = await startCaddy();
  const f = await dockerFixture(h, SUITE, undefined, {
    CAPSTAN_CADDY_ADMIN: caddy.endpoint.base,
    CAPSTAN_PROXY_HTTP_PORT: String(caddy.httpPort),
    CAPSTAN_PROXY_HTTPS_PORT: String(caddy.httpsPort),
    CAPSTAN_TEMPLATE_IMAGES: map,
  });
  const org = (await f.t.services.orgs.bySlug("acme"))!;
  try {
    const root = await f.t.user("root@x.io", { admin: true, org: "acme", role: "owner" });
    const post = (cookie: string, path: string, json: unknown, method = "POST") =>
      f.t.request(path, { method, cookie, json }).then(async (r) => ({
        status: r.status,
        body: await r.json().catch(() => null),
      }));
    await post(root.cookie, "/api/v1/cluster", {
      host_id: f.hostId,
      advertise_addr: "127.0.0.1",
      adopt: true,
    });
    await post(root.cookie, "/api/v1/proxy/settings", { default_tls: "internal" }, "PUT");
    const ca = await caddy.rootCa().catch(() => "");
    const t0 = performance.now();
    const r = await post(f.users.member.cookie, "/api/v1/orgs/acme/templates/wordpress/deploy", {
      name: "bench",
      domain: "bench.capstan.test",
    });
    if (r.status !== 202) throw new Error(`deploy answered ${r.status}: ${JSON.stringify(r.body)}`);
    await eventually(
      async () => {
        const a = await ask(caddy.httpsPort, "bench.capstan.test", "/", {
          tls: { ca: ca || await caddy.rootCa() },
        }).catch(() => null);
        return a?.status === 200 || undefined;
      },
      "the site through Caddy",
      120_000,
    );
    record("template_deploy_ready_s", Math.round((performance.now() - t0) / 10) / 100);
  } finally {
    await f.t.services.templates.idle();
    await f.t.services.apps.idle();
    await cleanupApps(docker, [org.id], SUITE).catch(() => {});
    for (const v of (await docker.listVolumes()).filter((v) => v.Name.startsWith("bench_"))) {
      await docker.removeVolume(v.Name).catch(() => {});
    }
    await f.close();
    await caddy.stop();
    await h.close();
    docker.close();
    await Deno.remove(map).catch(() => {});
  }
}

if (import.meta.main) {
  await templatesBench((name, value) => console.log(`${name} ${value}`));
}
