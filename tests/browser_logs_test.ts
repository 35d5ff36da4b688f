/**
 * A real browser on a container's page: a real hub (port 0, SQLite in a temp dir) with an
 * in-process agent on the real Docker engine attached, a busybox container that prints a line
 * every half second, and Chromium watching its log lines arrive live, toggling timestamps,
 * filtering, pausing, and reading live stats. Screenshots go to tests/artifacts/.
 */
import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import {
  cleanupSuite,
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../lib/docker/testing.ts";
import { attachTestAgent } from "./support/agent.ts";
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

const SUITE = "browser-logs";

const missing = chromiumMissing();
if (missing && !IN_CI) console.log(`note: browser logs test ignored: ${missing}`);
const dockerIgnored = dockerTestsIgnored(SUITE);

/** The highest "tick N" shown in the log viewer. */
function lastTick(page: Page): Promise<number> {
  return page.evaluate(() => {
    let max = 0;
    for (const el of document.querySelectorAll(".log-line .log-tx")) {
      const m = /^tick (\d+)$/.exec(el.textContent ?? "");
      if (m) max = Math.max(max, Number(m[1]));
    }
    return max;
  });
}

/** Chart.js redraws at a new size on the next animation frames. */
const CHART_SETTLE_MS = 400;

Deno.test({
  name: "[e2e] browser: container page shows log lines arriving live, filter, timestamps, stats",
  ignore: (Boolean(missing) || dockerIgnored) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // The test attaches its own in-process agent, so it does not depend on the embedded one.
    const { hub, services, org, dataDir, profile } = await startBrowserHub("browser-logs");
    const agent = await attachTestAgent(services, org.id, "local");
    let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
    try {
      const { id } = await agent.conn.call<{ id: string }>("container.create", {
        spec: {
          name: testName(SUITE, "ticker"),
          image: TEST_IMAGE,
          cmd: [
            "sh",
            "-c",
            "j=0; while [ $j -lt 80 ]; do j=$((j+1)); echo boot step $j of 80; done; " +
            "i=0; while true; do i=$((i+1)); echo tick $i; " +
            "if [ $((i % 4)) -eq 0 ]; then echo warning: slow tick $i >&2; fi; sleep 0.5; done",
          ],
          labels: testLabels(SUITE),
          cpus: 0.5,
          memory_bytes: 64 * 1024 * 1024,
        },
        start: true,
      });

      context = await launchBrowser(profile, DESKTOP);
      const pageErrors: string[] = [];
      const page = context.pages()[0] ?? await context.newPage();
      page.on("pageerror", (e) => pageErrors.push(String(e)));
      page.on("console", (m) => {
        if (pageConsoleError(m)) pageErrors.push(m.text());
      });

      // Signing in from the container's URL comes back to it.
      const url = `${hub.url}/o/acme/containers/${agent.host.id}/${id}`;
      await page.goto(url);
      await page.waitForURL(/\/login\?next=/);
      await signIn(page, hub.url, { landing: url });
      assert.match(await page.locator("h1").innerText(), /capstan-test-browser-logs-ticker/);
      assert.match(await page.locator(".page-header").innerText(), /running/);

      await page.waitForSelector('capstan-island[data-island="LogViewer"][data-hydrated="true"]', {
        timeout: 20_000,
      });
      await page.waitForSelector('.log-viewer .log-status[data-state="live"]', { timeout: 15_000 });
      await page.waitForFunction(
        () => document.querySelectorAll(".log-line").length > 0,
        null,
        { timeout: 10_000 },
      );
      // A line printed after the page opened must appear by itself.
      const seenAtOpen = await lastTick(page);
      await page.waitForFunction(
        (n) =>
          [...document.querySelectorAll(".log-line .log-tx")].some((el) =>
            el.textContent === `tick ${n}`
          ),
        seenAtOpen + 2,
        { timeout: 10_000 },
      );
      // stderr lines are marked.
      const err = page.locator(".log-err").first();
      await err.waitFor({ timeout: 10_000 });
      assert.equal(await err.locator(".log-mk").innerText(), "ERR");
      assert.match(await err.locator(".log-tx").innerText(), /^warning: slow tick \d+$/);

      // Timestamps are hidden until asked for.
      assert.equal(await page.locator(".log-ts").first().isVisible(), false);
      await page.getByLabel("Timestamps").check();
      assert.equal(await page.locator(".log-ts").first().isVisible(), true);
      assert.match(
        await page.locator(".log-ts").first().innerText(),
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/,
      );

      // Live stats: figures and a chart.
      await page.waitForSelector('capstan-island[data-island="LiveStats"][data-hydrated="true"]');
      await page.waitForFunction(
        () => document.querySelector(".live-stats")?.getAttribute("data-state") === "live",
        null,
        { timeout: 15_000 },
      );
      const figures = await page.locator(".live-stat").allInnerTexts();
      assert.match(figures.join("\n"), /Memory\n[\d.]+ (B|KiB|MiB)/);
      assert.match(figures.join("\n"), /limit 0\.5 cores/);
      assert.doesNotMatch(figures.join("\n"), /\d\.\d{4,}/, "figures are rounded for reading");
      assert.ok(await page.locator(".live-chart canvas").isVisible());
      await new Promise((r) => setTimeout(r, 2500)); // a few chart points for the screenshot
      await shot(page, "container-desktop", DESKTOP, CHART_SETTLE_MS);

      // Filter: only matching lines stay, case-insensitively.
      await page.getByPlaceholder("Filter lines").fill("WARNING");
      await page.waitForFunction(() =>
        [...document.querySelectorAll(".log-line .log-tx")].every((el) =>
          el.textContent?.startsWith("warning:")
        )
      );
      assert.match(await page.locator(".log-count").innerText(), /^\d+ of \d+ lines match$/);
      await shot(page, "container-logs-filtered-desktop", DESKTOP, CHART_SETTLE_MS);
      await page.getByPlaceholder("Filter lines").fill("");
      // Cleared: every line is back (80 boot lines and the ticks), enough to scroll.
      await page.waitForFunction(() => document.querySelectorAll(".log-line").length > 80);

      // Scrolling up pauses following; the resume button brings it back to the bottom.
      await page.locator(".log-body").evaluate((el) => (el.scrollTop = 0));
      await page.locator(".log-resume").waitFor({ timeout: 5000 });
      assert.equal(await page.getByRole("button", { name: "Resume", exact: true }).count(), 1);
      await page.locator(".log-resume").click();
      await page.locator(".log-resume").waitFor({ state: "hidden" });
      const atBottom = await page.locator(".log-body").evaluate((el) =>
        el.scrollHeight - el.scrollTop - el.clientHeight < 30
      );
      assert.ok(atBottom);

      // The download links name the endpoint with the chosen tail.
      const txt = await page.locator(".log-downloads a", { hasText: ".txt" }).getAttribute("href");
      assert.match(txt!, /\/logs\?tail=500&format=txt$/);
      const dl = await fetch(new URL(txt!, hub.url), {
        headers: {
          cookie: (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; "),
        },
      });
      assert.equal(dl.status, 200);
      assert.match(await dl.text(), /Z stdout tick \d+\n/);

      await shot(page, "container-phone", PHONE, CHART_SETTLE_MS);
      assert.deepEqual(pageErrors, [], "no script errors in the page");
    } finally {
      await context?.close().catch(() => {});
      await hub.stop();
      await agent.stop();
      await cleanupSuite(agent.docker, SUITE).catch((e) => console.error(e));
      agent.docker.close();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
