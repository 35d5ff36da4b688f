/**
 * First-week UX in a real browser against a real hub and engine (issue 11, items 16, 18, 20, 21):
 * a slow stop shows "stopping…" at once and its outcome without a reload (and still works without
 * JavaScript); the containers and notifications tables fit 1440 px with every action in full; at
 * phone width they are cards with state and actions on screen and the menu reaches every section;
 * the theme follows the system's colour scheme. Screenshots go to tests/artifacts/.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { cleanupSuite, dockerTestsIgnored } from "../lib/docker/testing.ts";
import { attachTestAgent, runTestContainer } from "./support/agent.ts";
import { insertAlert } from "./support/alerts.ts";
import {
  chromiumMissing,
  IN_CI,
  launchBrowser,
  shot,
  signIn,
  startBrowserHub,
} from "./support/browser.ts";

const SUITE = "ux-browser";
const WIDE = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };

const missing = chromiumMissing();
const dockerIgnored = dockerTestsIgnored(SUITE);
if (missing && !IN_CI) console.log(`note: ux browser test ignored: ${missing}`);

/** Horizontal overflow of every `.table-wrap` on the page (0 when all fit). */
function tableOverflow(page: Page): Promise<number> {
  return page.evaluate(() =>
    Math.max(
      0,
      ...[...document.querySelectorAll(".table-wrap")].map((w) => w.scrollWidth - w.clientWidth),
    )
  );
}

/** Whether the element is shown and lies inside the viewport's width. */
async function onScreen(page: Page, selector: string): Promise<boolean> {
  return await page.locator(selector).first().evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= globalThis.innerWidth;
  });
}

Deno.test({
  name: "[e2e] browser: action progress, tables that fit, phone cards and menu, system theme",
  ignore: (Boolean(missing) || dockerIgnored) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, org, dataDir, profile } = await startBrowserHub("ux-browser");
    const agent = await attachTestAgent(services, org.id, "docker-1");
    const { docker } = agent;
    let context: Awaited<ReturnType<typeof launchBrowser>> | undefined;
    try {
      const run = (what: string, cmd: string[], spec: Record<string, unknown> = {}) =>
        runTestContainer(agent, SUITE, what, { cmd, spec });
      // PID 1 without a TERM handler: a stop waits the whole 10 s grace period, as a real app may.
      const slow = await run("slow-to-stop", ["sh", "-c", "sleep 3600"]);
      const quick = await run("quick", ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]);
      await run("web-frontend-with-a-rather-long-name", ["sh", "-c", "sleep 3600"], {
        ports: [{ container_port: 80, host_port: 0 }, { container_port: 443, host_port: 0 }],
      });
      // Two firing alerts, so the notifications table has its widest actions.
      for (const i of [1, 2]) {
        await insertAlert(services.db, org, agent.host, {
          severity: i === 1 ? "critical" : "warning",
          title: `CPU above 90% on ${agent.host.name} (${i})`,
          started_at: Date.now() - i * 600_000,
        });
      }

      context = await launchBrowser(profile, WIDE);
      const page = context.pages()[0] ?? await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await signIn(page, hub.url);
      const list = `${hub.url}/o/acme/containers?label=capstan.test.suite%3D${SUITE}`;

      // 1440 px: the table fits, so no pinned column covers Ports or Created.
      await page.goto(list);
      await page.waitForSelector('.live[data-state="live"]', { timeout: 15_000 });
      assert.equal(await tableOverflow(page), 0, "the containers table fits 1440 px");
      const overlaps = await page.evaluate(() =>
        [...document.querySelectorAll("tr[data-container-row]")].filter((tr) => {
          const created = tr.querySelector(".cell-created")!.getBoundingClientRect();
          const actions = tr.querySelector(".actions-cell")!.getBoundingClientRect();
          return actions.left < created.right - 1;
        }).length
      );
      assert.equal(overlaps, 0, "the actions start where Created ends");
      await shot(page, "ux-containers-1440", WIDE);

      // A slow stop: the row says "stopping…" and its buttons are disabled at once; the outcome
      // replaces it when the engine is done, without a page load.
      await page.evaluate(() => (globalThis as unknown as { __stay: number }).__stay = 1);
      const row = page.locator(`tr[data-container-row="${slow.id}"]`);
      const badge = row.locator("[data-container-state] .badge");
      const clicked = Date.now();
      await row.getByRole("button", { name: /^Stop/ }).click();
      await page.waitForFunction(
        (id) =>
          document.querySelector(`[data-container-state="${id}"] .badge`)?.textContent ===
            "stopping…",
        slow.id,
        { timeout: 2_000 },
      );
      const feedbackMs = Date.now() - clicked;
      assert.ok(await row.locator('button[data-action="stop"]').isDisabled(), "Stop is disabled");
      assert.equal(await row.getAttribute("aria-busy"), "true");
      await shot(page, "ux-containers-stopping-1440", WIDE);
      await page.waitForFunction(
        (id) =>
          document.querySelector(`[data-container-state="${id}"] .badge`)?.textContent === "exited",
        slow.id,
        { timeout: 40_000 },
      );
      const doneMs = Date.now() - clicked;
      console.log(`stop: "stopping…" after ${feedbackMs} ms, "exited" after ${doneMs} ms`);
      assert.match(await badge.getAttribute("class") ?? "", /badge-error/);
      assert.ok(await row.getByRole("button", { name: /^Start/ }).isVisible(), "Start is offered");
      assert.ok(!(await row.getByRole("button", { name: /^Stop/ }).isVisible()), "Stop is not");
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { __stay?: number }).__stay),
        1,
        "the page was not reloaded",
      );
      const inspected = await docker.inspectContainer(slow.id);
      assert.equal(inspected.State.Status, "exited");

      // Notifications at 1440 px: acknowledge and silence are whole, inside the table.
      await page.goto(`${hub.url}/o/acme/notifications`);
      assert.equal(await tableOverflow(page), 0, "the notifications table fits 1440 px");
      assert.ok(await onScreen(page, 'tr[data-state="firing"] .silence-form button'));
      await shot(page, "ux-notifications-1440", WIDE);

      // Phone: the containers are cards, each with its state and actions on screen.
      await page.setViewportSize(PHONE);
      await page.goto(list);
      await shot(page, "ux-containers-390", PHONE);
      assert.equal(await tableOverflow(page), 0, "no sideways scrolling on a phone");
      const offScreen = await page.evaluate(() =>
        [...document.querySelectorAll("tr[data-container-row]")].flatMap((tr) =>
          [...tr.querySelectorAll<HTMLElement>(".badge, .row-actions .btn")]
            .filter((el) => el.offsetParent !== null)
            .filter((el) => {
              const r = el.getBoundingClientRect();
              return r.left < 0 || r.right > globalThis.innerWidth;
            }).map((el) => el.textContent)
        )
      );
      assert.deepEqual(offScreen, [], "state and actions are within the screen");
      assert.ok(await onScreen(page, `tr[data-container-row="${quick.id}"] .badge`));
      await page.goto(`${hub.url}/o/acme/notifications`);
      await shot(page, "ux-notifications-390", PHONE);
      assert.equal(await tableOverflow(page), 0);
      assert.ok(await onScreen(page, 'tr[data-state="firing"] .silence-form button'));

      // Phone menu: one tap shows every section, nothing scrolls sideways.
      const wanted = [
        "/o/acme",
        "/o/acme/hosts",
        "/o/acme/topology",
        "/o/acme/apps",
        "/o/acme/templates",
        "/o/acme/routes",
        "/o/acme/secrets",
        "/o/acme/workers",
        "/o/acme/storage",
        "/o/acme/containers",
        "/o/acme/images",
        "/o/acme/networks",
        "/o/acme/volumes",
        "/o/acme/health",
        "/o/acme/notifications",
        "/o/acme/alerts/rules",
        "/o/acme/alerts/channels",
        "/o/acme/members",
        "/o/acme/billing",
        "/o/acme/quotas",
        "/o/acme/audit",
        "/o/acme/settings/metrics",
      ];
      assert.ok(!(await page.locator(".nav").isVisible()), "the menu starts closed");
      await page.getByText("Menu", { exact: true }).click();
      const shown = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLAnchorElement>(".nav a")].filter((a) => {
          const r = a.getBoundingClientRect();
          return r.width > 0 && r.left >= 0 && r.right <= globalThis.innerWidth;
        }).map((a) => a.getAttribute("href"))
      );
      assert.deepEqual(shown, wanted, "every section is one tap away");
      await shot(page, "ux-menu-390", PHONE);
      await page.locator(".user-summary").click();
      assert.ok(await page.getByRole("button", { name: "Sign out" }).isVisible());
      await shot(page, "ux-user-menu-390", PHONE);

      // Without JavaScript the same buttons are forms that post and come back.
      const plain = await context.newPage();
      const cdp = await context.newCDPSession(plain);
      await cdp.send("Emulation.setScriptExecutionDisabled", { value: true });
      await plain.setViewportSize(WIDE);
      await plain.goto(list);
      assert.equal(await plain.locator('capstan-island[data-hydrated="true"]').count(), 0);
      await Promise.all([
        plain.waitForURL(/ok=container_stopped/, { timeout: 40_000 }),
        plain.locator(`tr[data-container-row="${quick.id}"]`).getByRole("button", {
          name: /^Stop/,
        }).click(),
      ]);
      assert.equal(
        await plain.locator(`[data-container-state="${quick.id}"] .badge`).innerText(),
        "exited",
      );
      await plain.close();

      // The theme follows the system until the user picks one: same page, two colour schemes.
      for (const [scheme, bg] of [["dark", "rgb(14, 17, 22)"], ["light", "rgb(245, 247, 250)"]]) {
        await page.emulateMedia({ colorScheme: scheme as "dark" | "light" });
        await page.goto(`${hub.url}/o/acme/hosts`);
        const seen = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.equal(seen, bg, `${scheme} system scheme → ${scheme} page`);
      }
      assert.deepEqual(errors, []);
    } finally {
      await context?.close().catch(() => {});
      await agent.stop();
      await cleanupSuite(docker, SUITE).catch((e) => console.error(e));
      docker.close();
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
