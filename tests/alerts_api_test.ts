/**
 * Alerts API: hostile channel targets and header injection refused with 400, secrets write-only
 * (never in responses or the audit log, kept across updates), the channel test button, a wrong hub
 * key failing closed, rule validation and role checks.
 */
import assert from "node:assert/strict";
import { DEFAULT_RULES } from "../lib/alerts/schema.ts";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { testServices } from "./support/services.ts";
import { startReceiver } from "./support/receivers.ts";
import { base64url } from "../lib/util/ids.ts";
import type { DbHandle } from "../lib/db/mod.ts";

const KEY = base64url(crypto.getRandomValues(new Uint8Array(32)));
const SECRET = "webhook-signing-secret-1234";

async function setup(h: DbHandle, env: Record<string, string>) {
  const t = testApp(h, undefined, undefined, { CAPSTAN_SECRET_KEY: KEY, ...env });
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const api = async (method: string, path: string, json?: unknown, cookie = owner.cookie) => {
    const res = await t.request(`/api/v1/orgs/acme${path}`, { method, cookie, json });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, text };
  };
  return { t, api, owner };
}

dbTest("[e2e] channels API refuses hostile targets and header injection with 400", async (h) => {
  const { api } = await setup(h, {});
  const webhook = (url: string) =>
    api("POST", "/channels", { name: "x", kind: "webhook", config: { url, secret: SECRET } });
  for (
    const url of [
      "file:///etc/passwd",
      "gopher://example.com/",
      "http://169.254.169.254/latest/meta-data/",
      "http://[fe80::1]/hook",
      "http://[::ffff:169.254.169.254]/",
      "http://metadata.google.internal/computeMetadata/v1/",
      "http://127.0.0.1:9/hook",
      "http://10.0.0.5/hook",
      "http://localhost/hook",
      "http://user:pass@example.com/hook",
      "not a url",
    ]
  ) {
    const r = await webhook(url);
    assert.equal(r.status, 400, `${url}: ${r.text}`);
    assert.ok(r.body.error.fields["config.url"], `${url}: ${r.text}`);
  }
  const email = (config: Record<string, unknown>) =>
    api("POST", "/channels", {
      name: "m",
      kind: "email",
      config: { host: "smtp.example.com", from: "a@example.com", to: ["b@example.com"], ...config },
    });
  for (
    const bad of [
      { from: "a@example.com\r\nBcc: evil@example.com" },
      { to: ["b@example.com\r\nBcc: evil@example.com"] },
      { to: ["b@example.com>, <evil@example.com"] },
      { host: "smtp.example.com\r\nRSET" },
      { username: "u\r\nRSET", password: "p", security: "tls" },
      { password: "p\r\nQUIT", username: "u", security: "tls" },
      { username: "u", password: "p", security: "none" },
      { host: "169.254.169.254" },
    ]
  ) {
    const r = await email(bad);
    assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.text}`);
  }
  const name = await api("POST", "/channels", {
    name: "ops\r\nX",
    kind: "slack",
    config: { url: "https://hooks.slack.example/x" },
  });
  assert.equal(name.status, 400);
  // Nothing was stored by any of these.
  assert.equal((await api("GET", "/channels")).body.items.length, 0);
});

dbTest(
  "[e2e] channels API: even with private targets allowed, link-local stays refused",
  async (h) => {
    const { api } = await setup(h, { CAPSTAN_ALLOW_PRIVATE_TARGETS: "1" });
    const r = await api("POST", "/channels", {
      name: "x",
      kind: "discord",
      config: { url: "http://169.254.169.254/" },
    });
    assert.equal(r.status, 400);
    const ok = await api("POST", "/channels", {
      name: "x",
      kind: "discord",
      config: { url: "http://127.0.0.1:9/hook" },
    });
    assert.equal(ok.status, 201, ok.text);
  },
);

dbTest(
  "[e2e] channels API: secrets are write-only, kept across updates, tested live, and fail closed under another key",
  async (h) => {
    const { api, t } = await setup(h, { CAPSTAN_ALLOW_PRIVATE_TARGETS: "1" });
    const rx = startReceiver({ secret: SECRET });
    try {
      const created = await api("POST", "/channels", {
        name: "ops",
        kind: "webhook",
        config: { url: `${rx.url}/PATHSECRET`, secret: SECRET },
      });
      assert.equal(created.status, 201, created.text);
      const id = created.body.id;
      for (
        const r of [created, await api("GET", "/channels"), await api("GET", `/channels/${id}`)]
      ) {
        assert.ok(!r.text.includes("PATHSECRET") && !r.text.includes(SECRET), r.text);
      }
      const stored = await t.services.db.selectFrom("alert_channels").selectAll().execute();
      assert.ok(!JSON.stringify(stored).includes("PATHSECRET"), "encrypted at rest");
      assert.ok(!JSON.stringify(stored).includes(SECRET), "encrypted at rest");

      // Rename and disable/enable without resending secrets: they are kept.
      const renamed = await api("PATCH", `/channels/${id}`, { name: "ops-2", config: { url: "" } });
      assert.equal(renamed.status, 200, renamed.text);
      assert.deepEqual(renamed.body.secrets, { url: true, secret: true });
      const test = await api("POST", `/channels/${id}/test`);
      assert.equal(test.status, 200, test.text);
      assert.equal(test.body.status, "sent", test.text);
      assert.equal(rx.got.length, 1);
      assert.ok(rx.got[0].verified);
      assert.equal(rx.got[0].json.event, "test");
      assert.equal(rx.got[0].path, "/PATHSECRET");

      // A refused update leaves the channel as it was.
      const bad = await api("PATCH", `/channels/${id}`, { config: { url: "file:///etc/passwd" } });
      assert.equal(bad.status, 400);
      assert.equal((await api("POST", `/channels/${id}/test`)).body.status, "sent");

      // The same database under another hub key: the secret does not open, nothing is sent.
      const other = testServices(h, undefined, {
        CAPSTAN_SECRET_KEY: base64url(crypto.getRandomValues(new Uint8Array(32))),
        CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
      });
      const org = (await other.orgs.bySlug("acme"))!;
      const r = await other.alerts.testChannel({ actor: { type: "system" } }, org.id, id);
      assert.equal(r.status, "failed");
      assert.match(r.error!, /Cannot decrypt secret/);
      assert.equal(rx.got.length, 2);

      const audit = await t.services.db.selectFrom("audit_log").selectAll().execute();
      const actions = audit.map((a) => a.action);
      for (const a of ["channel.created", "channel.updated", "channel.tested"]) {
        assert.ok(actions.includes(a), a);
      }
      assert.ok(!JSON.stringify(audit).includes("PATHSECRET"));
      assert.ok(!JSON.stringify(audit).includes(SECRET));

      assert.equal((await api("DELETE", `/channels/${id}`)).status, 204);
      assert.equal((await api("GET", `/channels/${id}`)).status, 404);
    } finally {
      await rx.close();
    }
  },
);

dbTest("[e2e] alert rules API: validation, edits, roles, another organization", async (h) => {
  const { api, t } = await setup(h, {});
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const list = await api("GET", "/alert-rules", undefined, viewer.cookie);
  assert.equal(list.status, 200);
  assert.equal(list.body.items.length, DEFAULT_RULES.length, "defaults");
  const cpu = list.body.items.find((r: { metric: string }) => r.metric === "cpu.total_pct");
  assert.deepEqual([cpu.trigger, cpu.clear, cpu.hold_s], [90, 80, 300]);

  const bad = [
    [{ name: "x", kind: "metric", metric: "cpu.total_pct" }, "trigger"],
    [{ name: "x", kind: "metric", metric: "cpu.total_pct", trigger: 50, clear: 60 }, "clear"],
    [{ name: "x", kind: "metric", metric: "CPU TOTAL", trigger: 5 }, "metric"],
    [{ name: "x", kind: "event" }, "event"],
    [{ name: "x", kind: "event", event: "host_offline", hold_s: 5 }, "hold_s"],
    [{ name: "x", kind: "event", event: "data_root_size" }, "trigger"],
    [
      { name: "x", kind: "event", event: "tasks_moved", scope: "label", scope_value: "a=b" },
      "scope",
    ],
    [
      { name: "x", kind: "event", event: "secret_rotated", scope: "host", scope_value: "h1" },
      "scope",
    ],
    [{ name: "x", kind: "event", event: "build", scope: "host", scope_value: "h1" }, "scope"],
    [
      { name: "x", kind: "event", event: "webhook_disabled", scope: "label", scope_value: "a=b" },
      "scope",
    ],
    [{ name: "x", kind: "metric", metric: "m", trigger: 1, scope: "host" }, "scope_value"],
    [
      { name: "x", kind: "metric", metric: "m", trigger: 1, scope: "host", scope_value: "nope" },
      "scope_value",
    ],
    [
      {
        name: "x",
        kind: "metric",
        metric: "m",
        trigger: 1,
        scope: "label",
        scope_value: "novalue",
      },
      "scope_value",
    ],
    [{ name: "x", kind: "metric", metric: "m", trigger: 1, channels: ["nope"] }, "channels"],
    [{ name: "x", kind: "metric", metric: "m", trigger: 1, repeat_s: 5 }, "repeat_s"],
    [{ name: "a\r\nb", kind: "metric", metric: "m", trigger: 1 }, "name"],
  ] as const;
  for (const [input, field] of bad) {
    const r = await api("POST", "/alert-rules", input);
    assert.equal(r.status, 400, `${JSON.stringify(input)}: ${r.text}`);
    assert.ok(r.body.error.fields[field], `${field}: ${r.text}`);
  }
  const viewerWrite = await api(
    "POST",
    "/alert-rules",
    { name: "x", kind: "metric" },
    viewer.cookie,
  );
  assert.equal(viewerWrite.status, 403);

  const made = await api("POST", "/alert-rules", {
    name: "Root fs by label",
    kind: "metric",
    metric: "fs.used_pct{mount=/}",
    trigger: 80,
    mode: "avg",
    window_s: 120,
    scope: "label",
    scope_value: "env=prod",
  });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.body.clear, 80, "clear defaults to the trigger");
  const edited = await api("PATCH", `/alert-rules/${made.body.id}`, { clear: 70, enabled: false });
  assert.equal(edited.status, 200, edited.text);
  assert.deepEqual([edited.body.clear, edited.body.enabled, edited.body.mode], [70, false, "avg"]);
  const inconsistent = await api("PATCH", `/alert-rules/${made.body.id}`, { trigger: 60 });
  assert.equal(inconsistent.status, 400, "clear 70 above trigger 60");

  const outsider = await t.user("o@globex.io", { org: "globex", role: "owner" });
  const foreign = await t.request(`/api/v1/orgs/globex/alert-rules/${made.body.id}`, {
    cookie: outsider.cookie,
  });
  assert.equal(foreign.status, 404);
  assert.equal((await api("DELETE", `/alert-rules/${made.body.id}`)).status, 204);
  // Deleted defaults stay deleted.
  for (const r of list.body.items) await api("DELETE", `/alert-rules/${r.id}`);
  assert.equal((await api("GET", "/alert-rules")).body.items.length, 0);
  const actions = (await t.services.db.selectFrom("audit_log").select("action").execute()).map((
    r,
  ) => r.action);
  for (const a of ["alert_rule.created", "alert_rule.updated", "alert_rule.deleted"]) {
    assert.ok(actions.includes(a), a);
  }
});

dbTest("[e2e] alerts API: history filters and paging; members act, viewers read", async (h) => {
  const { api, t } = await setup(h, {});
  const org = (await t.services.orgs.bySlug("acme"))!;
  const rows = Array.from({ length: 5 }, (_, i) => ({
    id: `0190000${i}-0000-7000-8000-000000000000`,
    org_id: org.id,
    rule_id: null,
    rule_name: "r",
    subject: "s",
    host_id: i % 2 ? "h1" : "h2",
    host_name: "h",
    container_id: null,
    container_name: null,
    severity: (i % 2 ? "critical" : "warning") as "critical" | "warning",
    title: `alert ${i}`,
    value: i,
    state: (i < 2 ? "firing" : "resolved") as "firing" | "resolved",
    started_at: 1000 + i,
    ended_at: i < 2 ? null : 2000,
    acknowledged_by: null,
    acknowledged_at: null,
    silenced_until: null,
    muted: 0,
  }));
  await t.services.db.insertInto("alerts").values(rows).execute();
  const page1 = await api("GET", "/alerts?limit=2");
  assert.deepEqual(page1.body.items.map((a: { title: string }) => a.title), ["alert 4", "alert 3"]);
  const page2 = await api("GET", `/alerts?limit=2&before=${page1.body.next_before}`);
  assert.deepEqual(page2.body.items.map((a: { title: string }) => a.title), ["alert 2", "alert 1"]);
  assert.equal((await api("GET", "/alerts?state=firing")).body.items.length, 2);
  assert.equal((await api("GET", "/alerts?severity=critical&host=h1")).body.items.length, 2);
  assert.equal((await api("GET", "/alerts?from=1003&to=1004")).body.items.length, 2);
  assert.equal((await api("GET", "/alerts?state=bogus")).status, 400);

  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const id = rows[0].id;
  assert.equal(
    (await api("POST", `/alerts/${id}/acknowledge`, undefined, viewer.cookie)).status,
    403,
  );
  assert.equal((await api("POST", `/alerts/${id}/silence`, { minutes: 0 })).status, 400);
  const sil = await api("POST", `/alerts/${id}/silence`, { minutes: 30 });
  assert.equal(sil.status, 200, sil.text);
  assert.ok(sil.body.silenced_until > Date.now());
  assert.equal((await api("GET", "/alerts/01900000-0000-7000-8000-00000000ffff")).status, 404);
});
