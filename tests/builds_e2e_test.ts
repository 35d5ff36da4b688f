/**
 * Push-to-deploy end to end on both dialects, as a user would do it through the API: a repository
 * on a loopback Git server (smart HTTP behind token auth) is connected to an app's service; a
 * signed GitHub push makes the webhook queue a build on the worker (the embedded agent's engine,
 * never the hub), its log streams on the build's topic, and the image is deployed start-first
 * while a client asks the app without pause (0 failed requests). A broken commit's build fails
 * with its class and hint and the old version keeps serving; a commit whose image fails its
 * health check is built, deployed, rolled back — and the old version keeps serving. The token
 * appears in no answer, log or audit row; every build is audited.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import {
  dockerTestsIgnored,
  eventually,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../lib/docker/testing.ts";
import { type CountingClient, startCountingClient } from "./support/counting_client.ts";
import { networkNames } from "../lib/apps/swarm_spec.ts";
import { createRepo } from "./support/git_repos.ts";
import { signWebhook } from "./support/webhook_signing.ts";
import { buildsFixture, githubPush, site } from "./support/builds.ts";

const SUITE = "builds-e2e";
const ignored = dockerTestsIgnored(SUITE);

dbTest(
  "[docker] builds: a signed push builds on the worker and deploys with 0 failed requests; a broken commit fails with the old version serving; a commit failing its health check is rolled back",
  async (h) => {
    if (ignored) return;
    const fx = await buildsFixture(h, SUITE);
    const { f, s, docker, member, ended, deployed } = fx;
    const org = f.org;
    const logLines: string[] = [];
    const unsubscribe = s.bus.subscribe((topic, _data, json) => {
      if (topic.startsWith(`org:${org.id}:build.`)) logLines.push(json);
    });
    let client: CountingClient | undefined;
    const api = "/api/v1/orgs/acme/apps/gitshop";
    const build = (n: number) => ended(api, n);
    try {
      const repo = await createRepo(fx.gitRoot, "shop", site("v0"));
      const repoUrl = fx.git.url("shop.git");

      // The app: one service built from Git; created without a deployment (no image yet).
      let r = await member("POST", "/api/v1/orgs/acme/apps", {
        name: "gitshop",
        deploy: false,
        spec: {
          services: [{
            name: "web",
            image: TEST_IMAGE,
            replicas: 2,
            health_check: { cmd: ["test", "-f", "/www/healthy"], interval_s: 1, retries: 2 },
            update: { parallelism: 1, delay_s: 0, order: "start-first", monitor_s: 3 },
            restart: { condition: "any", delay_s: 1 },
            stop_grace_s: 1,
          }],
        },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));

      // Connect the repository: bad input answers by field; the token is write-only.
      r = await member("PUT", `${api}/services/web/source`, {
        repo_url: "https://user:pw@git.example/x.git",
        branch: "bad..branch",
      });
      assert.equal(r.status, 400);
      assert.deepEqual(Object.keys(r.body.error.fields).sort(), ["branch", "repo_url"]);
      r = await member("PUT", `${api}/services/web/source`, {
        repo_url: repoUrl,
        branch: "main",
        auth: "token",
        token: fx.token,
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.source.token_set, true);
      const secret: string = r.body.webhook_secret;
      assert.ok(secret && secret.length >= 24);
      const hookPath = new URL(r.body.webhook.url).pathname;
      // Shown once: reading the source or the webhook again never answers it.
      assert.ok(!JSON.stringify((await member("GET", `${api}/webhook`)).body).includes(secret));

      // The first build, by hand: deployed as the app's first deployment.
      r = await member("POST", `${api}/services/web/builds`, {});
      assert.equal(r.status, 202, JSON.stringify(r.body));
      let b = await build(r.body.number);
      assert.equal(b.state, "succeeded", JSON.stringify(b));
      assert.equal(b.builder, "dockerfile");
      assert.match(b.commit_sha, /^[0-9a-f]{40}$/);
      let d = await deployed(api, b.number);
      assert.equal(d.status, "running", d.reason);
      assert.equal(d.trigger.kind, "build");
      assert.equal(d.trigger.build.commit, b.commit_sha);

      const app = await s.apps.store.get(org.id, "gitshop");
      client = await startCountingClient(docker, {
        name: testName(SUITE, "client"),
        network: networkNames(org, { id: app.id }).org,
        host: "web.gitshop",
        port: 80,
        labels: testLabels(SUITE),
      });
      await eventually(async () => (await client!.ask()) === "v0" || undefined, "v0 answers");

      // 1. A signed push of v1: 202 in milliseconds, a build, a deployment, no failed request.
      const push = async (sha: string, message: string, delivery = crypto.randomUUID()) => {
        const body = githubPush(sha, message, repoUrl);
        const headers = await signWebhook("github", body, secret, {
          event: "push",
          deliveryId: delivery,
        });
        const res = await f.t.request(hookPath, { method: "POST", headers, body });
        return { status: res.status, body: await res.json() };
      };
      const v1 = await repo.commit(site("v1"), "v1: a new page");
      let hook = await push(v1, "v1: a new page");
      assert.equal(hook.status, 202, JSON.stringify(hook.body));
      assert.equal(hook.body.outcome, "queued");
      b = await build(hook.body.builds[0].number);
      assert.equal(b.state, "succeeded", JSON.stringify(b));
      assert.equal(b.trigger, "webhook");
      assert.equal(b.commit_sha, v1);
      assert.equal(b.commit_message.trim(), "v1: a new page");
      d = await deployed(api, b.number);
      assert.equal(d.status, "running", d.reason);
      await eventually(async () => (await client!.ask()) === "v1" || undefined, "v1 answers");
      let counts = await client.counts();
      assert.equal(counts.bad, 0, `failed requests during the v1 deploy: ${counts.failedAt}`);

      // The log streamed live and is stored; the token is nowhere.
      assert.ok(logLines.some((l) => l.includes('"kind":"log"')), "log lines streamed");
      const log = await member("GET", `${api}/builds/${b.number}/log`);
      assert.equal(log.status, 200);
      assert.match(String(log.body), /Step \d+\/\d+ : FROM/);

      // A replayed delivery is acknowledged and ignored; another branch is skipped.
      const replay = crypto.randomUUID();
      hook = await push(v1, "again", replay);
      assert.equal(hook.status, 202);
      const first = hook.body.builds[0].number;
      // A second push at once: its build ends while the first one's deployment rolls, waits for
      // it, then deploys too.
      hook = await push(v1, "again, at once");
      assert.equal(hook.status, 202);
      const second = hook.body.builds[0].number;
      hook = await push(v1, "again", replay);
      assert.deepEqual([hook.status, hook.body.outcome], [200, "duplicate"]);
      for (const n of [first, second]) {
        b = await build(n);
        assert.equal(b.state, "succeeded", JSON.stringify(b));
        d = await deployed(api, n);
        assert.equal(d.status, "running", d.reason);
      }

      // 2. A broken commit: the build fails with its class and hint, the old version serves.
      const current = (await member("GET", api)).body.current_deployment_id;
      const broken = await repo.commit(site("v2", { broken: true }), "v2: broken install");
      hook = await push(broken, "v2: broken install");
      assert.equal(hook.status, 202);
      b = await build(hook.body.builds[0].number);
      assert.equal(b.state, "failed");
      assert.equal(b.failure, "dependency_install");
      assert.match(b.hint, /dependencies/);
      assert.equal((await member("GET", api)).body.current_deployment_id, current);
      assert.equal(await client.ask(), "v1");

      // 3. A commit whose image fails its health check: built, deployed, rolled back.
      const sick = await repo.commit(site("v3", { healthy: false }), "v3: forgets its health file");
      hook = await push(sick, "v3: forgets its health file");
      b = await build(hook.body.builds[0].number);
      assert.equal(b.state, "succeeded", JSON.stringify(b));
      d = await deployed(api, b.number);
      assert.equal(d.status, "rolled_back", JSON.stringify(d));
      await eventually(async () => (await client!.ask()) === "v1" || undefined, "v1 still answers");
      counts = await client.stop();
      client = undefined;
      assert.equal(counts.bad, 0, `failed requests: ${counts.failedAt}`);
      assert.ok(counts.ok > 10);

      // Deliveries: each with its outcome.
      const deliveries = (await member("GET", `${api}/webhook/deliveries`)).body.items;
      assert.ok(deliveries.some((x: { outcome: string }) => x.outcome === "duplicate"));
      assert.ok(deliveries.filter((x: { outcome: string }) => x.outcome === "queued").length >= 4);

      // Audited, and the token and webhook secret are in no answer, log or audit row.
      const audited = await f.auditRows("build.started");
      assert.ok(audited.length >= 5, `${audited.length} build.started rows`);
      const rows = JSON.stringify(await s.audit.list({ orgId: org.id, limit: 500 }));
      for (const text of [...fx.answers, rows, ...logLines]) {
        assert.ok(!text.includes(fx.token), "the token leaked");
      }
      assert.ok(!rows.includes(secret) && !logLines.some((l) => l.includes(secret)));
    } finally {
      unsubscribe();
      await client?.stop().catch(() => {});
      await fx.close();
    }
  },
);
