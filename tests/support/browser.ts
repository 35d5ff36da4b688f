/** Shared set-up of the browser tests: Debian's Chromium driven by playwright-core. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import type { Services } from "../../services.ts";
import { loadConfig } from "../../lib/config.ts";
import { startHub } from "../../hub.ts";
import { silentLogger } from "../../lib/log.ts";
import { SYSTEM_CTX } from "./services.ts";

export const CHROMIUM = Deno.env.get("CAPSTAN_CHROMIUM") ?? "/usr/bin/chromium";
export const IN_CI = Deno.env.get("CI") === "true";
/** Screenshots land here (git-ignored). */
export const ARTIFACTS = fileURLToPath(new URL("../artifacts/", import.meta.url));
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

/** Why Chromium cannot run here, or null. Outside CI a missing browser skips a test; in CI it fails. */
export function chromiumMissing(): string | null {
  try {
    return Deno.statSync(CHROMIUM).isFile ? null : `${CHROMIUM} is not a file`;
  } catch {
    return `${CHROMIUM} not found (set CAPSTAN_CHROMIUM or apt-get install chromium)`;
  }
}

/**
 * Launches Chromium headless with a fresh profile. The background-networking flags matter here:
 * without them Chromium keeps dialling Google's hosts, which this machine's closed network refuses.
 */
export async function launchBrowser(profile: string, viewport = DESKTOP) {
  return await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
    viewport,
  });
}

/** The user the browser tests sign in as. */
export const ADA = { email: "ada@example.com", name: "Ada", password: "correct-horse-battery" };

/** Creates Ada as an owner of `org` (created when missing); returns her user id. */
export async function addOwner(services: Services, org = "acme"): Promise<string> {
  const user = await services.accounts.createUser(SYSTEM_CTX, ADA);
  await services.accounts.ensureMembership(SYSTEM_CTX, user.id, org, "owner");
  return user.id;
}

/**
 * The usual set-up of a browser test: a hub on a free loopback port with a fresh data dir, no
 * embedded agent and no scheduled jobs (`env` adds or overrides variables), Ada as owner of
 * "acme", and a fresh Chromium profile dir. The test stops the hub and removes both dirs.
 */
export async function startBrowserHub(name: string, env: Record<string, string> = {}) {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  const dataDir = await Deno.makeTempDir({ prefix: `capstan-${name}-` });
  const profile = await Deno.makeTempDir({ prefix: "capstan-chromium-" });
  const hub = await startHub(
    loadConfig({
      CAPSTAN_HOST: "127.0.0.1",
      CAPSTAN_PORT: "0",
      CAPSTAN_DATA_DIR: dataDir,
      CAPSTAN_LOG_LEVEL: "error",
      CAPSTAN_LOCAL_AGENT: "0",
      ...env,
    }),
    { jobs: false, log: silentLogger },
  );
  const { services } = hub;
  await addOwner(services);
  const org = (await services.orgs.bySlug("acme"))!;
  return { hub, services, org, dataDir, profile };
}

/**
 * Signs in through the login form and waits for where it leads: the organization's dashboard,
 * or `landing` when the sign-in started from another page (the form returns there).
 */
export async function signIn(
  page: Page,
  hubUrl: string,
  { email = ADA.email, password = ADA.password, landing = /\/o\/acme$/ as string | RegExp } = {},
) {
  if (!page.url().includes("/login")) await page.goto(`${hubUrl}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await Promise.all([page.waitForURL(landing), page.keyboard.press("Enter")]);
}

/**
 * Screenshots the whole page at `viewport` into tests/artifacts/ and asserts it is no wider than
 * the viewport (naming the elements that stick out). `settleMs` lets charts redraw first;
 * `fullPage: false` keeps very long pages (the API reference) to the first screen.
 */
export async function shot(
  page: Page,
  name: string,
  viewport = DESKTOP,
  settleMs = 0,
  opts: { fullPage?: boolean } = {},
) {
  await page.setViewportSize(viewport);
  if (settleMs) await page.waitForTimeout(settleMs);
  await page.screenshot({
    path: join(ARTIFACTS, `${name}.png`),
    fullPage: opts.fullPage ?? true,
    timeout: 90_000,
  });
  const over = await page.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth
  );
  if (over > 0) {
    const culprits = await page.evaluate(() =>
      [...document.querySelectorAll("body *")].filter((e) =>
        !e.closest(".nav") &&
        e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
      ).slice(0, 8).map((e) => `${e.tagName}.${e.className} ${e.getBoundingClientRect().right}`)
    );
    console.log(`${name}: wider than the viewport:`, culprits);
  }
  assert.ok(
    over <= 0,
    `${name}: the page is ${over}px wider than the ${viewport.width}px viewport`,
  );
}

/** `shot()` at desktop then phone width (`<name>-desktop`, `<name>-phone`), back to desktop after. */
export async function shotBoth(page: Page, name: string) {
  await shot(page, `${name}-desktop`);
  await shot(page, `${name}-phone`, PHONE);
  await page.setViewportSize(DESKTOP);
}

/**
 * Whether a console message is an error of the page. Docker adding veths for tasks and
 * containers (other tests, in parallel) makes Chromium drop requests in flight with
 * ERR_NETWORK_CHANGED; that is the machine, not the page.
 */
export function pageConsoleError(m: { type(): string; text(): string }): boolean {
  return m.type() === "error" && !m.text().includes("ERR_NETWORK_CHANGED");
}

/** Chromium's first page, with page errors and console errors collected into `errors`. */
export async function openPage(context: BrowserContext, errors: string[]): Promise<Page> {
  const page = context.pages()[0] ?? await context.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => pageConsoleError(m) && errors.push(m.text()));
  return page;
}

/** Marks the page, so a later `stayed()` can tell it was not reloaded (a live update, not a refresh). */
export const mark = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { __stay: number }).__stay = 1);

/** True while the page marked by `mark()` has not been reloaded or left. */
export const stayed = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { __stay?: number }).__stay === 1);
