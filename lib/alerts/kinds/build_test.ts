import assert from "node:assert/strict";
import { build } from "./build.ts";
import type { BuildNotice } from "./kind.ts";
import { assertOrgOnly, harness, lastInfo, rule, T0 } from "./testing.ts";

const COMMIT = "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";

const notice = (
  number: number,
  stage: BuildNotice["stage"],
  detail: string,
  more: Partial<BuildNotice> = {},
): BuildNotice => ({
  org_id: "o1",
  app: { id: "a1", name: "shop" },
  build: { id: `b${number}`, number, service: "web", branch: "main", commit: COMMIT },
  stage,
  detail,
  ...more,
});

Deno.test("build tells each stage of a build and its deployment once, naming the build, why it failed, the branch and the commit", async () => {
  const r = rule({ name: "Builds", kind: "event", event: "build" });
  const h = harness([r]);
  const told = async (n: BuildNotice, t: number) => {
    build.buildNotice!(h.at(t), r, n);
    const info = await lastInfo(h.ops);
    return { ops: h.take(), title: info?.title, detail: info?.detail, host: info?.hostName };
  };

  assert.deepEqual(await told(notice(12, "build_started", "Building web from main."), T0), {
    ops: ["instant app:a1/service:web/build_started ok 12"],
    title: "App shop: build #12 of web started",
    detail: "Building web from main (branch main, commit 1a2b3c4)",
    host: null,
  });
  assert.deepEqual(
    await told(
      notice(12, "build_failed", "Installing dependencies failed: npm could not resolve react.", {
        failure: "dependency_install",
      }),
      T0 + 60_000,
    ),
    {
      ops: ["instant app:a1/service:web/build_failed ok 12"],
      title: "App shop: build #12 of web failed (dependency install)",
      detail:
        "Installing dependencies failed: npm could not resolve react (branch main, commit 1a2b3c4)",
      host: null,
    },
  );

  // The same notice heard again (the same build and stage) is not told again.
  build.buildNotice!(
    h.at(T0 + 61_000),
    r,
    notice(12, "build_failed", "Installing dependencies failed.", {
      failure: "dependency_install",
    }),
  );
  assert.deepEqual(h.take(), []);

  // The next build: every stage again, its deployment numbered; a class the title does not know
  // is named as it is, and the one that says nothing more is left out.
  assert.equal(
    (await told(notice(13, "build_failed", "It broke.", { failure: "quota_exceeded" }), T0 + 1))
      .title,
    "App shop: build #13 of web failed (quota exceeded)",
  );
  assert.equal(
    (await told(notice(14, "build_failed", "It broke.", { failure: "build_failed" }), T0 + 2))
      .title,
    "App shop: build #14 of web failed",
  );
  assert.deepEqual(
    await told(
      notice(14, "deploy_started", "Deploying build #14.", { deployment_number: 7 }),
      T0 + 3,
    ),
    {
      ops: ["instant app:a1/service:web/deploy_started ok 14"],
      title: "App shop: deployment #7 from build #14 started",
      detail: "Deploying build #14 (branch main, commit 1a2b3c4)",
      host: null,
    },
  );
  // A build that started meanwhile takes nothing from the deployment still going.
  await told(notice(15, "build_started", "Building web."), T0 + 4);
  assert.deepEqual(
    await told(
      notice(14, "deploy_rolled_back", "The new version failed its health check; #6 runs again.", {
        deployment_number: 7,
      }),
      T0 + 5,
    ),
    {
      ops: ["instant app:a1/service:web/deploy_rolled_back ok 14"],
      title: "App shop: deployment #7 from build #14 rolled back (health check failed)",
      detail:
        "The new version failed its health check; #6 runs again (branch main, commit 1a2b3c4)",
      host: null,
    },
  );

  // Another service of the app is its own subject; no commit, no deployment number, no detail.
  const api = (n: BuildNotice): BuildNotice => ({
    ...n,
    build: { ...n.build, service: "api", commit: null },
  });
  assert.deepEqual(await told(api(notice(15, "deploy_failed", " ")), T0 + 6), {
    ops: ["instant app:a1/service:api/deploy_failed ok 15"],
    title: "App shop: deployment from build #15 failed",
    detail: "On branch main",
    host: null,
  });
  assert.equal(
    (await told(api(notice(15, "deploy_succeeded", "Running.")), T0 + 7)).title,
    "App shop: deployment from build #15 succeeded",
  );
  assert.equal(
    (await told(api(notice(15, "build_succeeded", "Built.")), T0 + 8)).title,
    "App shop: build #15 of api succeeded",
  );
});

Deno.test("build keeps a notice's detail bounded", async () => {
  const r = rule({ name: "Builds", kind: "event", event: "build" });
  const h = harness([r]);
  build.buildNotice!(h.at(T0), r, notice(1, "build_failed", "x".repeat(5000)));
  const detail = (await lastInfo(h.ops))!.detail;
  assert.equal(detail, `${"x".repeat(500)} (branch main, commit 1a2b3c4)`);
});

Deno.test("build rules are organization-wide: another scope is refused naming the field", () => {
  assertOrgOnly("build");
});
