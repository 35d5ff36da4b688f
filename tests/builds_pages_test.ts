/**
 * The build pages through the whole app (no socket, no engine, no worker), on both dialects: the
 * Git source form (refusals next to their fields with the input kept, the token write-only and in
 * no page, the webhook secret shown once after connecting and after a confirmed rotation, and a
 * real signed delivery accepted with it), "Build now", a build's page in each state (queued with
 * Cancel, failed with its hint, the log and Retry, succeeded with its plan, image and deployment),
 * the builds list with its pages, the deliveries with their outcomes and Redeliver, the app page's
 * "Source & builds", disconnecting after a confirmation; viewers read everything and post nothing.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import type { DbHandle } from "../lib/db/mod.ts";
import { AppSpec } from "../lib/apps/spec.ts";
import { gzipText } from "../lib/builds/log_buffer.ts";
import { fieldError, inputValue, isChecked, textareaValue, unescape } from "./support/html.ts";
import { signWebhook } from "./support/webhook_signing.ts";

const TOKEN = `tok-${crypto.randomUUID()}`;
const REPO = "http://127.0.0.1:9/team/shop.git";
const SHA = "a".repeat(40);

async function setup(h: DbHandle) {
  const t = testApp(h);
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const admin = await t.user("admin@acme.io", { org: "acme", role: "admin" });
  const member = await t.user("member@acme.io", { org: "acme", role: "member" });
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const s = t.services;
  const org = (await s.orgs.bySlug("acme"))!;
  const pages: string[] = [];
  const send = async (path: string, init: { cookie: string; method?: string; body?: BodyInit }) => {
    const res = await t.request(path, init);
    const html = await res.text();
    pages.push(html);
    return {
      status: res.status,
      html,
      location: res.headers.get("location"),
      cookies: res.headers.getSetCookie(),
    };
  };
  const get = (path: string, cookie = member.cookie) => send(path, { cookie });
  const post = (path: string, fields: Record<string, string>, cookie = member.cookie) =>
    send(path, { method: "POST", body: new URLSearchParams(fields), cookie });
  const app = await s.apps.store.create(org.id, {
    name: "shop",
    spec: AppSpec.parse({
      services: [{ name: "web", image: "capstan-test/busybox:latest" }, {
        name: "worker",
        image: "capstan-test/busybox:latest",
      }],
    }),
  }, null);
  return { t, s, org, app, owner, admin, member, viewer, get, post, pages };
}

/** The value a show-once page holds in `<code id="…">`. */
const codeOf = (html: string, id: string) =>
  new RegExp(`<code id="${id}"[^>]*>([^<]*)</code>`).exec(html)?.[1];

const GOOD = {
  service: "web",
  repo_url: REPO,
  branch: "main",
  builder: "dockerfile",
  auth: "token",
  token: TOKEN,
  build_args: "NODE_ENV=production",
  auto_deploy: "on",
};

dbTest(
  "[e2e] builds pages: the source form by field with input kept, the token write-only, the webhook secret shown once (connect, rotate), viewers read only",
  async (h) => {
    const { s, t, app, get, post, member, viewer, admin, pages } = await setup(h);
    const src = "/o/acme/apps/shop/source";

    // Nothing connected: members get the form with its defaults; viewers only a sentence.
    let r = await get(src);
    assert.equal(r.status, 200);
    assert.equal(r.html.match(/<form[^>]*action="\/o\/acme\/apps\/shop\/source"/g)?.length, 1);
    // Without a registry the page says how built images reach the nodes.
    assert.match(r.html, /data-image-delivery="true">No registry is set[^<]*copied to each node/);
    assert.equal(inputValue(r.html, "branch"), "main");
    assert.ok(isChecked(r.html, "auto_deploy"));
    assert.match(r.html, /<option value="auto" selected/);
    assert.match(r.html, /aria-current="page"[^>]*>web/, "the service tabs name the one shown");
    r = await get(src, viewer.cookie);
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.html, /name="repo_url"/);
    assert.match(r.html, /web is not built from Git/);
    assert.equal((await post(src, GOOD, viewer.cookie)).status, 403);

    // Refusals, each next to its field, with the input kept (never the token).
    r = await post(src, {
      ...GOOD,
      repo_url: "https://user:pw@git.example/x.git",
      branch: "bad..branch",
      build_args: "NODE_ENV=production\nNOEQUALS",
      target: "-x",
    });
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "repo_url", "src") ?? "", /must not contain credentials/);
    assert.ok(fieldError(r.html, "branch", "src"));
    assert.match(fieldError(r.html, "build_args", "src") ?? "", /"NOEQUALS" is not a KEY=VALUE/);
    assert.match(fieldError(r.html, "target", "src") ?? "", /stage name/);
    assert.equal(unescape(inputValue(r.html, "repo_url")!), "https://user:pw@git.example/x.git");
    assert.equal(inputValue(r.html, "branch"), "bad..branch");
    assert.equal(textareaValue(r.html, "build_args"), "NODE_ENV=production\nNOEQUALS");
    assert.match(r.html, /<option value="token" selected/);
    // The service's own rule (a token is needed for token access) comes back the same way.
    r = await post(src, { ...GOOD, token: "" });
    assert.equal(r.status, 400);
    assert.equal(fieldError(r.html, "token", "src"), "Give the access token");

    // Connected: the secret waits in an encrypted one-time cookie for the page it leads to.
    r = await post(src, GOOD);
    assert.equal(r.status, 303);
    assert.equal(r.location, `${src}?service=web&done=connected&secret=1`);
    const reveal = r.cookies.find((c) => c.startsWith("capstan_reveal="));
    assert.ok(reveal, "the secret waits in a cookie");
    assert.match(reveal, /Path=\/o\/acme\/apps\/shop\/source/);
    r = await get(r.location!, `${member.cookie}; ${reveal.split(";")[0]}`);
    assert.equal(r.status, 200);
    assert.match(r.html, /Repository connected/);
    const secret = codeOf(r.html, "webhook-secret");
    assert.ok(secret && secret.length >= 24, "shown once");
    assert.match(r.html, /Copy it now: it is shown only once/);
    const hookUrl = unescape(codeOf(r.html, "webhook-url")!);
    assert.match(hookUrl, /\/api\/v1\/hooks\/[\w-]{16,}$/);
    for (const p of ["GitHub", "GitLab", "Bitbucket", "Gitea / Forgejo"]) {
      assert.ok(r.html.includes(`<summary>${p}</summary>`), p);
    }
    assert.match(r.html, /application\/json/);
    assert.match(r.html, /Secret token/);
    assert.match(r.html, /Set: leave blank to keep it/);
    assert.equal(inputValue(r.html, "repo_url"), REPO);
    assert.equal(textareaValue(r.html, "build_args"), "NODE_ENV=production");
    // It is the real secret: a ping signed with it is accepted.
    const ping = JSON.stringify({ zen: "hi", hook_id: 1 });
    let res = await t.request(new URL(hookUrl).pathname, {
      method: "POST",
      headers: await signWebhook("github", ping, secret, { event: "ping" }),
      body: ping,
    });
    assert.equal(res.status, 200, await res.text());
    // A reload shows it no more; nor does the page ever show the token.
    r = await get(`${src}?service=web&done=connected&secret=1`);
    assert.equal(codeOf(r.html, "webhook-secret"), undefined);
    assert.ok(!r.html.includes(secret));

    // Saved again without a token: the stored one is kept; no new secret.
    r = await post(src, { ...GOOD, token: "", branch: "release" });
    assert.equal(r.status, 303);
    assert.equal(r.location, `${src}?service=web&done=saved`);
    const row = (await s.builds.store.source(app.id, "web"))!;
    assert.equal(row.branch, "release");
    assert.equal((await s.builds.credentials(row)).token, TOKEN);

    // Viewers read the source without the form, and not the secret.
    r = await get(src, viewer.cookie);
    assert.doesNotMatch(r.html, /name="repo_url"/);
    assert.match(r.html, /access token \(set\)/);
    assert.doesNotMatch(r.html, /Rotate secret/);
    assert.doesNotMatch(r.html, /Disconnect…/);

    // Rotating is for admins, after a confirmation; the new secret is shown once.
    r = await get(src);
    assert.doesNotMatch(r.html, /Rotate secret…/, "members are not offered a rotation");
    assert.equal((await get(`${src}/rotate`)).status, 403);
    assert.equal((await post(`${src}/rotate`, {})).status, 403);
    r = await get(src, admin.cookie);
    assert.match(r.html, /href="\/o\/acme\/apps\/shop\/source\/rotate"/);
    r = await get(`${src}/rotate`, admin.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /Rotate the webhook secret of shop\?/);
    assert.match(r.html, /<button class="btn btn-danger" type="submit" autofocus>Rotate secret/);
    r = await post(`${src}/rotate`, {}, admin.cookie);
    assert.equal(r.status, 303);
    const again = r.cookies.find((c) => c.startsWith("capstan_reveal="))!;
    r = await get(r.location!, `${admin.cookie}; ${again.split(";")[0]}`);
    const rotated = codeOf(r.html, "webhook-secret");
    assert.ok(rotated && rotated !== secret);
    assert.match(r.html, /Webhook secret rotated/);
    res = await t.request(new URL(hookUrl).pathname, {
      method: "POST",
      headers: await signWebhook("github", ping, secret, { event: "ping" }),
      body: ping,
    });
    assert.equal(res.status, 401, "the old secret stopped working");
    await res.body?.cancel();

    // SSH: the deploy key's public half and fingerprint, with the host key to be pinned.
    r = await post(src, { ...GOOD, service: "worker", auth: "ssh", token: "" });
    assert.equal(r.status, 303);
    assert.equal(r.location, `${src}?service=worker&done=connected`, "the webhook exists already");
    r = await get(`${src}?service=worker`);
    assert.match(codeOf(r.html, "deploy-key") ?? "", /^ssh-ed25519 \S+ capstan-shop$/);
    assert.match(r.html, /SHA256:/);
    assert.match(r.html, /pinned on the first clone/);

    // Disconnect, after a confirmation (members; viewers may not).
    assert.equal((await get(`${src}/delete?service=worker`, viewer.cookie)).status, 403);
    r = await get(`${src}/delete?service=worker`);
    assert.match(r.html, /Disconnect worker of shop from its repository\?/);
    assert.match(r.html, /action="\/o\/acme\/apps\/shop\/source\/delete\?service=worker"/);
    r = await post(`${src}/delete?service=worker`, {});
    assert.equal(r.location, `${src}?service=worker&done=disconnected`);
    assert.equal(await s.builds.store.source(app.id, "worker"), undefined);

    for (const html of pages) assert.ok(!html.includes(TOKEN), "the token is in no page");
  },
);

dbTest(
  "[e2e] builds pages: Build now, a build in each state (cancel, hint, log, retry, plan, deployment), the list's pages, deliveries with Redeliver, the app page's section",
  async (h) => {
    const { s, t, org, app, get, post, member, viewer, pages } = await setup(h);
    const base = "/o/acme/apps/shop";

    // Before any source: the app page offers members to connect; the builds page points there.
    let r = await get(base);
    assert.match(r.html, /Source &amp; builds/);
    assert.match(r.html, /Connect a Git repository/);
    r = await get(base, viewer.cookie);
    assert.doesNotMatch(r.html, /Source &amp; builds/);
    r = await get(`${base}/builds`, viewer.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /No builds yet/);
    assert.match(r.html, /href="\/o\/acme\/apps\/shop\/source">see the Git source/);
    r = await get(`${base}/webhook`, viewer.cookie);
    assert.match(r.html, /No deliveries yet/);

    const connect = await s.builds.connect(
      { ctx: { actor: { type: "system" } }, role: "owner", platformAdmin: false },
      app,
      "web",
      { repo_url: REPO, auth: "token", token: TOKEN },
    );
    const secret = connect.webhook_secret!;

    // Build now (members): to the new build's page, queued, with Cancel; viewers may not.
    assert.equal((await post(`${base}/builds/new`, { service: "web" }, viewer.cookie)).status, 403);
    r = await post(`${base}/builds/new`, { service: "worker" });
    assert.equal(r.status, 404, "a service without a source says so");
    assert.match(r.html, /Service &quot;worker&quot; of app &quot;shop&quot; has no Git source/);
    r = await post(`${base}/builds/new`, { service: "web" });
    assert.equal(r.status, 303);
    assert.equal(r.location, `${base}/builds/1?done=queued`);
    r = await get(r.location!);
    assert.equal(r.status, 200);
    assert.match(r.html, /Build queued/);
    assert.match(r.html, /data-build-state="queued"/);
    assert.match(r.html, /next in line/);
    assert.match(r.html, /capstan-island[^>]*data-island="BuildLive"|Waiting for the worker/);
    assert.match(r.html, /href="\/o\/acme\/apps\/shop\/builds\/1\/cancel"/);
    assert.match(r.html, /href="\/api\/v1\/orgs\/acme\/apps\/[^/]+\/builds\/1\/log"/);
    r = await get(`${base}/builds/1`, viewer.cookie);
    assert.doesNotMatch(r.html, /builds\/1\/cancel/);
    assert.equal((await post(`${base}/builds/1/cancel`, {}, viewer.cookie)).status, 403);

    // Cancel asks first.
    r = await get(`${base}/builds/1/cancel`);
    assert.match(r.html, /Cancel build #1 of shop\?/);
    assert.match(r.html, /action="\/o\/acme\/apps\/shop\/builds\/1\/cancel"/);
    r = await post(`${base}/builds/1/cancel`, {});
    assert.equal(r.location, `${base}/builds/1?done=cancelled`);
    r = await get(r.location!);
    assert.match(r.html, /data-build-state="cancelled"/);
    r = await post(`${base}/builds/1/cancel`, {});
    assert.equal(r.status, 409, "an ended build cannot be cancelled");
    assert.match(r.html, /has already ended/);

    // A failed build: its class's hint, the error, the log, Retry and "Edit settings and retry".
    const store = s.builds.store;
    const row = {
      org_id: org.id,
      app_id: app.id,
      service: "web",
      trigger: "webhook",
      actor_id: null,
      actor_name: "github webhook",
      delivery_id: null,
      repo_url: REPO,
      branch: "main",
      commit_sha: SHA,
      commit_author: "Ada <ada@example.test>",
      commit_message: "v2: broken install\n\nlonger text",
      host_id: null,
      deploy: 1,
    } as const;
    const failed = await store.enqueue(row);
    await store.update(failed.id, { started_at: failed.queued_at, builder: "dockerfile" });
    await store.finish(failed.id, "failed", {
      failure: "dependency_install",
      error: "The command '/bin/sh -c npm ci' returned a non-zero code: 1",
    });
    await store.saveLog({
      build_id: failed.id,
      gz: await gzipText("Step 1/3 : FROM node\nnpm ERR! 404 Not Found <pkg>\n"),
      raw_bytes: 50,
      dropped_bytes: 0,
      updated_at: Date.now(),
    });
    r = await get(`${base}/builds/2`, viewer.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /data-build-state="failed"/);
    assert.match(r.html, /Installing dependencies failed/);
    assert.match(r.html, /returned a non-zero code: 1/);
    assert.match(r.html, /npm ERR! 404 Not Found &lt;pkg>/, "the log, escaped");
    assert.match(r.html, /v2: broken install/);
    assert.match(r.html, /Ada &lt;ada@example.test>/);
    assert.doesNotMatch(r.html, /Retry<\/button>/, "viewers get no Retry");
    r = await get(`${base}/builds/2`);
    assert.match(r.html, /action="\/o\/acme\/apps\/shop\/builds\/2\/retry"/);
    assert.match(
      r.html,
      /href="\/o\/acme\/apps\/shop\/source\?service=web">Edit settings and retry/,
    );
    r = await post(`${base}/builds/2/retry`, {});
    assert.equal(r.location, `${base}/builds/3?done=retried`);
    assert.equal((await store.byNumber(app.id, 3))?.commit_sha, SHA);

    // A succeeded plan build: the plan, the generated Dockerfile, the image and its deployment.
    const ok = await store.enqueue({ ...row, trigger: "manual", actor_name: "member" });
    const d = await s.apps.store.startDeployment(app, {
      spec: app.spec,
      trigger: { kind: "build", actor_type: "system", actor_id: null },
      images: { web: "registry.local/shop-web:4" },
    });
    await store.update(ok.id, {
      started_at: ok.queued_at,
      builder: "plan:node",
      plan: JSON.stringify({ summary: "Node.js 20: npm ci, npm run build, npm start" }),
      dockerfile: "FROM node:20\nRUN npm ci\n",
      deployment_id: d.id,
    });
    await store.finish(ok.id, "succeeded", {
      image: "registry.local/shop-web:4",
      size_bytes: 52_428_800,
    });
    r = await get(`${base}/builds/4`);
    assert.match(r.html, /Node\.js 20: npm ci, npm run build, npm start/);
    assert.match(r.html, /<summary>The Dockerfile Capstan generated<\/summary>/);
    assert.match(r.html, /FROM node:20/);
    assert.match(r.html, /registry\.local\/shop-web:4/);
    assert.match(r.html, /50\.0 MiB/);
    assert.match(r.html, new RegExp(`href="${base}/deployments/${d.number}"`));
    assert.doesNotMatch(r.html, /Installing dependencies failed/);

    // The list, newest first, paged by number.
    r = await get(`${base}/builds`, viewer.cookie);
    const order = [...r.html.matchAll(/data-build="(\d+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(order, [4, 3, 2, 1]);
    assert.match(r.html, /<code title="a{40}">aaaaaaa<\/code>/);
    assert.match(r.html, /data-build-state="queued"/);
    assert.doesNotMatch(r.html, /Build now/, "viewers cannot build");
    r = await get(`${base}/builds`);
    assert.match(r.html, /<button class="btn btn-primary" type="submit">Build now<\/button>/);
    for (let i = 0; i < 24; i++) await store.enqueue({ ...row, commit_sha: null });
    r = await get(`${base}/builds`);
    assert.match(r.html, /href="\/o\/acme\/apps\/shop\/builds\?before=4"/);
    r = await get(`${base}/builds?before=4`);
    assert.deepEqual([...r.html.matchAll(/data-build="(\d+)"/g)].map((m) => m[1]), ["3", "2", "1"]);
    assert.match(r.html, /head of main/);

    // Deliveries: a push builds, a bad signature is refused; Redeliver for members.
    const hook = (await s.builds.hook(app))!;
    const push = JSON.stringify({
      ref: "refs/heads/main",
      after: "b".repeat(40),
      deleted: false,
      head_commit: { id: "b".repeat(40), message: "v5", author: { name: "Ada" } },
      repository: { clone_url: REPO },
    });
    let res = await t.request(`/api/v1/hooks/${hook.id}`, {
      method: "POST",
      headers: await signWebhook("github", push, secret),
      body: push,
    });
    assert.equal(res.status, 202, await res.text());
    res = await t.request(`/api/v1/hooks/${hook.id}`, {
      method: "POST",
      headers: await signWebhook("github", push, "not-the-secret"),
      body: push,
    });
    assert.equal(res.status, 401);
    await res.body?.cancel();
    r = await get(`${base}/webhook`, viewer.cookie);
    assert.match(r.html, /data-outcome="queued"[\s\S]*?>built</);
    assert.match(r.html, /data-outcome="bad_signature"[\s\S]*?>bad signature</);
    assert.match(r.html, /href="\/o\/acme\/apps\/shop\/builds\/29">Build #29/);
    assert.doesNotMatch(r.html, /Redeliver/);
    r = await get(`${base}/webhook`);
    const redeliver = /action="(\/o\/acme\/apps\/shop\/webhook\/[^"]+\/redeliver)"/.exec(r.html);
    assert.ok(redeliver, "a stored push can be delivered again");
    assert.equal(r.html.match(/Redeliver<\/button>/g)?.length, 1, "only the verified push");
    assert.equal((await post(redeliver[1], {}, viewer.cookie)).status, 403);
    r = await post(redeliver[1], {});
    assert.equal(r.location, `${base}/builds/30?done=redelivered`);

    // The app page: the repository, the branch and the latest build.
    r = await get(base, viewer.cookie);
    assert.match(r.html, /Source &amp; builds/);
    assert.match(r.html, new RegExp(`>${REPO.replace(/\./g, "\\.")}</a>`));
    assert.match(r.html, /href="\/o\/acme\/apps\/shop\/builds\/30">#30<\/a>/);
    assert.doesNotMatch(r.html, /Connect a Git repository/);

    for (const html of pages) {
      assert.ok(!html.includes(TOKEN), "the token is in no page");
      assert.ok(!html.includes(secret), "the webhook secret is in no page after it was shown");
    }
    void member;
  },
);
