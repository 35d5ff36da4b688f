import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { silentLogger } from "../log.ts";
import { createAppStore } from "./store.ts";
import { AppSpec } from "./spec.ts";
import { createImageCleanup, type RemoveOutcome } from "./image_cleanup.ts";

const spec = AppSpec.parse({ services: [{ name: "web", image: "capstan-test/busybox:latest" }] });
const trigger = { kind: "deploy" as const, actor_type: "user" as const, actor_id: "u1" };

dbTest(
  "image clean-up: only images of deployments older than the last N that nobody keeps; failures never throw",
  async (h) => {
    const store = createAppStore(h.db, manualClock(1000));
    const orgId = crypto.randomUUID();
    await h.db.insertInto("organizations").values({
      id: orgId,
      slug: "o",
      name: "o",
      created_at: 0,
    }).execute();
    const deployAll = async (name: string, images: string[]) => {
      const app = await store.create(orgId, { name, spec }, null);
      for (const img of images) {
        const d = await store.startDeployment(app, { spec, trigger, images: { web: img } });
        await store.setStatus(d, "running");
      }
      return app;
    };
    // shop: #1 a, #2 b, #3 c, #4 d, #5 d; with N = 3 the last three are c, d, d.
    const shop = await deployAll("shop", ["a", "b", "c", "d", "d"]);
    // blog's last three (x, b, y) keep b; its oldest (a) is not the last three.
    await deployAll("blog", ["a", "x", "b", "y"]);
    assert.deepEqual((await store.recentImages(3)).sort(), ["b", "c", "d", "x", "y"]);

    const calls: string[] = [];
    const outcomes: Record<string, RemoveOutcome | Error> = { a: "removed" };
    const cleanup = (over: Partial<Parameters<typeof createImageCleanup>[0]> = {}) =>
      createImageCleanup({
        store,
        log: silentLogger,
        keep: 3,
        nodes: () =>
          Promise.resolve([{ host_id: "h1", hostname: "n1" }, { host_id: null, hostname: "n2" }]),
        serviceImages: () => Promise.resolve([]),
        removeImage: (host, ref) => {
          calls.push(`${host}:${ref}`);
          const o = outcomes[ref];
          return o instanceof Error ? Promise.reject(o) : Promise.resolve(o ?? "absent");
        },
        ...over,
      });
    let r = await cleanup().run(shop);
    assert.deepEqual(calls, ["h1:a"], "b is kept by blog; c and d are shop's last three");
    assert.deepEqual(r.removed, [{ ref: "a", node: "n1" }]);
    const events = await store.events(shop);
    assert.equal(events[0].kind, "images");
    assert.equal(events[0].message, "Removed 1 image of deployments older than the last 3");

    // A running service keeps its image; the engine's refusal and errors are reported, not thrown.
    calls.length = 0;
    r = await cleanup({ serviceImages: () => Promise.resolve(["a"]) }).run(shop);
    assert.deepEqual(calls, []);
    outcomes.a = "in_use";
    r = await cleanup().run(shop);
    assert.deepEqual(r.in_use, [{ ref: "a", node: "n1" }]);
    outcomes.a = new Error("agent offline");
    r = await cleanup().run(shop);
    assert.match(r.errors[0], /a on n1: Error: agent offline/);
    r = await cleanup({ nodes: () => Promise.reject(new Error("no manager")) }).run(shop);
    assert.match(r.errors[0], /no manager/);
    // N = 0 keeps every image; fewer than N deployments leaves nothing older.
    calls.length = 0;
    await cleanup({ keep: 0 }).run(shop);
    await cleanup({ keep: 9 }).run(shop);
    assert.deepEqual(calls, []);
  },
);
