/**
 * Push-to-deploy in a real browser, on the real single-node Swarm: a real hub (port 0, SQLite in
 * a temp dir, islands built) whose embedded agent is the worker, and a repository on a loopback
 * Git server behind token auth. Chromium opens an app made without a deployment, follows "Connect
 * a Git repository" from its page, fills the source form (token access), sees the webhook secret
 * once, clicks "Build now" and watches, without a reload, the log lines arrive on the build page,
 * the state become succeeded and the deployment's link appear. The deliveries page lists a ping, a
 * push of another branch and a bad signature. The token is on no page. Screenshots of the source,
 * build and deliveries pages at desktop and phone widths go to tests/artifacts/.
 */
import { removeBuiltImages, WEB_SERVICE } from "./support/builds.ts";
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { createDockerClient } from "../lib/docker/client.ts";
import { dockerTestsIgnored, eventually, TEST_IMAGE } from "../lib/docker/testing.ts";
import { cleanupApps } from "./support/apps.ts";
import { createRepo } from "./support/git_repos.ts";
import { startGitHttpServer } from "./support/git_http_server.ts";
import { signWebhook } from "./support/webhook_signing.ts";
import {
  ADA,
  chromiumMissing,
  DESKTOP,
  IN_CI,
  launchBrowser,
  mark,
  openPage,
  PHONE,
  shot,
  signIn,
  startBrowserHub,
  stayed,
} from "./support/browser.ts";

const SUITE = "builds-browser";
const missing = chromiumMissing();
const dockerIgnored = dockerTestsIgnored(SUITE);
if (missing && !IN_CI) console.log(`note: builds browser test ignored: ${missing}`);
const TOKEN = `tok-${crypto.randomUUID()}`;

/** A site from the test busybox whose build writes a few lines of its own. */
const SITE = {
  Dockerfile: [
    `FROM ${TEST_IMAGE}`,
    'RUN echo "building the site, step one" && echo "building the site, step two"',
    "COPY site /www",
    `CMD ["sh", "-c", "exec httpd -f -p 80 -h /www"]`,
    "",
  ].join("\n"),
  "site/index.html": "v1\n",
  ".dockerignore": ".git\n",
};

/** Screenshots at both widths (the page must fit each), back to desktop after. */
async function shots(page: Page, name: string) {
  await shot(page, `${name}-desktop`);
  await shot(page, `${name}-phone`, PHONE);
  await page.setViewportSize(DESKTOP);
}

Deno.test({
  name:
    "[e2e] [docker] browser: connect a repository through the form, Build now, the log live on the build page to succeeded and its deployment, deliveries, screenshots",
  ignore: (Boolean(missing) || dockerIgnored) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, org, dataDir, profile } = await startBrowserHub(SUITE, {
      CAPSTAN_LOCAL_AGENT: "1",
    });
    const docker = createDockerClient({ timeoutMs: 120_000 });
    const gitRoot = await Deno.makeTempDir({ prefix: "capstan-builds-browser-git-" });
    const git = startGitHttpServer({ root: gitRoot, token: TOKEN });
    let context: BrowserContext | undefined;
    const errors: string[] = [];
    const html: string[] = [];
    const name = `gb-${crypto.randomUUID().slice(0, 6)}`;
    try {
      await services.db.updateTable("users").set({ is_admin: 1 }).where("email", "=", ADA.email)
        .execute();
      const host = await eventually(
        async () => (await services.hosts.list(org.id)).find((x) => services.agents.isOnline(x.id)),
        "the embedded agent's host online",
        30_000,
      );
      context = await launchBrowser(profile, DESKTOP);
      const page = await openPage(context, errors);
      await signIn(page, hub.url);
      const api = async (method: "GET" | "POST", path: string, data?: unknown) => {
        const res = await context!.request.fetch(`${hub.url}${path}`, {
          method,
          data,
          headers: { origin: hub.url },
        });
        return { status: res.status(), body: await res.json().catch(() => null) };
      };
      const made = await api("POST", "/api/v1/cluster", {
        host_id: host.id,
        advertise_addr: "127.0.0.1",
        adopt: true,
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const created = await api("POST", "/api/v1/orgs/acme/apps", {
        name,
        deploy: false,
        spec: {
          services: [{ ...WEB_SERVICE, update: { ...WEB_SERVICE.update, monitor_s: 2 } }],
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));

      await createRepo(gitRoot, "site", SITE);
      const repoUrl = git.url("site.git");

      // From the app page to the source form.
      await page.goto(`${hub.url}/o/acme/apps/${name}`);
      await page.getByRole("heading", { name: "Source & builds" }).waitFor();
      await page.getByRole("link", { name: "Connect a Git repository" }).click();
      await page.getByRole("heading", { name: "Git source", level: 1 }).waitFor();
      await shots(page, "builds-source-new");
      await page.getByLabel("Repository URL").fill(repoUrl);
      await page.getByLabel("Authentication").selectOption("token");
      await page.getByLabel("Access token").fill(TOKEN);
      await Promise.all([
        page.waitForURL(/\/source\?service=web&done=connected&secret=1$/),
        page.getByRole("button", { name: "Connect repository" }).click(),
      ]);
      await page.getByRole("heading", { name: "Webhook secret" }).waitFor();
      const secret = (await page.locator("#webhook-secret").innerText()).trim();
      assert.ok(secret.length >= 24);
      const hookUrl = (await page.locator("#webhook-url").innerText()).trim();
      // The copy buttons are hydrated (they are hidden without JS).
      await page.getByRole("button", { name: "Copy secret" }).waitFor();
      assert.equal(await page.getByLabel("Access token").inputValue(), "", "never echoed");
      html.push(await page.content());
      await shots(page, "builds-source-connected");

      // Build now: the build page, live from queued to succeeded, its deployment linked.
      await Promise.all([
        page.waitForURL(/\/builds\/1\?done=queued$/),
        page.getByRole("button", { name: "Build now" }).click(),
      ]);
      await mark(page);
      await page.locator(".build-live .live[data-state='live']").waitFor({ timeout: 30_000 });
      await page.locator(".build-log", { hasText: "building the site, step two" }).waitFor({
        timeout: 240_000,
      });
      await shots(page, "builds-build-running");
      await page.locator('.build-live [data-build-state="succeeded"]').waitFor({
        timeout: 240_000,
      });
      await page.locator("[data-deployment-link]").waitFor({ timeout: 120_000 }).catch(
        async (err) => {
          const b = await api("GET", `/api/v1/orgs/acme/apps/${name}/builds/1`);
          throw new Error(`no deployment link; the build: ${JSON.stringify(b.body)}`, {
            cause: err,
          });
        },
      );
      assert.ok(await stayed(page), "the build page was not reloaded");
      assert.match(await page.locator(".build-log").innerText(), /Step 1\/\d+ : FROM/);
      assert.match(await page.locator(".build-facts").innerText(), /capstan-builds\/|:b1/);
      const link = await page.locator("[data-deployment-link]").getAttribute("href");
      assert.match(link ?? "", new RegExp(`/o/acme/apps/${name}/deployments/1$`));
      html.push(await page.content());
      await shots(page, "builds-build-succeeded");

      // Deliveries: a ping, a push of a branch no service builds, a bad signature.
      const deliver = async (body: string, headers: Headers) => {
        const res = await fetch(hookUrl, { method: "POST", headers, body });
        await res.body?.cancel();
        return res.status;
      };
      const ping = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
      assert.equal(
        await deliver(ping, await signWebhook("github", ping, secret, { event: "ping" })),
        200,
      );
      const push = JSON.stringify({
        ref: "refs/heads/feature/x",
        after: "c".repeat(40),
        deleted: false,
        head_commit: { id: "c".repeat(40), message: "wip", author: { name: "Ada" } },
        repository: { clone_url: repoUrl },
      });
      assert.equal(await deliver(push, await signWebhook("github", push, secret)), 202);
      assert.equal(await deliver(push, await signWebhook("github", push, "wrong")), 401);
      await page.getByRole("link", { name: "Webhook deliveries" }).click();
      await page.getByRole("heading", { name: "Webhook deliveries", level: 1 }).waitFor();
      for (const outcome of ["ping", "skipped", "bad_signature"]) {
        await page.locator(`tr[data-outcome="${outcome}"]`).waitFor();
      }
      await page.getByRole("button", { name: "Redeliver" }).waitFor();
      html.push(await page.content());
      await shots(page, "builds-deliveries");

      // The builds list and the app page's section.
      await page.getByRole("link", { name: "Builds", exact: true }).first().click();
      await page.locator('tr[data-build="1"] [data-build-state="succeeded"]').waitFor();
      await shots(page, "builds-list");
      await page.goto(`${hub.url}/o/acme/apps/${name}`);
      await page.locator('.app-builds [data-build-state="succeeded"]').waitFor();
      html.push(await page.content());
      for (const h of html) assert.ok(!h.includes(TOKEN), "the token is on no page");
      assert.deepEqual(errors, []);
    } finally {
      await context?.close().catch(() => {});
      await services.apps.idle().catch(() => {});
      await hub.stop();
      await cleanupApps(docker, [org.id], SUITE).catch((e) => console.error(e));
      await removeBuiltImages(docker, org.id).catch(() => {});
      docker.close();
      await git.close();
      for (const dir of [dataDir, profile, gitRoot]) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }
  },
});
