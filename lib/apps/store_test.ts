import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { createAppStore } from "./store.ts";
import { AppSpec } from "./spec.ts";
import { Conflict, NotFound } from "../errors.ts";

const spec = AppSpec.parse({ services: [{ name: "web", image: "capstan-test/busybox:latest" }] });
const user = { kind: "deploy" as const, actor_type: "user" as const, actor_id: "u1" };

async function org(db: Parameters<typeof createAppStore>[0], slug: string) {
  const id = crypto.randomUUID();
  await db.insertInto("organizations").values({ id, slug, name: slug, created_at: 0 }).execute();
  return id;
}

dbTest(
  "app store: names are unique per organization; get by id or name; 404 across orgs",
  async (h) => {
    const store = createAppStore(h.db, manualClock(1000));
    const a = await org(h.db, "a");
    const b = await org(h.db, "b");
    const shop = await store.create(a, { name: "shop", spec }, "u1");
    await store.create(b, { name: "shop", spec }, "u2");
    await assert.rejects(() => store.create(a, { name: "shop", spec }, "u1"), Conflict);
    assert.equal((await store.get(a, "shop")).id, shop.id);
    assert.equal((await store.get(a, shop.id)).name, "shop");
    await assert.rejects(() => store.get(b, shop.id), NotFound);
    assert.deepEqual((await store.get(a, "shop")).spec, spec);
    const page = await store.list(a, { search: "sh" });
    assert.equal(page.total, 1);
  },
);

dbTest(
  "app store: one deployment in progress at a time; running supersedes and becomes current",
  async (h) => {
    const store = createAppStore(h.db, manualClock(1000));
    const app = await store.create(await org(h.db, "a"), { name: "shop", spec }, null);
    const d1 = await store.startDeployment(app, { spec, trigger: user });
    assert.equal(d1.number, 1);
    await assert.rejects(
      () => store.startDeployment(app, { spec, trigger: user }),
      (e: unknown) => e instanceof Conflict && /#1 is still in progress/.test(e.message),
    );
    await store.setStatus(d1, "deploying");
    await store.setStatus(d1, "running", { images: { web: "sha256:1" } });
    assert.equal((await store.get(app.org_id, app.id)).current_deployment_id, d1.id);
    const d2 = await store.startDeployment(app, { spec, trigger: user });
    assert.equal(d2.number, 2);
    await store.setStatus(d2, "running");
    assert.equal((await store.deployment(app, "1")).status, "superseded");
    assert.deepEqual((await store.deployment(app, d1.id)).images, { web: "sha256:1" });
    assert.equal((await store.previous(d2))?.id, d1.id);
    assert.deepEqual((await store.deployments(app)).map((d) => d.number), [2, 1]);
    assert.deepEqual((await store.deployments(app, { before: 2 })).map((d) => d.number), [1]);
    const d3 = await store.startDeployment(app, { spec, trigger: user });
    await store.setStatus(d3, "failed", { reason: "image not found" });
    assert.equal(
      (await store.get(app.org_id, app.id)).current_deployment_id,
      d2.id,
      "a failure is never current",
    );
    await store.event(app, "deploy", "Deployment #3 failed: image not found");
    assert.equal((await store.events(app))[0].message, "Deployment #3 failed: image not found");
    await store.remove(app);
    assert.deepEqual(await store.unfinished(), []);
  },
);
