/**
 * The storage card of an app's page and the sync badge of the containers list, through the whole
 * app (no socket, no engine; the host's agent offline), on both dialects: the card lists the
 * app's volumes on the hosts that have a row of one or run its task containers, with size, last
 * snapshot and sync state, "Create snapshot" posting to the volume's page with the way back, and
 * "Restore…" of the newest complete snapshot; viewers read only; an app without volumes has no
 * card. The containers list badges a task container of the app by its app label (the host does
 * not answer which container mounts what) with the worst state of its service's volumes, and no
 * other container.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { AppSpec } from "../lib/apps/spec.ts";
import { uuidv7 } from "../lib/util/ids.ts";
import type { ContainerState } from "../lib/protocol/messages.ts";

/** A cached container of the list with `labels`. */
function cached(i: number, labels: Record<string, string>): ContainerState {
  return {
    id: i.toString(16).padStart(4, "0").repeat(16),
    name: `c-${i}`,
    image: "redis:7",
    image_id: `sha256:${"ab".repeat(32)}`,
    command: "run",
    state: "running",
    status: "Up 1 hour",
    created: 1_700_000_000 + i,
    labels,
    ports: [],
  };
}

dbTest(
  "[e2e] storage cards: the app page's volumes with size, last snapshot, sync and actions by role; the containers list's sync badge",
  async (h) => {
    const t = testApp(h);
    const member = await t.user("member@acme.io", { org: "acme", role: "member" });
    const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
    const s = t.services;
    const org = (await s.orgs.bySlug("acme"))!;
    const get = async (path: string, cookie: string) => {
      const res = await t.request(path, { cookie });
      return { status: res.status, html: await res.text() };
    };
    const { host } = await s.hosts.create(SYSTEM_CTX, org.id, { name: "edge-1" });
    await s.storageTargets.create(SYSTEM_CTX, org.id, { kind: "filesystem", name: "local" });
    const spec = AppSpec.parse({
      services: [
        { name: "db", image: "postgres:16", volumes: [{ name: "pgdata", target: "/var/lib/pg" }] },
        { name: "web", image: "nginx:1.27" },
      ],
    });
    const app = await s.apps.store.create(org.id, { name: "shop", spec }, null);
    const bare = await s.apps.store.create(
      org.id,
      { name: "plain", spec: AppSpec.parse({ services: [{ name: "web", image: "nginx" }] }) },
      null,
    );

    // Without a row and without a task container the app's volume is nowhere yet: no card.
    let page = await get(`/o/acme/apps/${app.name}`, member.cookie);
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.html, /storage-card/);

    const row = await s.snapshotStore.ensureVolume(org.id, host.id, "pgdata", {
      app_id: app.id,
      service: "db",
    });
    await s.snapshotStore.updateVolume(row.id, {
      size_bytes: 3 * 2 ** 20,
      sync_state: "synced",
      synced_at: Date.UTC(2026, 0, 2),
    });
    const at = Date.UTC(2026, 0, 2);
    const snap = await s.snapshotStore.insertSnapshot({
      id: uuidv7(at),
      org_id: org.id,
      volume_id: row.id,
      host_id: host.id,
      volume: "pgdata",
      app_id: app.id,
      target_id: (await s.storageTargets.list(org.id))[0].id,
      restic_id: "ab".repeat(32),
      status: "complete",
      trigger: "manual",
      mode: "live",
      schedule_id: null,
      files: 3,
      files_new: 3,
      files_changed: 0,
      bytes_processed: 3 * 2 ** 20,
      bytes_added: 3 * 2 ** 20,
      progress_bytes: null,
      progress_total: null,
      started_at: at,
      heartbeat_at: at,
      finished_at: at + 1000,
      duration_ms: 1000,
      error: null,
      created_by: null,
    });

    page = await get(`/o/acme/apps/${app.name}`, member.cookie);
    assert.equal(page.status, 200);
    const card = page.html.slice(page.html.indexOf("storage-card"));
    const volumePath = `/o/acme/storage/hosts/${host.id}/volumes/pgdata`;
    assert.match(card, /data-volume="pgdata"/);
    assert.match(card, new RegExp(`href="${volumePath}"`));
    assert.match(card, /edge-1/, "the host, as the card spans hosts");
    assert.match(card, /3(\.0)? MiB/);
    assert.match(card, /data-sync="synced"/);
    assert.match(card, new RegExp(`action="${volumePath}/snapshot"`));
    assert.match(card, /name="next" value="\/o\/acme\/apps\/shop"/);
    assert.match(card, new RegExp(`href="${volumePath}/restore\\?snapshot=${snap.id}"`));

    // Viewers read: no forms, no restore.
    const seen = await get(`/o/acme/apps/${app.name}`, viewer.cookie);
    assert.equal(seen.status, 200);
    assert.match(seen.html, /data-volume="pgdata"/);
    assert.doesNotMatch(seen.html, /volumes\/pgdata\/snapshot/);
    assert.doesNotMatch(seen.html, /volumes\/pgdata\/restore/);
    // And a viewer's post is refused.
    const posted = await t.request(`${volumePath}/snapshot`, {
      method: "POST",
      body: new URLSearchParams({ next: "/o/acme/apps/shop" }),
      cookie: viewer.cookie,
    });
    assert.equal(posted.status, 403);
    await posted.body?.cancel();

    // An app without volumes has no card.
    const plain = await get(`/o/acme/apps/${bare.name}`, member.cookie);
    assert.doesNotMatch(plain.html, /storage-card/);

    // The containers list: the db task container carries the badge, the web one and a bare
    // container do not. A failed volume of its service turns it failed.
    const db = cached(1, { "capstan.app": app.id, "capstan.service": "db" });
    const web = cached(2, { "capstan.app": app.id, "capstan.service": "web" });
    const other = cached(3, {});
    await s.hosts.applySnapshot(host, [db, web, other]);
    const badge = (html: string, id: string) => {
      const at = html.indexOf(`data-container-row="${id}"`);
      const row = html.slice(at, html.indexOf("</tr>", at));
      return /data-sync="(\w+)"/.exec(row)?.[1];
    };
    let list = await get("/o/acme/containers", viewer.cookie);
    assert.equal(list.status, 200);
    assert.equal(badge(list.html, db.id), "synced");
    assert.equal(badge(list.html, web.id), undefined);
    assert.equal(badge(list.html, other.id), undefined);
    const logs = await s.snapshotStore.ensureVolume(org.id, host.id, "pglogs", {
      app_id: app.id,
      service: "db",
    });
    await s.snapshotStore.updateVolume(logs.id, { sync_state: "failed", sync_error: "no space" });
    list = await get("/o/acme/containers", viewer.cookie);
    assert.equal(badge(list.html, db.id), "failed");
  },
);
