/**
 * The alerts engine end to end on both dialects: metrics ingest → rule → alert → signed webhook to
 * a loopback receiver → resolution; retries; a hub restart while firing; dependency muting; quiet
 * hours, reminders, acknowledge and silence; email to a loopback SMTP server.
 */
import assert from "node:assert/strict";
import { insertContainerRow } from "../../../tests/support/container_row.ts";
import { dbTest } from "../../../tests/support/db.ts";
import { testApp } from "../../../tests/support/app.ts";
import { SYSTEM_CTX, testServices } from "../../../tests/support/services.ts";
import { manualClock } from "../../../tests/support/clock.ts";
import { startReceiver, startSmtp } from "../../../tests/support/receivers.ts";
import { base64url } from "../../util/ids.ts";
import type { Services } from "../../../services.ts";
import type { Host } from "../../hosts/service.ts";
import type { DbHandle } from "../../db/mod.ts";

export const KEY = base64url(crypto.getRandomValues(new Uint8Array(32)));
const ENV = { CAPSTAN_ALLOW_PRIVATE_TARGETS: "1", CAPSTAN_SECRET_KEY: KEY };
const SECRET = "webhook-signing-secret-1234";
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const CID = "c".repeat(64);

/** Adds an enrolled host. */
export async function addHost(s: Services, orgId: string, name: string): Promise<Host> {
  const { host, enrollment } = await s.hosts.create(SYSTEM_CTX, orgId, { name });
  await s.hosts.enroll(SYSTEM_CTX, {
    token: enrollment.token,
    machineId: `machine-${name}-0001`,
    hostname: name,
  });
  return (await s.hosts.byId(host.id))!;
}

/** Feeds 1 s samples through metrics ingest in 10 s batches, moving the clock with them. */
function feeder(clock: ReturnType<typeof manualClock>) {
  const seqs = new Map<string, number>();
  return async (
    s: Services,
    host: Host,
    values: number[],
    key = "cpu.total_pct",
    container?: string,
  ) => {
    for (let i = 0; i < values.length; i += 10) {
      const samples = values.slice(i, i + 10).map((v) => {
        clock.advance(1000);
        const t = clock.now();
        return container
          ? { t, host: { "cpu.total_pct": 1 }, containers: { [container]: { [key]: v } } }
          : { t, host: { [key]: v } };
      });
      const seq = seqs.get(host.id) ?? 0;
      seqs.set(host.id, seq + 1);
      await s.metrics.ingest(host, { seq, dropped: 0, samples });
    }
    await s.alerts.idle();
  };
}

async function setup(h: DbHandle, env: Record<string, string> = ENV) {
  const clock = manualClock(T0);
  const t = testApp(h, clock, undefined, env);
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const org = (await t.services.orgs.bySlug("acme"))!;
  const host = await addHost(t.services, org.id, "web-1");
  const api = async (method: string, path: string, json?: unknown) => {
    const res = await t.request(`/api/v1/orgs/acme${path}`, {
      method,
      cookie: owner.cookie,
      json,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, text };
  };
  return { clock, t, s: t.services, owner, org, host, api, feed: feeder(clock) };
}

/** One evaluation tick, then waits for the notifications it queued. */
async function tick(s: Services) {
  await s.alerts.tick();
  await s.alerts.idle();
}

const repeat = (v: number, n: number) => Array.from({ length: n }, () => v);

dbTest(
  "[e2e] alerts: CPU over the threshold for its hold time fires a signed webhook; recovery past the clear threshold resolves it",
  async (h) => {
    const { s, api, host, feed, owner } = await setup(h);
    const rx = startReceiver({ secret: SECRET });
    try {
      const ch = await api("POST", "/channels", {
        name: "ops",
        kind: "webhook",
        config: { url: `${rx.url}/hook/PATHSECRET`, secret: SECRET },
      });
      assert.equal(ch.status, 201, ch.text);
      assert.ok(!ch.text.includes("PATHSECRET") && !ch.text.includes(SECRET), ch.text);
      assert.deepEqual(ch.body.secrets, { url: true, secret: true });
      assert.equal(ch.body.hints.url_host, new URL(rx.url).host);

      const rules = await api("GET", "/alert-rules");
      assert.deepEqual(
        rules.body.items.map((r: { name: string }) => r.name).sort(),
        [
          "App Git webhook disabled after bad signatures",
          "App builds and deployments from Git",
          "App tasks moved off a failed node",
          "CPU above 90% for 5 minutes",
          "Certificate expiring or failed",
          "Container restart loop",
          "Disk above 90%",
          "Health check failing",
          "Host offline for 2 minutes",
          "Inodes above 90%",
          "Memory above 95% for 5 minutes",
          "NAS backup stale or NAS unreachable",
          "Quota at 80 %",
          "Quota at 90 %, full or exceeded",
          "Secret rotated in an app",
          "Storage target verification failed",
          "Volume snapshot or restore failed",
          "Wallet below zero: grace period and deploy blocking",
        ],
      );

      // 95% for 299 s: pending, nothing sent.
      await feed(s, host, [50, ...repeat(95, 299)]);
      assert.equal(rx.got.length, 0);
      assert.equal((await api("GET", "/alerts")).body.items.length, 0);
      // The 300th second above the trigger fires it.
      await feed(s, host, repeat(95, 10));
      assert.equal(rx.got.length, 1);
      const fired = rx.got[0];
      assert.ok(fired.verified);
      assert.equal(fired.path, "/hook/PATHSECRET");
      assert.equal(fired.json.event, "firing");
      assert.equal(fired.json.title, "CPU above 90% for 5 minutes on web-1");
      assert.match(String(fired.json.detail), /cpu\.total_pct is 95\.0%, > 90\.0% for 5m/);
      assert.ok(fired.headers.get("x-capstan-delivery"));
      const firing = await api("GET", "/alerts?state=firing");
      assert.equal(firing.body.items.length, 1);
      assert.equal(firing.body.items[0].severity, "warning");
      assert.equal((await api("GET", "/notifications/unread-count")).body.count, 1);
      await api("POST", "/notifications/read");
      assert.equal((await api("GET", "/notifications/unread-count")).body.count, 0);

      // Between trigger and clear: still firing, no flapping.
      await feed(s, host, [85, 91, 82, 95, 81, 89, 80, 90, 85, 80]);
      assert.equal(rx.got.length, 1);
      // Below the clear threshold: resolved, one more notification.
      await feed(s, host, [75]);
      assert.equal(rx.got.length, 2);
      assert.equal(rx.got[1].json.event, "resolved");
      assert.ok(rx.got[1].verified);
      const all = await api("GET", "/alerts");
      assert.equal(all.body.items.length, 1);
      assert.equal(all.body.items[0].state, "resolved");
      assert.ok(all.body.items[0].ended_at > all.body.items[0].started_at);

      const deliveries = await api("GET", `/channels/${ch.body.id}/deliveries`);
      assert.deepEqual(
        deliveries.body.items.map((d: { event: string; status: string; attempts: number }) =>
          `${d.event}:${d.status}:${d.attempts}`
        ).sort(),
        ["firing:sent:1", "resolved:sent:1"],
      );
      // Secrets never reach the audit log.
      const audit = await s.db.selectFrom("audit_log").selectAll().execute();
      assert.ok(audit.some((r) => r.action === "channel.created"));
      assert.ok(!JSON.stringify(audit).includes("PATHSECRET"));
      assert.ok(!JSON.stringify(audit).includes(SECRET));
      void owner;
    } finally {
      await rx.close();
    }
  },
);

dbTest(
  "[e2e] alerts: a failing receiver is retried with backoff until it answers",
  async (h) => {
    const { s, api, host, feed, clock } = await setup(h);
    const rx = startReceiver({ secret: SECRET, statuses: [500, 500] });
    try {
      const ch = await api("POST", "/channels", {
        name: "ops",
        kind: "webhook",
        config: { url: `${rx.url}/hook/PATHSECRET`, secret: SECRET },
      });
      const rule = await api("POST", "/alert-rules", {
        name: "CPU over 50",
        kind: "metric",
        metric: "cpu.total_pct",
        trigger: 50,
        channels: [ch.body.id],
      });
      assert.equal(rule.status, 201, rule.text);
      await feed(s, host, [60]);
      assert.equal(rx.got.length, 1);
      let [d] = (await api("GET", `/channels/${ch.body.id}/deliveries`)).body.items;
      assert.equal(d.status, "pending");
      assert.equal(d.attempts, 1);
      assert.match(d.last_error, /answered 500/);
      assert.ok(!d.last_error.includes("PATHSECRET"));
      // Not due yet: nothing is tried.
      assert.deepEqual(await s.alerts.delivery.runDue(), { tried: 0 });
      clock.advance(30_000);
      assert.deepEqual(await s.alerts.delivery.runDue(), { tried: 1 });
      [d] = (await api("GET", `/channels/${ch.body.id}/deliveries`)).body.items;
      assert.equal(d.attempts, 2);
      assert.equal(d.status, "pending");
      assert.equal(d.next_attempt_at, clock.now() + 60_000, "backoff doubles");
      clock.advance(60_000);
      await s.alerts.delivery.runDue();
      [d] = (await api("GET", `/channels/${ch.body.id}/deliveries`)).body.items;
      assert.equal(d.status, "sent");
      assert.equal(d.attempts, 3);
      assert.equal(rx.got.length, 3);
      assert.equal(new Set(rx.got.map((g) => g.headers.get("x-capstan-delivery"))).size, 1);
    } finally {
      await rx.close();
    }
  },
);

dbTest(
  "[e2e] alerts: a hub restart while firing neither repeats the alert nor loses its resolution",
  async (h) => {
    const { s, api, host, feed, clock } = await setup(h);
    const rx = startReceiver({ secret: SECRET });
    try {
      await api("POST", "/channels", {
        name: "ops",
        kind: "webhook",
        config: { url: `${rx.url}/hook`, secret: SECRET },
      });
      await api("POST", "/alert-rules", {
        name: "CPU over 50",
        kind: "metric",
        metric: "cpu.total_pct",
        trigger: 50,
        clear: 40,
        hold_s: 5,
      });
      await feed(s, host, repeat(60, 10));
      assert.equal(rx.got.length, 1);

      // A new process over the same database: nothing in memory, everything in rule_states.
      const s2 = testServices(h, clock, ENV);
      await feed(s2, host, repeat(70, 30));
      assert.equal(rx.got.length, 1, "no second firing");
      assert.equal((await api("GET", "/alerts")).body.items.length, 1);
      await feed(s2, host, [30]);
      assert.equal(rx.got.length, 2);
      assert.equal(rx.got[1].json.event, "resolved");
      const [alert] = (await api("GET", "/alerts")).body.items;
      assert.equal(alert.state, "resolved");
      // The first process, still around with stale memory, cannot resolve it a second time.
      await feed(s, host, [30, 20]);
      assert.equal(rx.got.length, 2);
    } finally {
      await rx.close();
    }
  },
);

dbTest(
  "[e2e] alerts: a host going offline fires host_offline and mutes its containers' alerts",
  async (h) => {
    const { s, api, host, feed, clock } = await setup(h);
    const rx = startReceiver({ secret: SECRET });
    try {
      await api("POST", "/channels", {
        name: "ops",
        kind: "webhook",
        config: { url: `${rx.url}/hook`, secret: SECRET },
      });
      const rule = await api("POST", "/alert-rules", {
        name: "Container exited",
        kind: "event",
        event: "container_exited",
        hold_s: 90,
      });
      assert.equal(rule.status, 201, rule.text);
      // The host's last report, then a container dies (a reboot starts), then silence.
      await feed(s, host, [10]);
      s.alerts.agentObserver.event(host, {
        type: "container",
        action: "die",
        id: CID,
        name: "api",
        time_nano: clock.now() * 1e6,
        container: { name: "/api", state: "exited", status: "Exited (137) 1 second ago" },
      });
      await s.alerts.idle();
      clock.advance(60_000);
      await tick(s);
      assert.equal(rx.got.length, 0, "not yet: host offline needs 2 minutes");
      clock.advance(61_000);
      await tick(s);
      assert.deepEqual(rx.got.map((g) => g.json.title), ["Host offline for 2 minutes on web-1"]);
      const items = (await api("GET", "/alerts")).body.items;
      const ctr = items.find((a: { title: string }) => a.title.startsWith("Container exited"));
      assert.ok(ctr, JSON.stringify(items));
      assert.equal(ctr.muted, true);
      assert.equal(ctr.container_name, "api");
      // Back online: host_offline resolves at the first report.
      await feed(s, host, [10]);
      assert.deepEqual(rx.got.map((g) => g.json.event), ["firing", "resolved"]);
    } finally {
      await rx.close();
    }
  },
);

dbTest(
  "[e2e] alerts: quiet hours withhold, reminders repeat, acknowledge stops reminders, silence holds a re-fire",
  async (h) => {
    const { s, api, host, feed, clock, t } = await setup(h);
    const rx = startReceiver({ secret: SECRET });
    try {
      await api("POST", "/channels", {
        name: "ops",
        kind: "webhook",
        config: { url: `${rx.url}/hook`, secret: SECRET },
      });
      await api("POST", "/alert-rules", {
        name: "CPU over 50",
        kind: "metric",
        metric: "cpu.total_pct",
        trigger: 50,
        repeat_s: 600,
        quiet_hours: { start_min: 11 * 60, end_min: 13 * 60, tz_offset_min: 0 },
      });
      await feed(s, host, [60]);
      assert.equal(rx.got.length, 0, "12:00 is in the quiet hours");
      const [alert] = (await api("GET", "/alerts")).body.items;
      assert.equal(alert.state, "firing");
      clock.set(Date.UTC(2026, 0, 1, 13, 0, 5));
      await feed(s, host, [60]);
      await tick(s);
      assert.deepEqual(rx.got.map((g) => g.json.event), ["firing"], "sent once quiet hours end");
      clock.advance(600_000);
      await feed(s, host, [61]);
      await tick(s);
      assert.deepEqual(rx.got.map((g) => g.json.event), ["firing", "reminder"]);

      const member = await t.user("member@acme.io", { org: "acme", role: "member" });
      const ack = await t.request(`/api/v1/orgs/acme/alerts/${alert.id}/acknowledge`, {
        method: "POST",
        cookie: member.cookie,
      });
      assert.equal(ack.status, 200);
      assert.equal((await ack.json()).acknowledged_by, "member@acme.io");
      clock.advance(700_000);
      await feed(s, host, [62]);
      await tick(s);
      assert.equal(rx.got.length, 2, "acknowledged: no reminder");

      const sil = await api("POST", `/alerts/${alert.id}/silence`, { minutes: 60 });
      assert.equal(sil.status, 200, sil.text);
      await feed(s, host, [40]); // resolved while silenced: not announced
      await feed(s, host, [70]); // fires again within the silence: held
      assert.equal(rx.got.length, 2);
      const alerts = (await api("GET", "/alerts")).body.items;
      assert.equal(alerts.length, 2);
      clock.advance(61 * 60_000);
      await feed(s, host, [70]);
      await tick(s);
      assert.deepEqual(rx.got.map((g) => g.json.event), ["firing", "reminder", "firing"]);
      const actions = (await s.db.selectFrom("audit_log").select("action").execute()).map((r) =>
        r.action
      );
      assert.ok(actions.includes("alert.acknowledged") && actions.includes("alert.silenced"));
    } finally {
      await rx.close();
    }
  },
);

dbTest("[e2e] alerts: email channel delivers to an SMTP server", async (h) => {
  const { s, api, host, feed } = await setup(h);
  const smtp = startSmtp();
  try {
    const ch = await api("POST", "/channels", {
      name: "mail",
      kind: "email",
      config: {
        host: "127.0.0.1",
        port: smtp.port,
        security: "none",
        from: "capstan@example.com",
        to: ["ops@example.com"],
      },
    });
    assert.equal(ch.status, 201, ch.text);
    assert.deepEqual(ch.body.secrets, { password: false });
    await api("POST", "/alert-rules", {
      name: "CPU over 50",
      kind: "metric",
      metric: "cpu.total_pct",
      trigger: 50,
    });
    await feed(s, host, [60]);
    await s.alerts.idle();
    assert.equal(smtp.mails.length, 1);
    const m = smtp.mails[0];
    assert.equal(m.from, "capstan@example.com");
    assert.deepEqual(m.to, ["ops@example.com"]);
    const split = m.data.indexOf("\r\n\r\n");
    const head = m.data.slice(0, split);
    const body = m.data.slice(split + 4);
    assert.match(head, /^Subject: \[FIRING\] warning: CPU over 50 on web-1$/m);
    assert.match(head, /^To: ops@example.com$/m);
    assert.match(body, /cpu\.total_pct is 60\.0%, > 50\.0%/);
    assert.match(body, /Host: web-1/);
  } finally {
    await smtp.close();
  }
});

dbTest("[e2e] alert rules: a container metric rule fires per container", async (h) => {
  const { s, api, host, feed } = await setup(h);
  await api("POST", "/alert-rules", {
    name: "Container memory",
    kind: "metric",
    metric: "ctr.mem_pct",
    container: true,
    trigger: 80,
    clear: 70,
  });
  await insertContainerRow(s.db, { host_id: host.id, id: CID, org_id: host.org_id, name: "/db" });
  await feed(s, host, [90], "ctr.mem_pct", CID);
  const [a] = (await api("GET", "/alerts")).body.items;
  assert.equal(a.title, "Container memory on web-1 / db");
  assert.equal(a.container_id, CID);
});
