/**
 * Volume snapshots in a real browser, on the real engine through the embedded agent with the real
 * restic: a folder target added through the targets form; a volume of 150 MiB of random files
 * mounted by a running container; "Create snapshot" on the container page shows the snapshot's
 * progress live until it is complete; the containers list shows the container synced; the storage
 * page shows the volume's size and "synced"; from the volume page the snapshot is restored into a
 * new volume through the form (files byte-identical, by md5sum in a container), then into the
 * original volume through the typed confirmation (a file deleted since comes back, the container
 * runs again). Screenshots of the container page, the storage overview and the volume page at
 * desktop and phone widths go to tests/artifacts/; no page is wider than its viewport and no page
 * logs an error.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { createDockerClient } from "../lib/docker/client.ts";
import {
  cleanupSuite,
  dockerTestsIgnored,
  eventually,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../lib/docker/testing.ts";
import {
  ARTIFACTS,
  chromiumMissing,
  DESKTOP,
  IN_CI,
  launchBrowser,
  openPage,
  PHONE,
  shot,
  shotBoth,
  signIn,
  startBrowserHub,
} from "./support/browser.ts";

const SUITE = "storage-browser";
const missing = chromiumMissing();
const dockerIgnored = dockerTestsIgnored(SUITE);
if (missing && !IN_CI) console.log(`note: storage browser test ignored: ${missing}`);
const MB = 1 << 20;
const FILES = 150;
/** A snapshot or restore of 150 MiB on a loaded machine: generous. */
const RUN_TIMEOUT_MS = 300_000;

/** The storage card alone at both widths (the full-page shots shrink it out of sight). */
async function cardShots(page: Page, name: string) {
  for (const [width, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    await page.setViewportSize(viewport);
    await page.locator(".storage-card").screenshot({
      path: join(ARTIFACTS, `${name}-${width}.png`),
    });
  }
  await page.setViewportSize(DESKTOP);
}

/** `FILES` files of 1 MiB of random bytes (restic can neither compress nor deduplicate them). */
async function fill(dir: string) {
  using src = await Deno.open("/dev/urandom");
  const buf = new Uint8Array(MB);
  for (let i = 0; i < FILES; i++) {
    let n = 0;
    while (n < MB) n += (await src.read(buf.subarray(n))) ?? 0;
    await Deno.writeFile(join(dir, `part-${String(i).padStart(3, "0")}.bin`), buf);
  }
  await Deno.mkdir(join(dir, "notes"));
  await Deno.writeTextFile(join(dir, "notes", "read me.txt"), "kept by a snapshot\n");
}

/** The md5 of every file of a volume, read by a throwaway container of the test image. */
async function md5sums(volume: string): Promise<string> {
  const out = await new Deno.Command("docker", {
    args: [
      "run",
      "--rm",
      "--label",
      "capstan.test=1",
      "--label",
      `capstan.test.suite=${SUITE}`,
      "-v",
      `${volume}:/v:ro`,
      "-w",
      "/v",
      TEST_IMAGE,
      "sh",
      "-c",
      "find . -type f -exec md5sum {} + | sort -k 2",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

/**
 * Waits until a SnapshotProgress island on the page says complete; answers the first state it
 * showed (running, or complete when the run ended before the page was drawn).
 */
async function followRun(page: Page, scope = "", onRunning?: () => Promise<void>) {
  const island = page.locator(`${scope} .snapshot-progress`.trim()).first();
  await island.waitFor({ timeout: 60_000 });
  const first = await island.getAttribute("data-status");
  if (first === "running") {
    // The bar and its words: percent, bytes and rate as restic reports them.
    await island.locator("progress").waitFor();
    await island.locator("[data-progress-bytes]").waitFor();
    await onRunning?.();
  }
  await page.locator(`${scope} .snapshot-progress[data-status="complete"]`.trim())
    .or(page.locator(`${scope} .snapshot-progress[data-status="failed"]`.trim()))
    .first().waitFor({ timeout: RUN_TIMEOUT_MS });
  assert.equal(
    await island.getAttribute("data-status"),
    "complete",
    await island.innerText(),
  );
  return first;
}

/** Reloads a volume page until its last restore is complete (or the run's island says so). */
async function restoreEnded(page: Page) {
  await eventually(
    async () => {
      const island = page.locator(".snapshot-progress");
      if (await island.count()) {
        const s = await island.first().getAttribute("data-status");
        if (s === "failed") throw new Error(`restore failed: ${await island.innerText()}`);
        if (s === "complete") return true;
        return undefined;
      }
      const last = await page.locator("[data-last-restore]").getAttribute("data-last-restore")
        .catch(() => null);
      if (last === "failed") throw new Error("the restore failed");
      if (last === "complete") return true;
      await page.reload();
      return undefined;
    },
    "the restore to complete",
    RUN_TIMEOUT_MS,
  );
}

Deno.test({
  name:
    "[e2e] [docker] browser: folder target through the form, Create snapshot on the container page with live progress, synced on the lists, restore into a new volume and into the original, screenshots",
  ignore: (Boolean(missing) || dockerIgnored) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { hub, services, org, dataDir, profile } = await startBrowserHub(SUITE, {
      CAPSTAN_LOCAL_AGENT: "1",
    });
    const docker = createDockerClient({ timeoutMs: 120_000 });
    let context: BrowserContext | undefined;
    const errors: string[] = [];
    const volume = testName(SUITE, "data");
    const copy = `${volume}-copy`;
    try {
      const host = await eventually(
        async () => (await services.hosts.list(org.id)).find((x) => services.agents.isOnline(x.id)),
        "the embedded agent's host online",
        30_000,
      );
      const v = await docker.createVolume({ name: volume, labels: testLabels(SUITE) });
      await fill(v.Mountpoint);
      const { id: cid } = await docker.createContainer(testName(SUITE, "app"), {
        image: TEST_IMAGE,
        cmd: ["sleep", "1000000"],
        labels: testLabels(SUITE),
        volumes: [{ name: volume, target: "/data" }],
      });
      await docker.startContainer(cid);
      const original = await md5sums(volume);
      assert.equal(original.trim().split("\n").length, FILES + 1);

      context = await launchBrowser(profile, DESKTOP);
      const page = await openPage(context, errors);
      await signIn(page, hub.url);

      // A folder target through the targets page's form (blank folder: the hub's data folder).
      await page.goto(`${hub.url}/o/acme/storage/targets`);
      await page.getByText("A folder on each host").click();
      await page.locator("#fs-name").fill("local");
      await Promise.all([
        page.waitForURL(/done=target_created/),
        page.getByRole("button", { name: "Add folder target" }).click(),
      ]);
      await page.locator('tr[data-target="local"]').waitFor();

      // The container page: its storage card, then Create snapshot and the progress, live.
      const containerPage = `${hub.url}/o/acme/containers/${host.id}/${cid}`;
      await eventually(
        async () => (await page.goto(containerPage))?.ok() || undefined,
        "the container's page",
        60_000,
      );
      const row = page.locator(`.storage-card tr[data-volume="${volume}"]`);
      await row.waitFor();
      assert.match(await row.innerText(), /never/);
      await Promise.all([
        page.waitForURL(/[?&]snapshot=/),
        row.getByRole("button", { name: "Create snapshot" }).click(),
      ]);
      const first = await followRun(
        page,
        ".storage-card",
        () => shot(page, "storage-container-snapshot-running-desktop"),
      );
      console.log(`storage browser: the snapshot's island showed "${first}" first`);
      await shotBoth(page, "storage-container-snapshot-done");
      // Drawn again: the card's row says synced with the snapshot's time, and offers Restore….
      await page.goto(containerPage);
      await row.locator('[data-sync="synced"]').waitFor();
      await row.getByRole("link", { name: "Restore…" }).waitFor();
      assert.doesNotMatch(await row.locator("[data-size]").innerText(), /—/);
      await shotBoth(page, "storage-container");
      await cardShots(page, "storage-container-card");

      // The containers list: the container's row carries the sync badge.
      await page.goto(`${hub.url}/o/acme/containers?q=${encodeURIComponent(SUITE)}`);
      await page.locator(`tr[data-container-row="${cid}"] [data-sync="synced"]`).waitFor();
      await shotBoth(page, "storage-containers-list");

      // The storage overview: the volume's row with its size and "synced".
      await page.goto(`${hub.url}/o/acme/storage`);
      const listed = page.locator(`tr[data-volume="${volume}"]`);
      await listed.locator('[data-sync="synced"]').waitFor();
      assert.match(await listed.locator("[data-size]").innerText(), /MiB/);
      await shotBoth(page, "storage-overview");

      // The volume page: Restore… into a new volume through the form.
      await listed.getByRole("link", { name: volume }).click();
      await page.getByRole("heading", { name: volume, level: 1 }).waitFor();
      await page.locator('tr[data-status="complete"]').first().waitFor();
      await shotBoth(page, "storage-volume");
      await page.locator('tr[data-status="complete"]').first()
        .getByRole("link", { name: "Restore…" }).click();
      await page.getByRole("heading", { name: "Restore a snapshot" }).waitFor();
      await page.getByLabel("New volume").fill(copy);
      await Promise.all([
        page.waitForURL(/done=restore_started/),
        page.getByRole("button", { name: "Restore into a new volume" }).click(),
      ]);
      await restoreEnded(page);
      assert.equal(await md5sums(copy), original, "the restored volume holds the same files");

      // Into the original volume, typed to confirm: a file deleted since comes back.
      await Deno.remove(join(v.Mountpoint, "part-007.bin"));
      await Deno.writeTextFile(join(v.Mountpoint, "written-later.txt"), "gone after restore\n");
      await page.goto(`${hub.url}/o/acme/storage/hosts/${host.id}/volumes/${volume}`);
      await page.locator('tr[data-status="complete"]').first()
        .getByRole("link", { name: "Restore…" }).click();
      await page.getByLabel(`Type ${volume} to confirm`).fill(volume);
      await Promise.all([
        page.waitForURL(/done=restore_started/),
        page.getByRole("button", { name: "Replace the volume's data" }).click(),
      ]);
      await restoreEnded(page);
      await shotBoth(page, "storage-volume-restored");
      assert.equal(await md5sums(volume), original, "the original volume is back as snapshotted");
      await eventually(
        async () => (await docker.inspectContainer(cid)).State.Running || undefined,
        "the container running again after the restore",
        60_000,
      );
      assert.deepEqual(errors, []);
    } finally {
      await context?.close().catch(() => {});
      await services.snapshotRuns.idle().catch(() => {});
      await hub.stop();
      await cleanupSuite(docker, SUITE).catch((e) => console.error(e));
      await docker.removeVolume(copy, { force: true }).catch(() => {});
      docker.close();
      for (const dir of [dataDir, profile]) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }
  },
});
