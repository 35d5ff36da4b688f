/**
 * Secrets in a real browser: a real hub (port 0, SQLite in a temp dir, islands built) with an app
 * saved but not deployed (no engine is needed: attaching a secret is a change of the app's spec).
 * Chromium signs in as an owner, finds the empty Secrets page, creates a secret with the keyboard
 * (a refused submission first: the name and description come back, the value does not), attaches
 * it to the app through the app's edit form as a file and a variable, rotates it by uploading a
 * file with "at the next deploy" chosen, and reads the rotation on the secret's trail. The value
 * is never in any page. Screenshots at desktop and phone widths go to tests/artifacts/.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { BrowserContext, Page } from "playwright-core";
import { AppSpec } from "../lib/apps/spec.ts";
import {
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

const SUITE = "secrets-browser";
const missing = chromiumMissing();
if (missing && !IN_CI) console.log(`note: secrets browser test ignored: ${missing}`);

const VALUE = "s3cret-" + crypto.randomUUID();
const ROTATED = "r0tated-" + crypto.randomUUID();

/** Screenshots at both widths, back at desktop width afterwards. */
async function shots(page: Page, name: string) {
  await shot(page, `${name}-desktop`);
  await shot(page, `${name}-phone`, PHONE);
  await page.setViewportSize(DESKTOP);
}

/** The page must not carry either value, anywhere in its markup. */
async function noValue(page: Page, where: string) {
  const html = await page.content();
  assert.ok(!html.includes(VALUE) && !html.includes(ROTATED), `a value is in the page: ${where}`);
}

Deno.test({
  name:
    "[e2e] browser: create a secret with the keyboard, attach it to an app in its form, rotate by file upload at the next deploy, the trail says so, screenshots",
  ignore: Boolean(missing) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, org, dataDir, profile } = await startBrowserHub(SUITE);
    let context: BrowserContext | undefined;
    const errors: string[] = [];
    try {
      await services.apps.store.create(org.id, {
        name: "shop",
        spec: AppSpec.parse({
          services: [{ name: "web", image: "capstan-test/busybox:latest", env: { MODE: "fast" } }],
        }),
      }, null);

      context = await launchBrowser(profile, DESKTOP);
      const page = await openPage(context, errors);
      await signIn(page, hub.url);

      // The nav leads to the empty Secrets page, which says what a secret is.
      await page.getByRole("link", { name: "Secrets", exact: true }).first().click();
      await page.getByRole("heading", { name: "No secrets yet" }).waitFor();
      await shots(page, "secrets-empty");

      // The form by keyboard: the name has the focus, Tab walks name → description → value.
      await page.getByRole("link", { name: "New secret" }).first().click();
      await page.getByRole("heading", { name: "New secret" }).waitFor();
      await page.keyboard.type("DB_PASSWORD");
      await page.keyboard.press("Tab");
      await page.keyboard.type("The shop's database");
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "secret-value");
      // No value first: refused, the name and description kept, the value field empty.
      await Promise.all([
        page.waitForURL(/\/secrets\/new-secret$/),
        page.getByRole("button", { name: "Create secret" }).click(),
      ]);
      await page.getByText("the value you entered was not kept").waitFor();
      assert.equal(await page.getByLabel("Name").inputValue(), "DB_PASSWORD");
      assert.equal(await page.getByLabel("Description").inputValue(), "The shop's database");
      await shots(page, "secrets-new-refused");
      await page.getByLabel("Paste it").fill(VALUE);
      await shots(page, "secrets-new");
      await Promise.all([
        page.waitForURL(/\/o\/acme\/secrets\/DB_PASSWORD\?done=created$/),
        page.getByRole("button", { name: "Create secret" }).click(),
      ]);
      await page.getByText("Secret created").waitFor();
      await noValue(page, "the new secret's page");
      await shots(page, "secrets-detail");
      const stored = await services.secrets.material(org.id, "DB_PASSWORD", 1);
      assert.equal(new TextDecoder().decode(stored.value), VALUE);

      // Attach it to the app in the app's form: as a file (the default) and a variable.
      await page.goto(`${hub.url}/o/acme/apps/shop/edit`);
      await page.getByRole("group", { name: "Secrets" }).getByText("Prefer files:").waitFor();
      await page.getByLabel("Secret", { exact: true }).selectOption("DB_PASSWORD");
      assert.ok(await page.getByLabel("As a file (recommended)").isChecked(), "a file by default");
      await page.getByLabel("As an environment variable").check();
      await page.getByLabel("Variable name").fill("DATABASE_PASSWORD");
      await page.getByLabel("Secret", { exact: true }).scrollIntoViewIfNeeded();
      await shots(page, "secrets-app-form");
      await Promise.all([
        page.waitForURL(/\/o\/acme\/apps\/shop\?done=saved$/),
        page.getByRole("button", { name: "Save", exact: true }).click(),
      ]);
      const spec = (await services.apps.store.get(org.id, "shop")).spec.services[0];
      assert.deepEqual(spec.secrets, [{
        secret: "DB_PASSWORD",
        env: "DATABASE_PASSWORD",
        file: { uid: "0", gid: "0", mode: 0o400 },
      }]);
      await page.locator('[data-app-secret="DB_PASSWORD"]').waitFor();
      // The form shows it attached, with a blank row to attach another.
      await page.goto(`${hub.url}/o/acme/apps/shop/edit`);
      assert.equal(await page.locator("#app-secret_0").inputValue(), "DB_PASSWORD");
      assert.equal(await page.locator("#app-secret_0_env").inputValue(), "DATABASE_PASSWORD");
      await page.getByRole("group", { name: "Attach another secret" }).waitFor();

      // Rotate by uploading a file, at the next deploy.
      await page.goto(`${hub.url}/o/acme/secrets/DB_PASSWORD`);
      await page.getByRole("link", { name: "Rotate…" }).click();
      const rotate = page.locator("#rotate");
      await rotate.getByLabel("Or upload a file").setInputFiles({
        name: "password.txt",
        mimeType: "text/plain",
        buffer: Buffer.from(ROTATED),
      });
      assert.ok(await rotate.getByLabel(/Rolling restart now/).isChecked(), "rolling by default");
      await rotate.getByLabel(/At the next deploy/).check();
      await Promise.all([
        page.waitForURL(/\/o\/acme\/secrets\/DB_PASSWORD\?done=rotated_next_deploy$/),
        rotate.getByRole("button", { name: "Save new version" }).click(),
      ]);
      await page.getByText("get it at their next deployment").waitFor();
      const entry = page.locator('[data-trail-kind="rotated"]').first();
      assert.match(await entry.innerText(), /Version 2 \(at next deploy\)[\s\S]*/);
      assert.match(await entry.innerText(), /by ada@example\.com/);
      assert.equal(await page.locator("[data-current-version]").innerText(), "2");
      await noValue(page, "the rotated secret's page");
      const v2 = await services.secrets.material(org.id, "DB_PASSWORD", 2);
      assert.equal(new TextDecoder().decode(v2.value), ROTATED);
      await page.locator("#trail").scrollIntoViewIfNeeded();
      await shots(page, "secrets-rotated");

      // The list: the secret with its version.
      await page.goto(`${hub.url}/o/acme/secrets`);
      const row = page.locator('tr[data-secret-row="DB_PASSWORD"]');
      assert.match(await row.innerText(), /text[\s\S]*2/);
      await noValue(page, "the list");
      await shots(page, "secrets-list");

      // The delete confirmation asks for the name.
      await page.goto(`${hub.url}/o/acme/secrets/DB_PASSWORD/delete`);
      await page.getByLabel("Type DB_PASSWORD to confirm").waitFor();
      await shots(page, "secrets-delete");

      // The refused submission was answered 400 on purpose; Chromium logs any 4xx document.
      const unexpected = errors.filter((e) => !/status of 400 \(Bad Request\)/.test(e));
      assert.deepEqual(unexpected, [], "no page or console errors");
    } finally {
      await context?.close().catch(() => {});
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
