/**
 * Issue 11, item 10, against the real engine through an in-process agent, on both dialects: the
 * remove confirmation lists a container's health checks and removing pauses (the default) or
 * deletes them, through the API and the page; a container removed outside Capstan leaves a check
 * that says so, is taken off the agent, and whose alert resolves instead of firing on.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { dockerFixture } from "./support/docker_api.ts";
import { startReceiver, waitUntil } from "./support/receivers.ts";
import { dockerTestsIgnored, TEST_IMAGE, testName } from "../lib/docker/testing.ts";
import { base64url } from "../lib/util/ids.ts";
import type { DbHandle } from "../lib/db/mod.ts";

const SUITE = "health-orphans";
const SECRET = "webhook-signing-secret-1234";
const ENV = {
  CAPSTAN_ALLOW_PRIVATE_TARGETS: "1",
  CAPSTAN_SECRET_KEY: base64url(crypto.getRandomValues(new Uint8Array(32))),
};

function dockerTest(name: string, fn: (h: DbHandle) => Promise<void>) {
  dbTest(`[docker] ${name}`, fn, { ignore: dockerTestsIgnored(SUITE) });
}

/** Polls `get` until `ok` accepts its value (or fails after `ms`). */
async function until<T>(get: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}; last ${JSON.stringify(v)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function fixture(h: DbHandle) {
  const f = await dockerFixture(h, SUITE, undefined, ENV);
  const run = async (what: string, name = testName(SUITE, what)) => {
    const r = await f.call("member", "POST", `${f.api}/containers`, {
      name,
      image: TEST_IMAGE,
      cmd: ["sleep", "600"],
      labels: f.labels,
      start: true,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await f.waitForListed(name, (c) => c?.state === "running", "running");
    return { id: r.body.id as string, name };
  };
  const check = async (container: string, extra: Record<string, unknown> = {}) => {
    const r = await f.call("member", "POST", "/api/v1/orgs/acme/health-checks", {
      host_id: f.hostId,
      container,
      kind: "tcp",
      tcp: { port: 9 },
      ...extra,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body as { id: string; name: string };
  };
  const getCheck = (id: string) => f.call("viewer", "GET", `/api/v1/orgs/acme/health-checks/${id}`);
  return { f, run, check, getCheck };
}

dockerTest(
  "removing a container lists its checks and pauses (default) or deletes them, API and page",
  async (h) => {
    const { f, run, check, getCheck } = await fixture(h);
    try {
      const a = await run("keep");
      const b = await run("drop");
      const ca = await check(a.name, { name: "keep port 9" });
      const cb = await check(b.name, { name: "drop port 9" });

      // The confirmation names the checks and asks what to do with them.
      const confirm = await f.t.request(
        `/o/acme/containers/${f.hostId}/${a.id}/remove`,
        { cookie: f.users.member.cookie },
      );
      const html = await confirm.text();
      assert.equal(confirm.status, 200);
      assert.match(html, /keep port 9/);
      assert.match(html, /name="checks" value="pause"[^>]*checked/);
      assert.match(html, /name="checks" value="delete"/);

      // API, default: the checks are paused and keep their history.
      const del = await f.call("member", "DELETE", `${f.api}/containers/${a.id}?force=true`);
      assert.equal(del.status, 204, JSON.stringify(del.body));
      const paused = (await getCheck(ca.id)).body;
      assert.equal(paused.enabled, false);
      assert.equal(typeof paused.container_gone_at, "number");
      assert.equal(
        (await f.call("admin", "GET", `/api/v1/orgs/acme/health-checks/${ca.id}/results`)).status,
        200,
      );
      const specs = await f.t.services.health.service.specsFor(f.hostId);
      assert.ok(!specs.some((s) => s.id === ca.id), "the agent no longer runs it");

      // The page, choosing delete: the check and its history go with the container.
      const form = new URLSearchParams({ checks: "delete", force: "on" });
      const posted = await f.t.request(`/o/acme/containers/${f.hostId}/${b.id}/remove`, {
        method: "POST",
        cookie: f.users.member.cookie,
        body: form,
      });
      assert.equal(posted.status, 303, await posted.text());
      assert.equal((await getCheck(cb.id)).status, 404);
      const bad = await f.call("member", "DELETE", `${f.api}/containers/${b.id}?checks=keep`);
      assert.equal(bad.status, 400);

      const rows = await f.t.services.db.selectFrom("audit_log").select(["action", "target_id"])
        .where("org_id", "=", f.org.id).where("action", "in", [
          "health_check.paused",
          "health_check.deleted",
        ]).execute();
      assert.deepEqual(
        rows.map((r) => `${r.action} ${r.target_id}`).sort(),
        [`health_check.deleted ${cb.id}`, `health_check.paused ${ca.id}`].sort(),
      );
    } finally {
      await f.close();
    }
  },
);

dockerTest(
  "a container removed outside Capstan: its check says so, leaves the agent, and its alert resolves",
  async (h) => {
    const { f, run, check, getCheck } = await fixture(h);
    const rx = startReceiver({ secret: SECRET });
    try {
      const ch = await f.call("owner", "POST", "/api/v1/orgs/acme/channels", {
        name: "ops",
        kind: "webhook",
        config: { url: `${rx.url}/hook`, secret: SECRET },
      });
      assert.equal(ch.status, 201, JSON.stringify(ch.body));
      const c = await run("gone");
      // Port 9 is closed: unhealthy after one failure, every 2 s.
      const hc = await check(c.name, { interval_s: 2, timeout_s: 1, retries: 1 });
      await until(() => getCheck(hc.id), (r) => r.body.state === "unhealthy", "unhealthy", 20_000);
      await waitUntil(() => rx.got.some((g) => g.json.event === "firing"), "the firing webhook");

      // Removed behind Capstan's back.
      await f.agent.docker.removeContainer(c.id, { force: true });
      const gone = await until(
        () => getCheck(hc.id),
        (r) => r.body.container_gone_at !== null,
        "the check to know its container is gone",
      );
      assert.equal(gone.body.state, "unknown", "no longer unhealthy");
      await waitUntil(
        () => rx.got.some((g) => g.json.event === "resolved"),
        "the resolved webhook",
      );
      await until(
        () => f.t.services.alerts.history.list({ orgId: f.org.id, limit: 10 }),
        (l) => l.rows.length === 1 && l.rows[0].state === "resolved",
        "the alert to resolve",
      );
      // The agent was told to stop running it.
      await waitUntil(() => {
        const syncs = f.agent.sent.filter((m) => m.op === "health.sync");
        const last = syncs.at(-1)?.params?.checks as { id: string }[] | undefined;
        return last !== undefined && !last.some((x) => x.id === hc.id);
      }, "a health.sync without the check");
      assert.equal(rx.got.filter((g) => g.json.event === "firing").length, 1, "fired once");

      // The list says it plainly (and the check page is still there, not a 404).
      const page = await f.t.request("/o/acme/health", { cookie: f.users.viewer.cookie });
      const html = await page.text();
      assert.match(html, /container removed/);
      assert.doesNotMatch(html, new RegExp(`href="[^"]*/containers/${f.hostId}/${c.id}"`));
      const detail = await f.t.request(`/o/acme/health/${hc.id}`, {
        cookie: f.users.viewer.cookie,
      });
      assert.equal(detail.status, 200);
      assert.match(await detail.text(), /was removed/);

      // A container of that name again: the check follows it and runs again.
      const again = await run("gone", c.name);
      const back = await until(
        () => getCheck(hc.id),
        (r) => r.body.container_gone_at === null && r.body.container_id === again.id,
        "the check to follow the new container",
      );
      assert.equal(back.body.enabled, true);
    } finally {
      await rx.close();
      await f.close();
    }
  },
);
