/**
 * A real browser against a real hub: Debian's Chromium driven by playwright-core completes setup,
 * signs out and in, watches the live audit island count an event made in another tab and one
 * made over the API, toggles the theme, and saves screenshots under tests/artifacts/.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { loadConfig } from "../lib/config.ts";
import { startHub } from "../hub.ts";
import { silentLogger } from "../lib/log.ts";
import {
  ARTIFACTS,
  chromiumMissing,
  DESKTOP,
  IN_CI,
  launchBrowser,
  pageConsoleError,
  PHONE,
  shot,
  signIn,
} from "./support/browser.ts";

const missing = chromiumMissing();
// Outside CI a machine without Chromium skips this test; in CI a missing browser is a failure.
if (missing && !IN_CI) console.log(`note: browser test ignored: ${missing}`);

Deno.test({
  name: "[e2e] browser: setup, sign-in, live audit island, theme toggle, screenshots",
  ignore: Boolean(missing) && !IN_CI,
  // playwright keeps pipes and timers of its own between calls.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-browser-test-" });
    const profile = await Deno.makeTempDir({ prefix: "capstan-chromium-" });
    const hub = await startHub(
      loadConfig({
        CAPSTAN_HOST: "127.0.0.1",
        CAPSTAN_PORT: "0",
        CAPSTAN_DATA_DIR: dataDir,
        CAPSTAN_LOG_LEVEL: "error",
      }),
      { jobs: false, log: silentLogger },
    );
    const context = await launchBrowser(profile, DESKTOP);
    const pageErrors: string[] = [];
    const watch = (p: Page) => {
      p.on("pageerror", (e) => pageErrors.push(String(e)));
      p.on("console", (m) => {
        if (pageConsoleError(m)) pageErrors.push(m.text());
      });
    };
    try {
      assert.ok(hub.setupToken, "a fresh hub issues a setup token");
      const page = context.pages()[0] ?? await context.newPage();
      watch(page);

      // First run: the setup page, operated with the keyboard-reachable labels.
      await page.goto(`${hub.url}/setup?token=${hub.setupToken}`);
      await shot(page, "setup-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      await page.getByLabel("Name", { exact: true }).fill("Ada Lovelace");
      await page.getByLabel("Email").fill("ada@example.com");
      await page.getByLabel("Password", { exact: true }).fill("correct-horse-battery");
      await page.getByLabel("Confirm password").fill("correct-horse-battery");
      await page.getByLabel("Organization name").fill("Acme Inc.");
      await page.getByLabel("Organization slug").fill("acme");
      await Promise.all([
        page.waitForURL(/\/o\/acme\?ok=setup_done$/),
        page.getByRole("button", { name: "Create account and organization" }).click(),
      ]);
      assert.match(await page.locator("h1").innerText(), /Acme Inc\./);
      await shot(page, "dashboard-desktop");
      await shot(page, "dashboard-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      // Sign out (in the user menu), then sign in again with the keyboard.
      await page.locator(".user-summary").click();
      await Promise.all([
        page.waitForURL(/\/login\?ok=signed_out$/),
        page.getByRole("button", { name: "Sign out" }).click(),
      ]);
      assert.match(await page.locator(".alert").innerText(), /You are signed out/);
      await shot(page, "login-desktop");
      await signIn(page, hub.url);

      // The audit page hydrates its one island and goes live over the WebSocket.
      await page.getByRole("link", { name: "Audit log" }).click();
      await page.waitForURL(/\/o\/acme\/audit$/);
      await page.waitForSelector('capstan-island[data-hydrated="true"]', { timeout: 15_000 });
      await page.waitForSelector('.live[data-state="live"]', { timeout: 15_000 });
      assert.equal(await page.locator("script").count(), 1);

      // An action in another tab: create a write token there (also shows the copy button island).
      const other = await context.newPage();
      watch(other);
      await other.goto(`${hub.url}/account/tokens`);
      await other.getByLabel("Name").fill("browser-test");
      await other.getByLabel("Scope").selectOption("write");
      await Promise.all([
        other.waitForLoadState("load"),
        other.getByRole("button", { name: "Create token" }).click(),
      ]);
      const token = (await other.locator("#new-token-value").innerText()).trim();
      assert.match(token, /^cap_[\w-]{43}$/);
      await other.waitForSelector('capstan-island[data-island="CopyButton"][data-hydrated="true"]');
      assert.ok(await other.getByRole("button", { name: "Copy token" }).isVisible());
      await shot(other, "token-created-desktop");
      await shot(other, "token-created-phone", PHONE);
      await other.close();

      const notice = page.locator(".live-new");
      await notice.waitFor({ timeout: 15_000 });
      assert.match(await notice.innerText(), /^1 new event — refresh$/);

      // …and one through the API with that token, from outside the browser.
      const api = await fetch(`${hub.url}/api/v1/tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "from-api", org: "acme", scope: "read" }),
      });
      assert.equal(api.status, 201);
      await api.body?.cancel();
      await page.waitForFunction(
        () => document.querySelector(".live-new")?.textContent?.startsWith("2 new events"),
        null,
        { timeout: 15_000 },
      );
      await shot(page, "audit-live-desktop");
      await Promise.all([page.waitForURL(/\/o\/acme\/audit$/), notice.click()]);
      assert.equal(await page.locator("td code", { hasText: "token.created" }).count(), 2);
      await shot(page, "audit-desktop");
      await shot(page, "audit-phone", PHONE);
      const wrap = await page.locator(".table-wrap").evaluate((el) =>
        el.scrollWidth > el.clientWidth
      );
      assert.ok(wrap, "the audit table scrolls horizontally inside its wrapper");

      // Theme: it follows the system (light here) until a plain form POST picks one, and the
      // choice survives a reload.
      await page.setViewportSize(DESKTOP);
      assert.equal(await page.locator("html").getAttribute("data-theme"), "system");
      await Promise.all([
        page.waitForLoadState("load"),
        page.getByRole("button", { name: "Switch to the dark theme" }).click(),
      ]);
      await page.waitForFunction(() => document.documentElement.dataset.theme === "dark");
      await Promise.all([
        page.waitForLoadState("load"),
        page.getByRole("button", { name: "Switch to the light theme" }).click(),
      ]);
      await page.waitForFunction(() => document.documentElement.dataset.theme === "light");
      await page.reload();
      assert.equal(await page.locator("html").getAttribute("data-theme"), "light");
      assert.match(page.url(), /\/o\/acme\/audit$/, "the toggle came back to the same page");
      await shot(page, "audit-light-desktop");
      await page.goto(`${hub.url}/o/acme/members`);
      await shot(page, "members-light-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      await page.goto(`${hub.url}/docs/api`);
      // The reference grows with the API: its first screen is what is worth looking at.
      await shot(page, "api-docs-light-desktop", DESKTOP, 0, { fullPage: false });

      assert.deepEqual(pageErrors, [], "no script errors in the pages");
    } finally {
      await context.close().catch(() => {});
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
