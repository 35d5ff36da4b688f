/** Shared set-up of the browser tests: Debian's Chromium driven by playwright-core. */
import { fileURLToPath } from "node:url";
import { chromium, type Page } from "playwright-core";

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

/** Signs in through the login form and waits for the organization's dashboard. */
export async function signIn(
  page: Page,
  hubUrl: string,
  email: string,
  password: string,
  org = "acme",
) {
  await page.goto(`${hubUrl}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await Promise.all([page.waitForURL(new RegExp(`/o/${org}$`)), page.keyboard.press("Enter")]);
}
