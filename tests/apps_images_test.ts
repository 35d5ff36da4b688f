/**
 * Keeping the images of an app's last N (5) deployments on the real engine adopted as a
 * single-node cluster: eight locally built images (committed from capstan-test/busybox, each its
 * own id), one deployment each; once the eighth runs, the image only the first deployment used is
 * gone from the node, while the second stays because a container uses it (the engine refuses, no
 * force), the third because another organization's app runs it, and the last five remain.
 */
import assert from "node:assert/strict";
import { OWNER, withSingleNodeApps } from "./support/apps.ts";
import { commitImage } from "./support/docker_api.ts";
import { dockerTestsIgnored, TEST_IMAGE, testLabels, testName } from "../lib/docker/testing.ts";

const SUITE = "apps-images";
const ignored = dockerTestsIgnored(SUITE);
const SOCKET = "/var/run/docker.sock";

/** A service running `image` that stops at once on SIGTERM. */
const sleeper = (image: string) => ({
  name: "web",
  image,
  command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
  stop_grace_s: 1,
  update: { parallelism: 1, delay_s: 0, order: "start-first" as const, monitor_s: 1 },
});

Deno.test({
  name: "[docker] apps: the images of the last 5 deployments stay, older ones go unless in use",
  ignore: ignored,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withSingleNodeApps(SUITE, async (env, docker) => {
      const repo = `capstan-test/keep-${env.run}`;
      // Eight images, each its own id (a label per version).
      const base = await docker.createContainer(testName(SUITE, "base"), {
        image: TEST_IMAGE,
        cmd: ["true"],
        labels: testLabels(SUITE),
      });
      const images: string[] = [];
      for (let v = 1; v <= 8; v++) {
        await commitImage(SOCKET, base.id, repo, `v${v}`, {
          ...testLabels(SUITE),
          "capstan.test.version": String(v),
        });
        images.push(`${repo}:v${v}`);
      }
      const ids = await Promise.all(images.map(async (i) => (await docker.inspectImage(i)).Id));
      assert.equal(new Set(ids).size, 8);

      // v2 is used by a container (never started): the engine refuses to remove it.
      await docker.createContainer(testName(SUITE, "holder"), {
        image: images[1],
        cmd: ["true"],
        labels: testLabels(SUITE),
      });
      // v3 runs in another organization's app: its last deployments keep it.
      const other = await env.apps.create(OWNER, env.orgB.id, {
        name: `other-${env.run}`,
        spec: { services: [sleeper(images[2])] },
      });
      assert.equal((await env.deployed(env.orgB.id, other.app.id, 1)).status, "running");

      const { app } = await env.apps.create(OWNER, env.orgA.id, {
        name: `keep-${env.run}`,
        spec: { services: [sleeper(images[0])] },
      });
      assert.equal((await env.deployed(env.orgA.id, app.id, 1)).status, "running");
      for (let v = 2; v <= 8; v++) {
        const saved = await env.apps.update(OWNER, await env.store.get(env.orgA.id, app.id), {
          spec: { services: [sleeper(images[v - 1])] },
        });
        await env.apps.deploy(OWNER, saved);
        const d = await env.deployed(env.orgA.id, app.id, v);
        assert.equal(d.status, "running", d.reason ?? "");
        assert.equal(d.images.web, ids[v - 1], "pinned by id");
      }

      const present = async (id: string) => {
        try {
          await docker.inspectImage(id);
          return true;
        } catch (err) {
          if ((err as { status?: number }).status === 404) return false;
          throw err;
        }
      };
      const left = await Promise.all(ids.map(present));
      assert.deepEqual(left, [false, true, true, true, true, true, true, true]);
      const events = await env.store.events(await env.store.get(env.orgA.id, app.id));
      const removed = events.find((e) => e.kind === "images");
      assert.ok(removed, JSON.stringify(events.map((e) => e.message)));
      assert.match(removed.message, /^Removed 1 image of deployments older than the last 5$/);
      assert.deepEqual(
        (removed.data.removed as { ref: string }[]).map((r) => r.ref),
        [ids[0]],
      );
    }),
});
