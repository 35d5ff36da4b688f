/**
 * Routes in a real browser with a real Caddy and a real app on the single-node Swarm: a real hub
 * (port 0, SQLite in a temp dir) whose embedded agent drives the local engine, Caddy's admin API
 * in CAPSTAN_CADDY_ADMIN. An httpd app is created through the API; Chromium opens its page, follows
 * "Add a route" (the form prefilled with the app's port), routes a hostname with the internal CA,
 * lands on the route page saying active, and a request through Caddy answers the app; "Check DNS
 * now" shows the certificate Caddy serves (its issuer and expiry). Screenshots of the routes list,
 * the form (desktop and phone), the route page and Settings → Proxy go to tests/artifacts/.
 */
import assert from "node:assert/strict";
import type { BrowserContext } from "playwright-core";
import { createDockerClient } from "../lib/docker/client.ts";
import { dockerTestsIgnored, eventually, TEST_IMAGE } from "../lib/docker/testing.ts";
import { cleanupApps } from "./support/apps.ts";
import { ask, startCaddy } from "./support/caddy.ts";
import {
  ADA,
  chromiumMissing,
  DESKTOP,
  IN_CI,
  launchBrowser,
  openPage,
  PHONE,
  shot,
  signIn,
  startBrowserHub,
} from "./support/browser.ts";

const SUITE = "proxy-browser";
const missing = chromiumMissing();
const dockerIgnored = dockerTestsIgnored(SUITE);
if (missing && !IN_CI) console.log(`note: proxy browser test ignored: ${missing}`);

/** An httpd answering `text` on container port 80, published in host mode. */
function httpd(text: string) {
  return {
    name: "web",
    image: TEST_IMAGE,
    replicas: 1,
    command: ["sh", "-c"],
    args: [
      `trap "exit 0" TERM; mkdir -p /www && echo ${text} > /www/index.html && httpd -f -p 80 -h /www & wait`,
    ],
    ports: [{ target: 80, mode: "host" }],
    health_check: { cmd: ["test", "-f", "/www/index.html"], interval_s: 1, retries: 1 },
    stop_grace_s: 1,
  };
}

Deno.test({
  name:
    "[e2e] [docker] browser: add a route from the app page with the internal CA, active, answering through Caddy, its certificate after Check DNS, screenshots",
  ignore: (Boolean(missing) || dockerIgnored) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const caddy = await startCaddy();
    const { hub, services, org, dataDir, profile } = await startBrowserHub(SUITE, {
      CAPSTAN_LOCAL_AGENT: "1",
      CAPSTAN_CADDY_ADMIN: caddy.endpoint.base,
      CAPSTAN_PROXY_HTTP_PORT: String(caddy.httpPort),
      CAPSTAN_PROXY_HTTPS_PORT: String(caddy.httpsPort),
    });
    const docker = createDockerClient({ timeoutMs: 60_000 });
    let context: BrowserContext | undefined;
    const errors: string[] = [];
    const name = `px-${crypto.randomUUID().slice(0, 6)}`;
    const hostname = `${name}.capstan.test`;
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

      // The cluster and the app through the API, with the browser's session.
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
        spec: { services: [httpd("hello-from-the-route")] },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      await eventually(
        async () =>
          (await api("GET", `/api/v1/orgs/acme/apps/${name}/deployments/1`)).body?.status ===
            "running" || undefined,
        `${name} #1 running`,
        120_000,
      );

      // No routes yet: the empty state says what one is.
      await page.goto(`${hub.url}/o/acme/routes`);
      await page.getByText("No routes yet").waitFor();
      await shot(page, "proxy-routes-empty-desktop");

      // From the app page: "Add a route", prefilled with the app's service and port.
      await page.goto(`${hub.url}/o/acme/apps/${name}`);
      await page.getByRole("link", { name: "Add a route" }).click();
      await page.getByRole("heading", { name: "New route" }).waitFor();
      assert.equal(await page.getByLabel("Target").inputValue(), `${name}/web`);
      assert.equal(await page.getByLabel("Container port").inputValue(), "80");
      assert.ok(await page.getByLabel("Redirect HTTP to HTTPS").isChecked());
      await page.getByLabel("Hostnames").fill(hostname);
      await page.getByLabel("Certificates").selectOption("internal");
      await page.getByLabel("Response headers").fill("X-Served-By: capstan");
      await shot(page, "proxy-route-new-desktop");
      await shot(page, "proxy-route-new-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      await Promise.all([
        page.waitForURL(/\/o\/acme\/routes\/[0-9a-f-]{36}\?done=created$/),
        page.getByRole("button", { name: "Create route" }).click(),
      ]);
      await page.getByText("Route created.").waitFor();
      assert.equal(
        await page.locator("[data-route-status]").first().getAttribute("data-route-status"),
        "active",
        "the proxy loaded it before the page answered",
      );

      // Through Caddy, over HTTPS with its internal CA.
      const ca = await caddy.rootCa();
      const answer = await eventually(
        async () => {
          const r = await ask(caddy.httpsPort, hostname, "/", { tls: { ca } }).catch(() => null);
          return r?.status === 200 ? r : undefined;
        },
        "the route answering through Caddy",
        60_000,
      );
      assert.equal(answer.body.trim(), "hello-from-the-route");
      assert.equal(answer.headers["x-served-by"], "capstan");
      const plain = await ask(caddy.httpPort, hostname, "/");
      assert.equal(plain.status, 308, "HTTP redirects to HTTPS");

      // Check DNS now: the certificate Caddy serves, with its issuer and expiry.
      await Promise.all([
        page.waitForURL(/\?done=checked$/),
        page.getByRole("button", { name: "Check DNS now" }).click(),
      ]);
      const issuer = await page.locator("[data-cert-issuer]").first().innerText();
      assert.match(issuer, /Caddy Local Authority/);
      assert.match(
        await page.locator("[data-cert]").first().innerText(),
        /expires \d{4}-\d{2}-\d{2}/,
      );
      await shot(page, "proxy-route-desktop");
      await shot(page, "proxy-route-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      // The list, and the app page's section with the https link.
      await page.goto(`${hub.url}/o/acme/routes`);
      await page.locator(`tr[data-route-row="${hostname}"]`).waitFor();
      assert.match(
        await page.locator(`tr[data-route-row="${hostname}"]`).innerText(),
        new RegExp(`${name}[\\s\\S]*web:80[\\s\\S]*active`),
      );
      await shot(page, "proxy-routes-desktop");
      await shot(page, "proxy-routes-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      await page.goto(`${hub.url}/o/acme/apps/${name}`);
      assert.equal(
        await page.locator(".app-routes a.app-route-host").first().getAttribute("href"),
        `https://${hostname}`,
      );
      await page.locator(".app-routes").scrollIntoViewIfNeeded();
      await shot(page, "proxy-app-routes-desktop", DESKTOP, 0, { fullPage: false });

      // Settings → Proxy: the ingress configured, the last load ok.
      await page.goto(`${hub.url}/o/acme/settings/proxy`);
      assert.match(await page.locator('[data-fact="last-load"]').innerText(), /^ok/);
      assert.match(await page.locator('[data-fact="ingress-configured"]').innerText(), /^Yes/);
      await shot(page, "proxy-settings-desktop");
      await shot(page, "proxy-settings-phone", PHONE);
      assert.deepEqual(errors, []);
    } finally {
      await context?.close().catch(() => {});
      await services.apps.idle().catch(() => {});
      await hub.stop();
      await cleanupApps(docker, [org.id], SUITE).finally(() => docker.close());
      await caddy.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
