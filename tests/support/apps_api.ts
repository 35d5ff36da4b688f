/**
 * Apps through the HTTP API on the real engine adopted as a single-node cluster: the Docker
 * fixture's organization "acme" (a user per role, the local host), a platform admin who adopts
 * the engine's swarm, form posts and JSON calls, waiting for a deployment to end, and the
 * clean-up of what the organization's apps left in the engine.
 */
import assert from "node:assert/strict";
import type { DbHandle } from "../../lib/db/mod.ts";
import { createDockerClient } from "../../lib/docker/client.ts";
import { eventually } from "../../lib/docker/testing.ts";
import { dockerFixture } from "./docker_api.ts";
import { cleanupApps } from "./apps.ts";
import { builtIslands } from "./islands.ts";

/** The fixture with the cluster adopted; `close()` in a `finally`. */
export async function apiApps(h: DbHandle, suite: string) {
  const { manifest, dir } = await builtIslands();
  const f = await dockerFixture(h, suite, { islands: manifest, islandsDir: dir });
  const docker = createDockerClient({ timeoutMs: 60_000 });
  const org = (await f.t.services.orgs.bySlug("acme"))!;
  const root = await f.t.user("root@x.io", { admin: true, org: "acme", role: "owner" });
  const made = await f.t.request("/api/v1/cluster", {
    method: "POST",
    cookie: root.cookie,
    json: { host_id: f.hostId, advertise_addr: "127.0.0.1", adopt: true },
  });
  assert.equal(made.status, 201, await made.text());
  const api = "/api/v1/orgs/acme/apps";
  return {
    f,
    docker,
    api,
    /** Deployment `n` of `app` once it ended (running, failed, rolled back). */
    settled: (app: string, n: number) =>
      eventually(
        async () => {
          const d = (await f.call("viewer", "GET", `${api}/${app}/deployments/${n}`)).body;
          return ["running", "failed", "rolled_back"].includes(d.status) ? d : undefined;
        },
        `deployment #${n} of ${app}`,
        120_000,
      ),
    /** A page as `who`: status and HTML. */
    async page(who: keyof typeof f.users, path: string) {
      const res = await f.t.request(path, { cookie: f.users[who].cookie });
      return { status: res.status, html: await res.text() };
    },
    /** A form post as `who`: status, HTML and where it redirects. */
    async post(who: keyof typeof f.users, path: string, fields: Record<string, string>) {
      const res = await f.t.request(path, {
        method: "POST",
        body: new URLSearchParams(fields),
        cookie: f.users[who].cookie,
      });
      return { status: res.status, html: await res.text(), location: res.headers.get("location") };
    },
    async close() {
      await f.t.services.apps.idle();
      await cleanupApps(docker, [org.id], suite);
      docker.close();
      await f.agent.stop();
    },
  };
}
