/**
 * The module registry holds together: every route file of every module (and of the shell) is in
 * the app the route walk walks, no route file is filed under a name that is not a module, and
 * every module's job runs under its own lease (one tick per slot across replicas).
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { manualClock } from "./support/clock.ts";
import { MODULES } from "../modules.ts";
import { collectJobs } from "../lib/module.ts";
import { type PageSetup, routesInOrder, SHELL } from "../lib/http/app.ts";
import { createApiApp } from "../lib/http/openapi.ts";
import type { AppEnv } from "../lib/http/context.ts";
import { runTick } from "../lib/jobs/scheduler.ts";
import { apiRoutes } from "../routes/api/v1/mod.ts";
import { pageRoutes } from "../routes/mod.ts";

const KIT: PageSetup = {
  manifest: null,
  openapi: () => ({}),
  nav: MODULES.flatMap((m) => m.nav ?? []),
  settings: MODULES.flatMap((m) => m.settings ?? []),
};

/** The `METHOD path` routes one owner's route files register on an app of their own. */
function routesOf(owner: string): string[] {
  const pages = new Hono<AppEnv>();
  for (const p of pageRoutes[owner] ?? []) p.register(pages, KIT);
  const api = createApiApp();
  for (const a of apiRoutes[owner] ?? []) a.register(api);
  return [...pages.routes, ...api.routes]
    .filter((r) => r.method !== "ALL")
    .map((r) => `${r.method} ${r.path}`);
}

dbTest(
  "[e2e] modules: every module's routes are in the walked app, every job has its lease",
  async (h) => {
    const t = testApp(h);
    const walked = new Set(
      t.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`),
    );
    const missing: string[] = [];
    let total = 0;
    for (const owner of [SHELL, ...MODULES.map((m) => m.name)]) {
      for (const route of routesOf(owner)) {
        total++;
        if (!walked.has(route)) missing.push(`${owner}: ${route}`);
      }
    }
    assert.deepEqual(missing, [], "module routes the app (and so the route walk) does not have");
    assert.ok(total > 150, `only ${total} module routes`);
    // Routes filed under a name that is not in modules.ts would never be registered: refused.
    assert.throws(
      () => routesInOrder({ ...apiRoutes, no_such_module: [] }, MODULES),
      /"no_such_module", which is not a module in modules\.ts/,
    );
    const names = MODULES.map((m) => m.name);
    assert.equal(new Set(names).size, names.length, "module names are unique");

    const clock = manualClock();
    const jobs = collectJobs(t.services, MODULES, t.services as never);
    assert.ok(jobs.length >= 8, `only ${jobs.length} jobs`);
    for (const job of jobs) {
      assert.match(job.name, /^[\w-]+$/, "Deno.cron accepts the name");
      let runs = 0;
      const counted = { ...job, run: () => Promise.resolve(runs++) };
      const ran = await Promise.all(
        ["replica-a", "replica-b"].map((holder) => runTick(h.db, clock, counted, holder)),
      );
      assert.deepEqual(ran.sort(), [false, true], `${job.name}: one replica wins the slot`);
      assert.equal(runs, 1, job.name);
    }
  },
);
