/**
 * Built images through a registry (CAPSTAN_REGISTRY_URL), on both dialects: Debian's
 * docker-registry on a loopback port; a build asked before there is a cluster waits without a
 * worker and starts once there is one; a build of an app's Git source is pushed from the worker
 * to it, the deployment names the registry's reference pinned to the pushed digest, the registry
 * serves that manifest, and the app runs it.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { dockerFixture } from "./support/docker_api.ts";
import { dockerTestsIgnored, eventually, TEST_IMAGE } from "../lib/docker/testing.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import { cleanupApps } from "./support/apps.ts";
import { createRepo } from "./support/git_repos.ts";
import { startGitHttpServer } from "./support/git_http_server.ts";
import { startRegistry } from "./support/registry.ts";
import { removeBuiltImages, site } from "./support/builds.ts";

const SUITE = "builds-registry";
const ignored = dockerTestsIgnored(SUITE);

dbTest(
  "[docker] builds: with a registry, a built image is pushed from the worker and deployed by its digest",
  async (h) => {
    if (ignored) return;
    const registry = await startRegistry();
    const f = await dockerFixture(h, SUITE, undefined, { CAPSTAN_REGISTRY_URL: registry.host });
    const docker = createDockerClient({ timeoutMs: 120_000 });
    const s = f.t.services;
    const root = await f.t.user("root@x.io", { admin: true, org: "acme", role: "owner" });
    const gitRoot = await Deno.makeTempDir({ prefix: "capstan-git-" });
    const git = startGitHttpServer({ root: gitRoot });
    s.buildRunner.start();
    const api = "/api/v1/orgs/acme/apps/regshop";
    const member = async (method: string, path: string, json?: unknown) => {
      const res = await f.t.request(path, { method, cookie: f.users.member.cookie, json });
      return { status: res.status, body: await res.json() };
    };
    try {
      await createRepo(gitRoot, "regshop", site("from-registry"));
      let r = await member("POST", "/api/v1/orgs/acme/apps", {
        name: "regshop",
        deploy: false,
        spec: {
          services: [{
            name: "web",
            image: TEST_IMAGE,
            health_check: { cmd: ["test", "-f", "/www/healthy"], interval_s: 1, retries: 2 },
            stop_grace_s: 1,
          }],
        },
      });
      assert.equal(r.status, 201);
      r = await member("PUT", `${api}/services/web/source`, {
        repo_url: git.url("regshop.git"),
        branch: "main",
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      // Asked before there is a cluster: queued without a worker, picked up once there is one.
      r = await member("POST", `${api}/services/web/builds`, {});
      assert.equal(r.status, 202);
      assert.deepEqual([r.body.state, r.body.host_id], ["queued", null]);
      const cluster = await f.t.request("/api/v1/cluster", {
        method: "POST",
        cookie: root.cookie,
        json: { host_id: f.hostId, advertise_addr: "127.0.0.1", adopt: true },
      });
      assert.equal(cluster.status, 201);
      const b = await eventually(
        async () => {
          const x = (await member("GET", `${api}/builds/${r.body.number}`)).body;
          return x.state === "queued" || x.state === "running" ? undefined : x;
        },
        "the build",
        240_000,
      );
      assert.equal(b.state, "succeeded", JSON.stringify(b));
      const [repo, digest] = b.image.split("@");
      assert.ok(repo.startsWith(`${registry.host}/capstan-builds/`), b.image);
      assert.match(digest, /^sha256:[a-f0-9]{64}$/);
      // The registry serves the manifest under the pushed digest.
      const path = repo.slice(registry.host.length + 1).replace(/:b\d+$/, "");
      const res = await fetch(`${registry.url}/v2/${path}/manifests/${digest}`, {
        method: "HEAD",
        headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
      });
      assert.equal(res.status, 200);
      const log = await f.t.request(`${api}/builds/${b.number}/log`, {
        cookie: f.users.member.cookie,
      });
      assert.match(await log.text(), /Pushed .*sha256:/);
      const d = await eventually(
        async () => {
          const x = (await member("GET", `${api}/deployments?limit=5`)).body.items[0];
          return x && x.status !== "pending" && x.status !== "deploying" ? x : undefined;
        },
        "the deployment",
        240_000,
      );
      assert.equal(d.status, "running", d.reason);
      assert.equal(d.spec.services[0].image, b.image);
    } finally {
      await s.buildRunner.stop();
      await s.apps.idle();
      const org = await s.orgs.bySlug("acme");
      await cleanupApps(docker, [org!.id], SUITE).catch((e) => console.error(e));
      await removeBuiltImages(docker, org!.id).catch(() => {});
      await git.close();
      await Deno.remove(gitRoot, { recursive: true }).catch(() => {});
      await registry.close();
      await f.close();
      docker.close();
    }
  },
);
