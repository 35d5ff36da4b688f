import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { manualClock } from "../../tests/support/clock.ts";
import { insertOrg } from "../../tests/support/org_row.ts";
import { createAppStore } from "../apps/store.ts";
import { AppSpec } from "../apps/spec.ts";
import { createBuildStore } from "./store.ts";

const spec = AppSpec.parse({ services: [{ name: "web", image: "capstan-test/busybox:latest" }] });
const DAY = 86_400_000;

dbTest(
  "build store: numbers per app; a claim is taken once; purge drops old deliveries and the logs of builds beyond the newest N per app",
  async (h) => {
    const clock = manualClock(100 * DAY);
    const apps = createAppStore(h.db, clock);
    const store = createBuildStore(h.db, clock);
    const orgId = await insertOrg(h.db, "acme");
    const [a, b] = [
      await apps.create(orgId, { name: "a", spec }, null),
      await apps.create(orgId, { name: "b", spec }, null),
    ];
    const build = (app: { id: string }) =>
      store.enqueue({
        org_id: orgId,
        app_id: app.id,
        service: "web",
        trigger: "manual",
        actor_id: null,
        actor_name: "t",
        delivery_id: null,
        repo_url: "https://git.example.test/x.git",
        branch: "main",
        commit_sha: null,
        commit_author: null,
        commit_message: null,
        host_id: "h1",
        deploy: 0,
      });
    const made = [];
    for (let i = 0; i < 6; i++) made.push(await build(a));
    const other = await build(b);
    assert.deepEqual(made.map((x) => x.number), [1, 2, 3, 4, 5, 6]);
    assert.equal(other.number, 1);
    // Two hub processes claim the same build: one gets it.
    const claims = await Promise.all([
      store.claim(made[0].id, "r1", "h1"),
      store.claim(made[0].id, "r2", "h1"),
    ]);
    assert.deepEqual(claims.filter(Boolean).length, 1);
    // #1 runs; #2 waits before #3 (queued in the same millisecond: by id).
    assert.equal(await store.position(made[2]), 1);
    assert.equal(await store.position(made[5]), 4);
    for (const x of [...made, other]) {
      if (x.id !== made[0].id) await store.claim(x.id, "r1", "h1");
      await store.finish(x.id, "succeeded");
      await store.saveLog({
        build_id: x.id,
        gz: "",
        raw_bytes: 0,
        dropped_bytes: 0,
        updated_at: 0,
      });
    }
    const hook = { hook_id: "hk", org_id: orgId, app_id: a.id, provider: "github", event: "push" };
    const delivery = (id: string) =>
      store.recordDelivery({
        ...hook,
        delivery_id: id,
        branch: "main",
        commit_sha: null,
        outcome: "skipped",
        reason: "",
        build_id: null,
        push: null,
      });
    await delivery("old");
    clock.advance(91 * DAY);
    await delivery("new");
    assert.equal((await delivery("new")).duplicate, true, "a delivery id seen before");

    const purged = await store.purge(clock.now() - 90 * DAY, 4);
    assert.deepEqual(purged, { deliveries: 1, logs: 2 });
    const kept = await Promise.all(
      [...made, other].map(async (x) => Boolean(await store.log(x.id))),
    );
    assert.deepEqual(kept, [false, false, true, true, true, true, true]);
    assert.deepEqual(
      (await store.deliveries(a.id, { limit: 10 })).map((d) => d.outcome).sort(),
      ["duplicate", "skipped"],
    );
  },
);
