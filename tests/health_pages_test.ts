/**
 * Health pages through the whole app (no socket, no engine), on both dialects: the nav link and
 * the empty state; the container page's checks and its "Add HTTP check" (members only); the new
 * check form prefilled with the two-click defaults, 400 redisplay next to the field with the input
 * kept, and "Start monitoring" landing on the check's page (audited); the health page's counts,
 * badges, sparklines, uptime and GET filters; the detail page's facts, chart and history pages;
 * edit, disable/enable and "Stop monitoring" behind a confirmation; label checks refused with 409;
 * viewers read only; another organization's check is a 404.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { manualClock } from "./support/clock.ts";
import { base64url } from "../lib/util/ids.ts";
import type { DbHandle } from "../lib/db/mod.ts";
import type { HealthResult } from "../lib/protocol/health.ts";
import { fakeContainer } from "./support/containers.ts";

const T0 = Date.UTC(2026, 0, 1, 12);
const WEB = "a".repeat(64);

async function setup(h: DbHandle) {
  const clock = manualClock(T0);
  const t = testApp(h, clock, undefined, {
    CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
    CAPSTAN_SECRET_KEY: base64url(crypto.getRandomValues(new Uint8Array(32))),
  });
  const owner = await t.user("owner@acme.io", { org: "acme", role: "owner" });
  const member = await t.user("member@acme.io", { org: "acme", role: "member" });
  const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
  const eve = await t.user("eve@other.io", { org: "other", role: "owner" });
  const s = t.services;
  const org = (await s.orgs.bySlug("acme"))!;
  const host = await s.hosts.ensureLocal(org.id, "local");
  await s.hosts.applySnapshot(host, [fakeContainer(WEB, "web")]);
  const get = async (path: string, cookie = owner.cookie) => {
    const res = await t.request(path, { cookie });
    return { status: res.status, html: await res.text() };
  };
  const post = async (path: string, fields: Record<string, string>, cookie = owner.cookie) => {
    const res = await t.request(path, {
      method: "POST",
      body: new URLSearchParams(fields),
      cookie,
    });
    return { status: res.status, html: await res.text(), location: res.headers.get("location") };
  };
  /** Results of a check through the service, one per `stepMs`, ending now. */
  const feed = async (checkId: string, oks: boolean[], stepMs = 10_000) => {
    const results: HealthResult[] = oks.map((ok) => {
      clock.advance(stepMs);
      return {
        check_id: checkId,
        at: clock.now(),
        ok,
        response_ms: ok ? 12.5 : 3.2,
        status_code: ok ? 200 : 503,
        error: ok ? null : "unexpected status 503",
      };
    });
    await s.health.service.ingest(host, results);
  };
  return { t, s, clock, org, host, owner, member, viewer, eve, get, post, feed };
}

/** The value of the input `name` in a page. */
function inputValue(html: string, name: string): string | undefined {
  const m = new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html);
  return m ? /value="([^"]*)"/.exec(m[0])?.[1] : undefined;
}

/** The error message shown under the form field `name`. */
function fieldError(html: string, name: string): string | undefined {
  return new RegExp(`id="hc-${name}-error">([^<]*)<`).exec(html)?.[1];
}

const NEW_DEFAULTS = {
  kind: "http",
  http_port: "8080",
  http_path: "/",
  http_method: "GET",
  http_expect_status: "200-399",
  interval_s: "30",
  timeout_s: "5",
  retries: "2",
  start_delay_s: "0",
};

dbTest(
  "[e2e] health pages: container page → Add HTTP check → Start monitoring, list, detail, edit, stop",
  async (h) => {
    const { s, org, host, member, viewer, get, post, feed } = await setup(h);
    // Nav link and empty state.
    let page = await get("/o/acme/health");
    assert.equal(page.status, 200);
    assert.match(page.html, /<a href="\/o\/acme\/health" aria-current="page">Health<\/a>/);
    assert.match(page.html, /No health checks yet/);
    assert.match(page.html, /capstan\.health\.http=\/healthz/);

    // The container page: not monitored yet, "Add HTTP check" for members, not for viewers.
    const ctrPage = `/o/acme/containers/${host.id}/${WEB}`;
    page = await get(ctrPage);
    assert.equal(page.status, 200);
    assert.match(page.html, /Health checks/);
    assert.match(page.html, /Not monitored yet/);
    const add = /href="([^"]*)"[^>]*>Add HTTP check</.exec(page.html);
    assert.ok(add, "an Add HTTP check button");
    const addHref = add[1].replaceAll("&amp;", "&");
    assert.equal(
      addHref,
      `/o/acme/health/new?host=${host.id}&container=${WEB}&kind=http`,
    );
    assert.doesNotMatch((await get(ctrPage, viewer.cookie)).html, /Add HTTP check/);

    // Click 1: the form, prefilled with the defaults (the container's first TCP port).
    page = await get(addHref);
    assert.equal(page.status, 200);
    for (const [k, v] of Object.entries(NEW_DEFAULTS)) {
      if (k !== "http_method") assert.equal(inputValue(page.html, k), v, k);
    }
    assert.match(page.html, /<option value="GET" selected/);
    assert.match(page.html, />Start monitoring</);
    for (const k of ["tcp", "docker", "command"]) {
      assert.ok(page.html.includes(`kind=${k}"`), `a link to the ${k} form`);
    }
    assert.equal((await get(addHref, viewer.cookie)).status, 403);
    assert.equal((await get(`/o/acme/health/new?host=${host.id}&container=nope`)).status, 404);

    // 400s: the message next to its field, what was typed kept.
    const fields = { host_id: host.id, container: WEB, ...NEW_DEFAULTS };
    let r = await post("/o/acme/health/new", { ...fields, http_port: "eighty" });
    assert.equal(r.status, 400);
    assert.equal(fieldError(r.html, "http_port"), "Must be a whole number");
    assert.equal(inputValue(r.html, "http_port"), "eighty");
    r = await post("/o/acme/health/new", { ...fields, http_path: "healthz" });
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "http_path") ?? "", /path starting with \//);
    r = await post("/o/acme/health/new", { ...fields, http_headers: "X-A: 1\nnot a header" });
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "http_headers") ?? "", /Name: value/);
    assert.match(r.html, /X-A: 1\nnot a header<\/textarea>/);
    r = await post("/o/acme/health/new", { ...fields, http_expect_status: "2xx" });
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "http_expect_status") ?? "", /not a status code/);
    r = await post("/o/acme/health/new", { ...fields, timeout_s: "60" });
    assert.equal(r.status, 400, "the service's own check, mapped onto the field");
    assert.equal(fieldError(r.html, "timeout_s"), "Must not exceed interval_s");
    r = await post("/o/acme/health/new", { ...fields, http_host: "169.254.169.254" });
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "http_host") ?? "", /^Link-local/);
    r = await post("/o/acme/health/new", { ...fields, kind: "command", command_argv: "" });
    assert.equal(r.status, 400);
    assert.ok(fieldError(r.html, "command_argv"));
    assert.equal((await post("/o/acme/health/new", fields, viewer.cookie)).status, 403);
    assert.equal(await s.db.selectFrom("health_checks").select("id").executeTakeFirst(), undefined);

    // Click 2: "Start monitoring" lands on the check's page (audited).
    r = await post("/o/acme/health/new", fields, member.cookie);
    assert.equal(r.status, 303);
    const m = /^\/o\/acme\/health\/([0-9a-f-]{36})\?done=created$/.exec(r.location ?? "");
    assert.ok(m, r.location ?? "no location");
    const id = m[1];
    const audit = await s.db.selectFrom("audit_log").select(["action", "target_id"])
      .where("action", "=", "health_check.created").execute();
    assert.deepEqual(audit.map((a) => a.target_id), [id]);
    page = await get(r.location!);
    assert.equal(page.status, 200);
    assert.match(page.html, /Monitoring started/);
    assert.match(page.html, /HTTP :8080\//);
    assert.match(page.html, new RegExp(`data-check-state="${id}" data-state="unknown"`));
    assert.match(page.html, /No results yet/);
    // A command check takes one argument per line, never a shell line.
    r = await post("/o/acme/health/new", {
      ...fields,
      kind: "command",
      command_argv: "sh\n-c\nexit 0\n",
    });
    assert.equal(r.status, 303);
    const cmdId = /health\/([0-9a-f-]{36})/.exec(r.location!)![1];
    assert.deepEqual((await s.health.service.get(org.id, cmdId)).config, {
      argv: ["sh", "-c", "exit 0"],
    });

    // Results: healthy, then 60 more (one failing) for the history pages.
    await feed(id, [true, ...Array.from({ length: 59 }, (_, i) => i !== 30), true]);
    page = await get("/o/acme/health");
    assert.equal(page.status, 200);
    assert.match(page.html, /<span class="stat-value">1<\/span><span class="stat-label">Healthy/);
    assert.match(page.html, /<span class="stat-value">1<\/span><span class="stat-label">Unknown/);
    assert.match(page.html, new RegExp(`data-check-state="${id}" data-state="healthy"`));
    assert.match(page.html, /badge-ok">healthy</);
    assert.match(page.html, new RegExp(`data-check-ms="${id}">13 ms<`));
    const points = /class="sparkline"[^>]*data-points="(\d+)"/.exec(page.html);
    assert.equal(points?.[1], "30", "30 one-minute slots");
    assert.match(page.html, /98\.36%/, "60 of 61 ok");
    assert.match(page.html, /HTTP 200/);
    // Filters: a GET form.
    page = await get("/o/acme/health?state=unknown");
    assert.ok(page.html.includes(`data-check="${cmdId}"`));
    assert.ok(!page.html.includes(`data-check="${id}"`));
    page = await get(`/o/acme/health?host=${host.id}&state=healthy`);
    assert.ok(page.html.includes(`data-check="${id}"`));
    assert.equal((await get("/o/acme/health?state=bogus")).status, 400);

    // Detail: facts, figures, chart points, history with "Older".
    page = await get(`/o/acme/health/${id}`, viewer.cookie);
    assert.equal(page.status, 200);
    assert.match(page.html, /every 30 s/);
    assert.match(page.html, /2 in a row before the state changes/);
    assert.match(page.html, /98\.36%/);
    assert.match(page.html, /class="health-chart" data-points="\d+" data-range="1h"/);
    assert.match(page.html, /unexpected status 503/);
    assert.doesNotMatch(page.html, /Stop monitoring/, "viewers do not act");
    const rows = (html: string) => (html.match(/<tr data-ok=/g) ?? []).length;
    assert.equal(rows(page.html), 50);
    const older = /href="([^"]*)"[^>]*>Older/.exec(page.html);
    assert.ok(older);
    page = await get(older[1].replaceAll("&amp;", "&"));
    assert.equal(rows(page.html), 11);
    assert.match(page.html, /← Newest/);
    page = await get(`/o/acme/health/${id}?range=7d`);
    assert.match(page.html, /data-range="7d"/);

    // Edit: prefilled, 400 kept, saved.
    page = await get(`/o/acme/health/${id}/edit`);
    assert.equal(inputValue(page.html, "http_port"), "8080");
    assert.equal(inputValue(page.html, "http_expect_status"), "200-399");
    const edit = { ...NEW_DEFAULTS, interval_s: "10", timeout_s: "2" };
    r = await post(`/o/acme/health/${id}/edit`, { ...edit, retries: "99" });
    assert.equal(r.status, 400);
    assert.ok(fieldError(r.html, "retries"));
    assert.equal(inputValue(r.html, "retries"), "99");
    r = await post(`/o/acme/health/${id}/edit`, edit);
    assert.equal(r.status, 303);
    assert.equal(r.location, `/o/acme/health/${id}?done=saved`);
    assert.equal((await s.health.service.get(org.id, id)).interval_s, 10);
    assert.equal((await post(`/o/acme/health/${id}/edit`, edit, viewer.cookie)).status, 403);

    // Disable and enable.
    r = await post(`/o/acme/health/${id}/disable`, {});
    assert.equal(r.status, 303);
    assert.equal((await s.health.service.get(org.id, id)).enabled, false);
    page = await get(`/o/acme/health/${id}`);
    assert.match(page.html, /This check is disabled/);
    assert.match(page.html, />Enable</);
    await post(`/o/acme/health/${id}/enable`, {});
    assert.equal((await s.health.service.get(org.id, id)).enabled, true);
    assert.equal((await post(`/o/acme/health/${id}/disable`, {}, viewer.cookie)).status, 403);

    // The container page lists its checks with links.
    page = await get(ctrPage);
    assert.ok(page.html.includes(`href="/o/acme/health/${id}"`));
    assert.ok(page.html.includes(`data-check-state="${id}"`));

    // Stop monitoring: a confirmation page, then gone.
    page = await get(`/o/acme/health/${id}/delete`);
    assert.equal(page.status, 200);
    assert.match(
      page.html,
      /Stop monitoring &quot;HTTP :8080\/&quot;\?|Stop monitoring "HTTP :8080\/"\?/,
    );
    assert.equal((await post(`/o/acme/health/${id}/delete`, {}, viewer.cookie)).status, 403);
    r = await post(`/o/acme/health/${id}/delete`, {});
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/health?done=deleted");
    assert.match((await get(r.location!)).html, /Monitoring stopped/);
    assert.equal((await get(`/o/acme/health/${id}`)).status, 404);
  },
);

dbTest(
  "[e2e] health pages: label checks only enable/disable (409 otherwise), another org's check is 404",
  async (h) => {
    const { s, org, host, eve, get, post } = await setup(h);
    await s.hosts.applySnapshot(host, [
      fakeContainer(WEB, "web"),
      fakeContainer("b".repeat(64), "db", { "capstan.health.tcp": "5432" }),
    ]);
    await s.health.service.containersChanged(host);
    const [label] = (await s.health.service.list(org.id)).items;
    assert.equal(label.source, "label");
    const self = `/o/acme/health/${label.id}`;

    let page = await get(self);
    assert.equal(page.status, 200);
    assert.match(page.html, /Declared by the labels of db/);
    assert.doesNotMatch(page.html, />Edit</);
    assert.doesNotMatch(page.html, /Stop monitoring/);
    page = await get("/o/acme/health");
    assert.match(page.html, /badge-accent">label</);
    page = await get(`${self}/edit`);
    assert.doesNotMatch(page.html, /name="interval_s"/);
    assert.match(page.html, /declared by the labels of db/);
    const r = await post(`${self}/edit`, { interval_s: "10", tcp_port: "5432" });
    assert.equal(r.status, 409);
    assert.match(
      r.html,
      /Cannot change health check &quot;TCP :5432&quot;|Cannot change health check "TCP :5432"/,
    );
    assert.equal((await get(`${self}/delete`)).status, 409);
    assert.equal((await post(`${self}/delete`, {})).status, 409);
    assert.equal((await post(`${self}/disable`, {})).status, 303);
    assert.equal((await s.health.service.get(org.id, label.id)).enabled, false);

    // Another organization's owner: their own org's URL with this check's id is a 404.
    assert.equal((await get(`/o/other/health/${label.id}`, eve.cookie)).status, 404);
    assert.equal((await get(`/o/other/health/${label.id}/edit`, eve.cookie)).status, 404);
    assert.equal((await post(`/o/other/health/${label.id}/disable`, {}, eve.cookie)).status, 404);
    assert.equal(
      (await get(`/o/other/health/new?host=${host.id}&container=web`, eve.cookie)).status,
      404,
    );
    assert.equal((await get(`/o/acme/health/${crypto.randomUUID()}`)).status, 404);
  },
);
