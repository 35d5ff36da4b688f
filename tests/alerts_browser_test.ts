/**
 * Alerts in a real browser: a real hub (port 0, SQLite in a temp dir) with islands built. Chromium
 * creates a signed webhook channel to a loopback receiver through the form and presses "Send
 * test" (the receiver verifies the signature); then a host reports CPU over a rule's trigger for
 * its hold time, and the bell's count goes up without a reload; the notifications page lists the
 * alert, and it is acknowledged. Screenshots at desktop and phone widths go to tests/artifacts/.
 */
import assert from "node:assert/strict";
import type { BrowserContext } from "playwright-core";
import { base64url } from "../lib/util/ids.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { startReceiver } from "./support/receivers.ts";
import {
  chromiumMissing,
  DESKTOP,
  IN_CI,
  launchBrowser,
  pageConsoleError,
  PHONE,
  shot,
  signIn,
  startBrowserHub,
} from "./support/browser.ts";
import { gzip } from "../agent/metrics/reporter.ts";

const SECRET = "browser-signing-secret-0001";
const missing = chromiumMissing();
if (missing && !IN_CI) console.log(`note: alerts browser test ignored: ${missing}`);

Deno.test({
  name:
    "[e2e] browser: webhook channel created and tested from the form, bell count rises live when an alert fires, notifications page lists it, acknowledge, screenshots",
  ignore: Boolean(missing) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, org, dataDir, profile } = await startBrowserHub("browser-alerts", {
      CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
      CAPSTAN_SECRET_KEY: base64url(crypto.getRandomValues(new Uint8Array(32))),
    });
    const rx = startReceiver({ secret: SECRET });
    let context: BrowserContext | undefined;
    const errors: string[] = [];
    try {
      const { host, enrollment } = await services.hosts.create(SYSTEM_CTX, org.id, {
        name: "web-1",
      });
      const { token } = await services.hosts.enroll(SYSTEM_CTX, {
        token: enrollment.token,
        machineId: "machine-browser-alerts",
        hostname: "web-1",
      });

      context = await launchBrowser(profile, DESKTOP);
      const page = context.pages()[0] ?? await context.newPage();
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => pageConsoleError(m) && errors.push(m.text()));
      await signIn(page, hub.url);

      // Channels: empty state, then the webhook form.
      await page.goto(`${hub.url}/o/acme/alerts/channels`);
      await page.getByRole("link", { name: "New channel" }).first().click();
      await page.getByRole("link", { name: "Webhook (signed JSON)" }).click();
      await page.getByLabel("Name").fill("ops-webhook");
      await page.getByLabel("URL").fill(`${rx.url}/hook`);
      await page.getByLabel("Signing secret").fill(SECRET);
      await shot(page, "alerts-channel-form-desktop");
      await Promise.all([
        page.waitForURL(/\/alerts\/channels\?ok=channel_saved$/),
        page.getByRole("button", { name: "Create channel" }).click(),
      ]);
      await page.getByRole("button", { name: "Send a test to ops-webhook" }).click();
      await page.getByText('Test notification sent to "ops-webhook".').waitFor();
      assert.equal(rx.got.length, 1);
      assert.ok(rx.got[0].verified, "signature verified by the receiver");
      assert.equal(rx.got[0].json.event, "test");
      await shot(page, "alerts-channels-desktop");
      await shot(page, "alerts-channels-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      // The edit form never shows the secrets.
      await page.goto(`${hub.url}/o/acme/alerts/channels`);
      await page.getByRole("link", { name: "ops-webhook" }).click();
      assert.equal(await page.getByLabel("URL").inputValue(), "");
      assert.ok(!(await page.content()).includes(SECRET));

      // A rule with a 2 s hold.
      await services.alerts.rules.create(SYSTEM_CTX, org.id, {
        name: "CPU hot",
        kind: "metric",
        metric: "cpu.total_pct",
        trigger: 90,
        clear: 70,
        hold_s: 2,
        severity: "critical",
      });
      await page.goto(`${hub.url}/o/acme/alerts/rules`);
      await shot(page, "alerts-rules-desktop");
      await shot(page, "alerts-rules-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      await page.goto(`${hub.url}/o/acme/alerts/rules/new?kind=metric`);
      await shot(page, "alerts-rule-form-desktop");
      await shot(page, "alerts-rule-form-phone", PHONE);
      await page.setViewportSize(DESKTOP);

      // The bell, live on the hosts page.
      await page.goto(`${hub.url}/o/acme/hosts`);
      const bell = page.locator("a.bell");
      await page.waitForSelector('a.bell[data-live="live"]', { timeout: 15_000 });
      assert.equal(await bell.getAttribute("data-unread"), "0");
      await page.evaluate(() => (globalThis as unknown as { __stay: number }).__stay = 1);

      // The host reports 97% for 4 s, one sample a second.
      for (let seq = 0; seq < 5; seq++) {
        const res = await fetch(`${hub.url}/api/v1/agent/report`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${token}`,
            "x-capstan-machine-id": "machine-browser-alerts",
            "content-type": "application/json",
            "content-encoding": "gzip",
          },
          body: await gzip(
            JSON.stringify({ seq, samples: [{ t: Date.now(), host: { "cpu.total_pct": 97 } }] }),
          ),
        });
        assert.equal(res.status, 200);
        await new Promise((r) => setTimeout(r, 1000));
      }
      await page.waitForSelector('a.bell[data-unread="1"]', { timeout: 10_000 });
      assert.equal(
        await bell.getAttribute("aria-label"),
        "Notifications: 1 firing alert not acknowledged",
      );
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { __stay?: number }).__stay),
        1,
        "the count changed without a reload",
      );
      assert.equal(rx.got.length, 2, "the firing webhook went out too");
      assert.equal(rx.got[1].json.event, "firing");

      // Notifications page: listed, firing; the bell keeps counting it until someone acknowledges.
      await Promise.all([page.waitForURL(/\/notifications$/), bell.click()]);
      const row = page.locator("tr[data-state=firing]");
      await row.waitFor();
      assert.match(await row.innerText(), /CPU hot on web-1/);
      assert.equal(await bell.getAttribute("data-unread"), "1");
      await shot(page, "alerts-notifications-desktop");
      await shot(page, "alerts-notifications-phone", PHONE);
      await page.setViewportSize(DESKTOP);
      await Promise.all([
        page.waitForURL(/ok=alert_acknowledged/),
        row.getByRole("button", { name: /^Acknowledge/ }).click(),
      ]);
      await page.getByText("Alert acknowledged").waitFor();
      assert.match(await page.locator("tr[data-state=firing]").innerText(), /acknowledged/);
      assert.equal(await bell.getAttribute("data-unread"), "0");
      const [a] = (await services.alerts.history.list({ orgId: org.id, limit: 5 })).rows;
      assert.ok(a.acknowledged_at !== null);

      // The host page's history.
      await page.goto(`${hub.url}/o/acme/hosts/${host.id}`);
      await page.locator("#host-alerts-title").waitFor();
      await shot(page, "alerts-host-desktop");
      assert.deepEqual(errors, []);
    } finally {
      await context?.close().catch(() => {});
      await rx.close();
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
