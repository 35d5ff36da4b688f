/**
 * Alerts pages through the whole app (no socket): the bell's unread count in the layout, the
 * notifications page (filters as a GET form, acknowledge and silence as audited POST forms, the
 * count dropping on a visit), the host page's alert history, rule and channel forms with 400
 * redisplay next to the field, write-only channel secrets, "Send test", deletes behind a
 * confirmation, and the roles (viewers see, members act on alerts, admins change rules/channels).
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { manualClock } from "./support/clock.ts";
import { startReceiver } from "./support/receivers.ts";
import { base64url } from "../lib/util/ids.ts";
import { EVENT_TYPES } from "../lib/alerts/schema.ts";
import type { DbHandle } from "../lib/db/mod.ts";

const KEY = base64url(crypto.getRandomValues(new Uint8Array(32)));
const SECRET = "webhook-signing-secret-1234";
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function form(fields: Record<string, string>): RequestInit {
  return { method: "POST", body: new URLSearchParams(fields) };
}

async function setup(h: DbHandle) {
  const clock = manualClock(T0);
  const t = testApp(h, clock, undefined, {
    CAPSTAN_SECRET_KEY: KEY,
    CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
  });
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const member = await t.user("member@acme.io", { org: "acme", role: "member" });
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const org = (await t.services.orgs.bySlug("acme"))!;
  const s = t.services;
  const { host: created, enrollment } = await s.hosts.create(SYSTEM_CTX, org.id, { name: "web-1" });
  await s.hosts.enroll(SYSTEM_CTX, {
    token: enrollment.token,
    machineId: "machine-pages-0001",
    hostname: "web-1",
  });
  const host = (await s.hosts.byId(created.id))!;
  let seq = 0;
  /** 1 s samples of cpu.total_pct through ingest, 10 per batch. */
  const feed = async (values: number[]) => {
    for (let i = 0; i < values.length; i += 10) {
      const samples = values.slice(i, i + 10).map((v) => {
        clock.advance(1000);
        return { t: clock.now(), host: { "cpu.total_pct": v } };
      });
      await s.metrics.ingest(host, { seq: seq++, dropped: 0, samples });
    }
    await s.alerts.idle();
  };
  const get = async (path: string, cookie = owner.cookie) => {
    const res = await t.request(path, { cookie });
    return { status: res.status, html: await res.text(), res };
  };
  const post = async (path: string, fields: Record<string, string>, cookie = owner.cookie) => {
    const res = await t.request(path, { ...form(fields), cookie });
    return { status: res.status, html: await res.text(), location: res.headers.get("location") };
  };
  return { t, s, clock, org, host, owner, member, viewer, feed, get, post };
}

/** The unread count the layout's bell shows. */
function bellCount(html: string): number {
  const m = /class="btn btn-ghost btn-icon bell"[^>]*data-unread="(\d+)"/.exec(html);
  assert.ok(m, "the layout has a bell");
  return Number(m[1]);
}

const repeat = (v: number, n: number) => Array.from({ length: n }, () => v);

dbTest(
  "[e2e] notifications pages: bell count, list with filters, acknowledge and silence audited, host history",
  async (h) => {
    const { s, org, host, owner, member, viewer, feed, get, post } = await setup(h);
    // Empty state first; the bell is there with nothing unread.
    let page = await get("/o/acme/notifications");
    assert.equal(page.status, 200);
    assert.match(page.html, /No alerts yet/);
    assert.match(page.html, /aria-label="Notifications: no firing alerts waiting"/);
    assert.match(page.html, /href="\/o\/acme\/alerts\/rules"/);

    // A rule with a 5 s hold; 95% for 10 s fires it, 10% resolves it, then it fires again.
    await s.alerts.rules.create(SYSTEM_CTX, org.id, {
      name: "CPU hot",
      kind: "metric",
      metric: "cpu.total_pct",
      trigger: 90,
      clear: 50,
      hold_s: 5,
      severity: "critical",
    });
    await feed([...repeat(95, 10), ...repeat(10, 10), ...repeat(96, 10)]);
    const all = await s.alerts.history.list({ orgId: org.id, limit: 10 });
    assert.deepEqual(all.rows.map((a) => a.state), ["firing", "resolved"]);
    const [firing, resolved] = all.rows;

    // Server-rendered bell on any page, counting the firing alert (not the resolved one), with the
    // count in its accessible name.
    page = await get("/o/acme/hosts");
    assert.equal(bellCount(page.html), 1);
    assert.match(page.html, /aria-label="Notifications: 1 firing alert not acknowledged"/);
    // Viewers see the list without actions; visiting it does not hide what still fires.
    page = await get("/o/acme/notifications", viewer.cookie);
    assert.equal(page.status, 200);
    assert.match(page.html, /CPU hot on web-1/);
    assert.match(page.html, /badge-error">critical/);
    assert.match(page.html, /95\.0%/);
    assert.doesNotMatch(page.html, /acknowledge"/);
    assert.equal(bellCount(page.html), 1);
    assert.equal(bellCount((await get("/o/acme/hosts", viewer.cookie)).html), 1);

    // Filters: a GET form; state=resolved lists only the resolved one; a bad time is a 400.
    page = await get("/o/acme/notifications?state=resolved");
    assert.ok(page.html.includes(`data-alert="${resolved.id}"`));
    assert.ok(!page.html.includes(`data-alert="${firing.id}"`));
    assert.match(page.html, /<option value="resolved" selected/);
    page = await get(`/o/acme/notifications?host=${host.id}&severity=warning`);
    assert.match(page.html, /No alerts match these filters/);
    page = await get("/o/acme/notifications?from=yesterday");
    assert.equal(page.status, 400);
    assert.match(page.html, /field-error[^>]*>Must be a date and time/);
    // Cursor pagination: one page of one row at a time via before=.
    page = await get(`/o/acme/notifications?before=${firing.id}`);
    assert.ok(page.html.includes(`data-alert="${resolved.id}"`));
    assert.match(page.html, /← Newest/);

    // Actions: viewers may not; members may, audited, and come back to the filtered page.
    const ack = `/o/acme/notifications/${firing.id}/acknowledge`;
    assert.equal((await post(ack, {}, viewer.cookie)).status, 403);
    let r = await post(ack, { back: "/o/acme/notifications?state=firing" }, member.cookie);
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/notifications?state=firing&ok=alert_acknowledged");
    page = await get(r.location!, member.cookie);
    assert.match(page.html, /Alert acknowledged/);
    assert.match(page.html, /badge-neutral">acknowledged/);
    assert.equal(bellCount(page.html), 0, "acknowledged: the bell has nothing left to count");
    // Off-site "back" is ignored.
    r = await post(
      `/o/acme/notifications/${firing.id}/silence`,
      { minutes: "60", back: "//evil.example/x" },
      member.cookie,
    );
    assert.equal(r.location, "/o/acme/notifications?ok=alert_silenced");
    const after = await s.alerts.history.get(org.id, firing.id);
    assert.ok(after.acknowledged_at !== null);
    assert.equal(Number(after.silenced_until), s.clock.now() + 60 * 60_000);
    const audit = await s.db.selectFrom("audit_log").select(["action", "actor_name"])
      .where("action", "in", ["alert.acknowledged", "alert.silenced"]).execute();
    assert.deepEqual(audit.map((a) => `${a.action}:${a.actor_name}`).sort(), [
      "alert.acknowledged:member@acme.io",
      "alert.silenced:member@acme.io",
    ]);
    // Another organization's alert is a 404.
    assert.equal(
      (await post("/o/acme/notifications/00000000-0000-7000-8000-000000000000/acknowledge", {}))
        .status,
      404,
    );

    // The host page has the history section linking to the filtered list.
    page = await get(`/o/acme/hosts/${host.id}`);
    assert.equal(page.status, 200);
    assert.match(page.html, /id="host-alerts-title">Alerts/);
    assert.ok(page.html.includes(`href="/o/acme/notifications?host=${host.id}"`));
    assert.ok(page.html.includes(`data-alert="${firing.id}"`));
    void owner;
  },
);

dbTest(
  "[e2e] alert rule pages: defaults listed, create with 400 redisplay next to the field, edit, disable, delete with confirmation, roles",
  async (h) => {
    const { s, org, host, viewer, get, post } = await setup(h);
    let page = await get("/o/acme/alerts/rules", viewer.cookie);
    assert.equal(page.status, 200);
    assert.match(page.html, /CPU above 90% for 5 minutes/);
    assert.match(page.html, /Container restart loop/);
    assert.doesNotMatch(page.html, /\/edit"/, "viewers get no edit links");
    assert.equal((await get("/o/acme/alerts/rules/new", viewer.cookie)).status, 403);
    assert.equal(
      (await post("/o/acme/alerts/rules/new", { name: "x" }, viewer.cookie)).status,
      403,
    );

    // The event form offers every event type of the schema.
    page = await get("/o/acme/alerts/rules/new?kind=event");
    for (const e of EVENT_TYPES) assert.ok(page.html.includes(`<option value="${e}"`), e);

    // Missing trigger and a clear on the wrong side: 400, messages by the fields, input kept.
    const fields = {
      kind: "metric",
      name: "Load on web-1",
      enabled: "on",
      scope: "host",
      scope_host: host.id,
      metric: "cpu.total_pct",
      op: ">",
      trigger: "",
      clear: "95",
      mode: "instant",
      hold_s: "30",
      window_s: "60",
      severity: "critical",
      repeat_s: "0",
      channels_all: "on",
    };
    let r = await post("/o/acme/alerts/rules/new", fields);
    assert.equal(r.status, 400);
    assert.match(r.html, /id="rule-trigger-error">Is required for a metric rule/);
    assert.match(r.html, /value="Load on web-1"/);
    r = await post("/o/acme/alerts/rules/new", { ...fields, trigger: "80" });
    assert.equal(r.status, 400);
    assert.match(r.html, /id="rule-clear-error">Must be at most the trigger/);
    r = await post("/o/acme/alerts/rules/new", { ...fields, trigger: "80", hold_s: "-1" });
    assert.equal(r.status, 400);
    assert.match(r.html, /id="rule-hold_s-error"/);
    r = await post("/o/acme/alerts/rules/new", { ...fields, trigger: "80", quiet_start: "25:00" });
    assert.equal(r.status, 400);
    assert.match(r.html, /id="rule-quiet_start-error">Must be a time like 22:00/);

    r = await post("/o/acme/alerts/rules/new", {
      ...fields,
      trigger: "80",
      clear: "70",
      quiet_start: "22:00",
      quiet_end: "07:00",
      quiet_tz_offset: "60",
    });
    assert.equal(r.status, 303, r.html);
    assert.equal(r.location, "/o/acme/alerts/rules?ok=rule_saved");
    const rule = (await s.alerts.rules.list(org.id)).find((x) => x.name === "Load on web-1")!;
    assert.equal(rule.scope, "host");
    assert.equal(rule.scope_value, host.id);
    assert.equal(rule.trigger, 80);
    assert.equal(rule.clear, 70);
    assert.equal(rule.hold_s, 30);
    assert.deepEqual(rule.quiet_hours, { start_min: 1320, end_min: 420, tz_offset_min: 60 });
    page = await get(r.location!);
    assert.match(page.html, /Alert rule saved/);
    assert.match(page.html, /cpu\.total_pct > 80\.0% for 30s, clears at 70\.0%/);

    // Edit: the form is filled from the rule; a bad scope label is a 400 by its field.
    page = await get(`/o/acme/alerts/rules/${rule.id}/edit`);
    assert.match(page.html, /value="22:00"/);
    assert.match(page.html, new RegExp(`<option value="${host.id}" selected`));
    r = await post(`/o/acme/alerts/rules/${rule.id}/edit`, {
      ...fields,
      trigger: "80",
      clear: "70",
      scope: "label",
      scope_label: "no equals sign",
    });
    assert.equal(r.status, 400);
    assert.match(r.html, /id="rule-scope_label-error">Must look like key=value/);
    r = await post(`/o/acme/alerts/rules/${rule.id}/edit`, {
      ...fields,
      trigger: "85",
      clear: "70",
      scope: "label",
      scope_label: "env=prod",
    });
    assert.equal(r.status, 303);
    assert.equal((await s.alerts.rules.get(org.id, rule.id)).scope_value, "env=prod");

    // Disable, then delete through the confirmation page.
    r = await post(`/o/acme/alerts/rules/${rule.id}/enabled`, { enabled: "0" });
    assert.equal(r.location, "/o/acme/alerts/rules?ok=rule_disabled");
    assert.equal((await s.alerts.rules.get(org.id, rule.id)).enabled, false);
    page = await get(`/o/acme/alerts/rules/${rule.id}/delete`);
    assert.match(page.html, /Delete the rule &quot;Load on web-1&quot;\?/);
    assert.match(page.html, /<form method="post" action="\/o\/acme\/alerts\/rules\/[^"]+\/delete"/);
    r = await post(`/o/acme/alerts/rules/${rule.id}/delete`, {});
    assert.equal(r.location, "/o/acme/alerts/rules?ok=rule_deleted");
    assert.ok(!(await s.alerts.rules.list(org.id)).some((x) => x.id === rule.id));
    const actions = (await s.db.selectFrom("audit_log").select("action")
      .where("action", "like", "alert_rule.%").where("status", "=", "ok").execute())
      .map((a) => a.action);
    assert.deepEqual(actions.sort(), [
      "alert_rule.created",
      "alert_rule.deleted",
      "alert_rule.updated",
      "alert_rule.updated",
    ]);
  },
);

dbTest(
  "[e2e] channel pages: admins only, secrets write-only, send test shows sent or the error, delete with confirmation",
  async (h) => {
    const { s, org, member, get, post } = await setup(h);
    assert.equal((await get("/o/acme/alerts/channels", member.cookie)).status, 403);
    let page = await get("/o/acme/alerts/channels");
    assert.match(page.html, /No channels yet/);
    // Nav: admins see Channels; members do not.
    assert.match(page.html, /href="\/o\/acme\/alerts\/channels"/);
    assert.doesNotMatch(
      (await get("/o/acme/notifications", member.cookie)).html,
      /href="\/o\/acme\/alerts\/channels"/,
    );
    page = await get("/o/acme/alerts/channels/new");
    assert.match(page.html, /href="\/o\/acme\/alerts\/channels\/new\?kind=webhook"/);

    const rx = startReceiver({ secret: SECRET });
    try {
      // A short secret and a metadata URL: 400 by the fields, everything typed kept (URL and
      // secret too, so they need not be pasted again: the page is never cached).
      let r = await post("/o/acme/alerts/channels/new", {
        kind: "webhook",
        name: "ops-hook",
        enabled: "on",
        url: "http://169.254.169.254/latest",
        secret: "short",
      });
      assert.equal(r.status, 400);
      assert.match(r.html, /id="ch-secret-error"/);
      assert.match(r.html, /value="ops-hook"/);
      assert.ok(r.html.includes('value="http://169.254.169.254/latest"'), "the URL is kept");
      r = await post("/o/acme/alerts/channels/new", {
        kind: "webhook",
        name: "ops-hook",
        url: "http://169.254.169.254/latest",
        secret: SECRET,
      });
      assert.equal(r.status, 400);
      assert.match(r.html, /id="ch-url-error"/);
      assert.ok(r.html.includes(`value="${SECRET}"`), "the secret is kept");

      r = await post("/o/acme/alerts/channels/new", {
        kind: "webhook",
        name: "ops-hook",
        enabled: "on",
        url: `${rx.url}/hook/PATHSECRET`,
        secret: SECRET,
      });
      assert.equal(r.status, 303, r.html);
      const [ch] = await s.alerts.channels.list(org.id);
      page = await get(r.location!);
      assert.match(page.html, /Channel saved/);
      assert.ok(page.html.includes(new URL(rx.url).host));
      assert.ok(!page.html.includes("PATHSECRET") && !page.html.includes(SECRET));

      // Edit: secrets are never filled in; blank keeps them (the test below still verifies).
      page = await get(`/o/acme/alerts/channels/${ch.id}/edit`);
      assert.ok(!page.html.includes("PATHSECRET") && !page.html.includes(SECRET));
      assert.match(page.html, /Set — leave blank to keep/);
      r = await post(`/o/acme/alerts/channels/${ch.id}/edit`, {
        name: "ops",
        enabled: "on",
        url: "",
        secret: "",
      });
      assert.equal(r.status, 303, r.html);

      r = await post(`/o/acme/alerts/channels/${ch.id}/test`, {});
      assert.equal(r.status, 200);
      assert.match(r.html, /Test notification sent to &quot;ops&quot;/);
      assert.equal(rx.got.length, 1);
      assert.ok(rx.got[0].verified);
      assert.equal(rx.got[0].path, "/hook/PATHSECRET");
      assert.equal(rx.got[0].json.event, "test");

      // A receiver that refuses: the page says why.
      const bad = startReceiver({ secret: "another-secret-that-differs" });
      try {
        r = await post("/o/acme/alerts/channels/new", {
          kind: "webhook",
          name: "wrong-secret",
          enabled: "on",
          url: `${bad.url}/hook`,
          secret: SECRET,
        });
        const wrong = (await s.alerts.channels.list(org.id)).find((x) =>
          x.name === "wrong-secret"
        )!;
        r = await post(`/o/acme/alerts/channels/${wrong.id}/test`, {});
        assert.match(r.html, /Test to &quot;wrong-secret&quot; failed: [^<]*401/);
      } finally {
        await bad.close();
      }

      page = await get(`/o/acme/alerts/channels/${ch.id}/delete`);
      assert.match(page.html, /Delete the channel &quot;ops&quot;\?/);
      r = await post(`/o/acme/alerts/channels/${ch.id}/delete`, {});
      assert.equal(r.location, "/o/acme/alerts/channels?ok=channel_deleted");
      assert.equal((await s.alerts.channels.list(org.id)).length, 1);
    } finally {
      await rx.close();
    }
  },
);
