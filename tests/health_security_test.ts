/**
 * Issue 11, items 1 and 6, on both dialects without an engine: command checks take the right to
 * run commands in the organization's containers (admins by default, an org setting lowers it to
 * members), their results are read only by those who have it, output is capped and marked, and
 * who set each command is audited; HTTP check targets follow the outbound policy (loopback and
 * private addresses only for admins, link-local and metadata never), and members may not pull
 * from a loopback, link-local or metadata registry. Every refusal is asserted with the host's
 * agent offline or silent, so nothing was sent anywhere.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { fakeContainer } from "./support/containers.ts";
import { attachScriptedAgent } from "./support/agent.ts";
import { MAX_CHECK_OUTPUT_BYTES } from "../lib/protocol/health.ts";
import type { DbHandle } from "../lib/db/mod.ts";

async function setup(h: DbHandle, env: Record<string, string> = {}) {
  const t = testApp(h, undefined, undefined, env);
  const users = {
    owner: await t.user("owner@acme.io", { org: "acme", role: "owner" }),
    admin: await t.user("admin@acme.io", { org: "acme", role: "admin" }),
    member: await t.user("member@acme.io", { org: "acme", role: "member" }),
    viewer: await t.user("viewer@acme.io", { org: "acme", role: "viewer" }),
  };
  const s = t.services;
  const org = (await s.orgs.bySlug("acme"))!;
  // A host whose agent never connected: nothing can reach an engine from these tests.
  const host = (await s.hosts.create(SYSTEM_CTX, org.id, { name: "box" })).host;
  await s.hosts.applySnapshot(host, [fakeContainer("a", "web"), fakeContainer("b", "db")]);
  const api = async (who: keyof typeof users, method: string, path: string, json?: unknown) => {
    const res = await t.request(`/api/v1/orgs/acme${path}`, {
      method,
      cookie: users[who].cookie,
      json,
    });
    const text = await res.text();
    // deno-lint-ignore no-explicit-any
    let body: any = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    return { status: res.status, body, text };
  };
  return { t, s, org, host, users, api };
}

dbTest(
  "[e2e] command checks need the exec right; their results are read only with it; output capped and marked; audited",
  async (h) => {
    const { s, org, host, api } = await setup(h);
    const cmd = (argv: string[]) => ({
      host_id: host.id,
      container: "web",
      kind: "command",
      command: { argv },
    });

    // Members may not create a command check (admins and owners may, by default).
    const denied = await api("member", "POST", "/health-checks", cmd(["id"]));
    assert.equal(denied.status, 403, denied.text);
    assert.ok(denied.body.error.fields.command, denied.text);
    const created = await api("admin", "POST", "/health-checks", cmd(["cat", "/etc/hostname"]));
    assert.equal(created.status, 201, created.text);
    const check = created.body;

    // Nor turn another check into one, nor change an admin's command.
    const http = await api("member", "POST", "/health-checks", {
      host_id: host.id,
      container: "db",
      kind: "http",
      http: { port: 8080 },
    });
    assert.equal(http.status, 201, http.text);
    const toCmd = await api("member", "PATCH", `/health-checks/${http.body.id}`, {
      kind: "command",
      command: { argv: ["sh", "-c", "cat /host-etc/passwd"] },
    });
    assert.equal(toCmd.status, 403, toCmd.text);
    const edit = await api("member", "PATCH", `/health-checks/${check.id}`, {
      command: { argv: ["sh", "-c", "id"] },
    });
    assert.equal(edit.status, 403, edit.text);
    const stored = await api("viewer", "GET", `/health-checks/${check.id}`);
    assert.equal(stored.status, 200, "viewers still see the check and its state");
    assert.deepEqual(stored.body.config.argv, ["cat", "/etc/hostname"], "unchanged");

    // Results arrive through the host's agent connection, one of them with 8 KB of output.
    const agent = await attachScriptedAgent(s, host);
    const now = Date.now();
    agent.send({
      t: "health",
      results: [
        {
          check_id: check.id,
          at: now - 2000,
          ok: true,
          response_ms: 3,
          exit_code: 0,
          output: "root:x:0:0:root:/root:/bin/sh\n",
        },
        {
          check_id: check.id,
          at: now - 1000,
          ok: true,
          response_ms: 3,
          exit_code: 0,
          output: "x".repeat(MAX_CHECK_OUTPUT_BYTES * 2),
        },
      ],
    });
    const until = Date.now() + 10_000;
    while ((await api("admin", "GET", `/health-checks/${check.id}`)).body.last === null) {
      if (Date.now() > until) throw new Error("the results were never stored");
      await new Promise((r) => setTimeout(r, 20));
    }

    // Viewers and members read the state but not the command's results.
    for (const who of ["viewer", "member"] as const) {
      const r = await api(who, "GET", `/health-checks/${check.id}/results`);
      assert.equal(r.status, 403, `${who}: ${r.text}`);
      assert.doesNotMatch(r.text, /root:x/);
    }
    const read = await api("admin", "GET", `/health-checks/${check.id}/results`);
    assert.equal(read.status, 200, read.text);
    const [newest, oldest] = read.body.items;
    assert.equal(newest.output_truncated, true);
    assert.equal(new TextEncoder().encode(newest.output).length, MAX_CHECK_OUTPUT_BYTES);
    assert.equal(oldest.output_truncated, false);
    assert.equal(oldest.output, "root:x:0:0:root:/root:/bin/sh\n");
    // Other kinds' results stay open to viewers.
    assert.equal(
      (await api("viewer", "GET", `/health-checks/${http.body.id}/results`)).status,
      200,
    );

    // An admin lowers the right to members; members then create and read, viewers still not.
    const settings = await api("viewer", "GET", "/settings/containers");
    assert.equal(settings.status, 200, settings.text);
    assert.equal(settings.body.exec_role, "admin");
    assert.equal(
      (await api("member", "PATCH", "/settings/containers", { exec_role: "member" })).status,
      403,
    );
    const badRole = await api("admin", "PATCH", "/settings/containers", { exec_role: "viewer" });
    assert.equal(badRole.status, 400);
    assert.ok(badRole.body.error.fields.exec_role);
    const lowered = await api("admin", "PATCH", "/settings/containers", { exec_role: "member" });
    assert.equal(lowered.status, 200, lowered.text);
    assert.equal(lowered.body.exec_role, "member");
    const byMember = await api("member", "POST", "/health-checks", cmd(["pg_isready"]));
    assert.equal(byMember.status, 201, byMember.text);
    assert.equal((await api("member", "GET", `/health-checks/${check.id}/results`)).status, 200);
    assert.equal((await api("viewer", "GET", `/health-checks/${check.id}/results`)).status, 403);
    const changed = await api("member", "PATCH", `/health-checks/${byMember.body.id}`, {
      command: { argv: ["pg_isready", "-q"] },
    });
    assert.equal(changed.status, 200, changed.text);

    // The audit says who set which command.
    const rows = await s.db.selectFrom("audit_log").select(["action", "actor_name", "metadata"])
      .where("org_id", "=", org.id).where("status", "=", "ok")
      .where((eb) =>
        eb.or([
          eb("action", "like", "health_check.%"),
          eb("action", "=", "org.exec_role_changed"),
        ])
      ).orderBy("at").orderBy("id").execute();
    const said = rows.map((r) => ({ ...r, metadata: JSON.parse(r.metadata) }));
    const first = said.find((r) =>
      r.action === "health_check.created" && r.actor_name === "admin@acme.io"
    );
    assert.deepEqual(first?.metadata.command, ["cat", "/etc/hostname"]);
    assert.ok(
      said.some((r) =>
        r.action === "org.exec_role_changed" && r.metadata.to === "member" &&
        r.actor_name === "admin@acme.io"
      ),
    );
    const update = said.findLast((r) => r.action === "health_check.updated");
    assert.equal(update?.actor_name, "member@acme.io");
    assert.deepEqual(update?.metadata.command, { from: ["pg_isready"], to: ["pg_isready", "-q"] });
    agent.hubEnd.close();
  },
);

dbTest(
  "[e2e] HTTP check targets: loopback and private only from admins or the container itself; link-local never",
  async (h) => {
    const { s, host, api } = await setup(h);
    const httpCheck = (http: Record<string, unknown>) => ({
      host_id: host.id,
      container: "web",
      kind: "http",
      http,
    });
    const refused: [Record<string, unknown>, string][] = [
      [{ url: "http://127.0.0.1:8080/api/v1/me" }, "http.url"],
      [{ url: "http://localhost:8080/" }, "http.url"],
      [{ url: "http://[::1]:2375/containers/json" }, "http.url"],
      [{ host: "127.0.0.1", port: 2375 }, "http.host"],
      [{ host: "172.17.0.1", port: 2375 }, "http.host"],
      [{ host: "10.0.0.5", port: 80 }, "http.host"],
      [{ host: "192.168.1.1", port: 80 }, "http.host"],
      [{ host: "app.localhost", port: 80 }, "http.host"],
      // Numeric spellings a URL reads as 127.0.0.1.
      [{ host: "2130706433", port: 8080 }, "http.host"],
      [{ host: "0x7f.1", port: 8080 }, "http.host"],
    ];
    for (const [http, field] of refused) {
      const r = await api("member", "POST", "/health-checks", httpCheck(http));
      assert.equal(r.status, 403, `${JSON.stringify(http)}: ${r.text}`);
      assert.ok(r.body.error.fields[field], `${field} named in ${r.text}`);
    }
    // Link-local and metadata: not even for the owner.
    for (
      const http of [
        { url: "http://169.254.169.254/latest/meta-data/" },
        { host: "fd00:ec2::254", port: 80 },
        { host: "metadata.google.internal", port: 80 },
        { host: "2852039166", port: 80 },
        { host: "0xa9fea9fe", port: 80 },
      ]
    ) {
      const r = await api("owner", "POST", "/health-checks", httpCheck(http));
      assert.equal(r.status, 400, `${JSON.stringify(http)}: ${r.text}`);
    }
    // The container's own address (no host) and public addresses are fine for members.
    const own = await api("member", "POST", "/health-checks", httpCheck({ port: 8080 }));
    assert.equal(own.status, 201, own.text);
    const pub = await api("member", "POST", "/health-checks", httpCheck({ host: "203.0.113.7" }));
    assert.equal(pub.status, 400, "a port is still required");
    const pub2 = await api(
      "member",
      "POST",
      "/health-checks",
      httpCheck({ url: "https://203.0.113.7/health" }),
    );
    assert.equal(pub2.status, 201, pub2.text);
    const specOf = async (id: string) =>
      (await s.health.service.specsFor(host.id)).find((x) => x.id === id)!;
    assert.notEqual((await specOf(pub2.body.id)).http?.allow_private, true);

    // An admin may target the host's loopback: the agent is told an admin allowed it.
    const adminCheck = await api(
      "admin",
      "POST",
      "/health-checks",
      httpCheck({ url: "http://127.0.0.1:9100/metrics" }),
    );
    assert.equal(adminCheck.status, 201, adminCheck.text);
    assert.equal((await specOf(adminCheck.body.id)).http?.allow_private, true);
    // A member may rename or slow it, but not point it elsewhere on that address.
    const renamed = await api("member", "PATCH", `/health-checks/${adminCheck.body.id}`, {
      name: "node exporter",
      interval_s: 60,
    });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal((await specOf(adminCheck.body.id)).http?.allow_private, true);
    const moved = await api("member", "PATCH", `/health-checks/${adminCheck.body.id}`, {
      http: { url: "http://127.0.0.1:8080/api/v1/tokens" },
    });
    assert.equal(moved.status, 403, moved.text);
    assert.ok(moved.body.error.fields["http.url"]);
    // A member turning a public check to a private target is refused too.
    const redirect = await api("member", "PATCH", `/health-checks/${pub2.body.id}`, {
      http: { host: "10.1.2.3", port: 80 },
    });
    assert.equal(redirect.status, 403, redirect.text);
    // No agent was asked anything.
    assert.equal(s.agents.isOnline(host.id), false);
  },
);

dbTest(
  "[e2e] HTTP check targets: CAPSTAN_ALLOW_PRIVATE_TARGETS=1 lets members target private addresses",
  async (h) => {
    const { s, host, api } = await setup(h, { CAPSTAN_ALLOW_PRIVATE_TARGETS: "1" });
    const r = await api("member", "POST", "/health-checks", {
      host_id: host.id,
      container: "web",
      kind: "http",
      http: { host: "10.0.0.5", port: 80 },
    });
    assert.equal(r.status, 201, r.text);
    const spec = (await s.health.service.specsFor(host.id)).find((x) => x.id === r.body.id)!;
    assert.equal(spec.http?.allow_private, true);
  },
);

dbTest(
  "[e2e] image pulls: members may not pull from loopback, link-local or metadata registries",
  async (h) => {
    const { host, api } = await setup(h);
    const pull = (who: "member" | "admin", ref: string) =>
      api(who, "POST", `/hosts/${host.id}/images/pull`, { ref });
    for (
      const ref of [
        "127.0.0.1:5000/app:latest",
        "127.1:5000/app",
        "2130706433:5000/app",
        "localhost:5000/app",
        "registry.localhost/app",
        "169.254.169.254/latest",
        "169.254.169.254:80/app",
        "metadata.google.internal/app",
        "0.0.0.0:5000/app",
      ]
    ) {
      const r = await pull("member", ref);
      assert.equal(r.status, 403, `${ref}: ${r.text}`);
      assert.ok(r.body.error.fields.ref, `${ref}: ${r.text}`);
    }
    // Link-local and metadata are refused for admins too.
    assert.equal((await pull("admin", "169.254.169.254/latest")).status, 403);
    // Admins may use a loopback registry; the host is offline, so that is where it stops (503).
    assert.equal((await pull("admin", "127.0.0.1:5000/app:latest")).status, 503);
    // Docker Hub and LAN registries are not refused (the offline host answers).
    assert.equal((await pull("member", "busybox:latest")).status, 503);
    assert.equal((await pull("member", "10.0.0.8:5000/app")).status, 503);
  },
);

dbTest(
  "[e2e] pages: container settings for admins; the command form and a command check's history respect the exec right",
  async (h) => {
    const { t, s, host, users, api } = await setup(h);
    const page = (who: keyof typeof users, path: string, init: RequestInit = {}) =>
      t.request(path, { ...init, cookie: users[who].cookie });
    // The settings page: admins only; a POST changes the setting (PRG).
    assert.equal((await page("member", "/o/acme/settings/containers")).status, 403);
    const form = await (await page("admin", "/o/acme/settings/containers")).text();
    assert.match(form, /<option value="admin" selected/);
    const bad = await page("admin", "/o/acme/settings/containers", {
      method: "POST",
      body: new URLSearchParams({ exec_role: "viewer" }),
    });
    assert.equal(bad.status, 400);

    // Members are told on the command form why they cannot add one.
    const q = new URLSearchParams({ host: host.id, container: "web", kind: "command" });
    const memberForm = await (await page("member", `/o/acme/health/new?${q}`)).text();
    assert.match(memberForm, /only\s+admins and owners may add one/);
    const posted = await page("member", "/o/acme/health/new", {
      method: "POST",
      body: new URLSearchParams({
        host_id: host.id,
        container: "web",
        kind: "command",
        command_argv: "id",
      }),
    });
    assert.equal(posted.status, 403);
    assert.match(await posted.text(), /only organization admins and owners may create or change/i);

    // A command check with a result: its page hides the history from viewers, not from admins.
    const check = (await api("admin", "POST", "/health-checks", {
      host_id: host.id,
      container: "web",
      kind: "command",
      command: { argv: ["cat", "/etc/hostname"] },
    })).body;
    const agent = await attachScriptedAgent(s, host);
    agent.send({
      t: "health",
      results: [{
        check_id: check.id,
        at: Date.now(),
        ok: true,
        response_ms: 2,
        exit_code: 0,
        output: "secret-hostname\n",
      }],
    });
    const until = Date.now() + 10_000;
    while ((await api("admin", "GET", `/health-checks/${check.id}`)).body.last === null) {
      if (Date.now() > until) throw new Error("the result was never stored");
      await new Promise((r) => setTimeout(r, 20));
    }
    const asViewer = await (await page("viewer", `/o/acme/health/${check.id}`)).text();
    assert.doesNotMatch(asViewer, /secret-hostname/);
    assert.match(asViewer, /data-results-hidden/);
    const asAdmin = await (await page("admin", `/o/acme/health/${check.id}`)).text();
    assert.match(asAdmin, /secret-hostname/);

    // Lowered to members through the page: the form no longer warns them.
    const saved = await page("admin", "/o/acme/settings/containers", {
      method: "POST",
      body: new URLSearchParams({ exec_role: "member" }),
    });
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.get("location"), "/o/acme/settings/containers?ok=saved");
    const after = await (await page("member", `/o/acme/health/new?${q}`)).text();
    assert.doesNotMatch(after, /only\s+admins and owners may add one/);
    assert.match(await (await page("member", `/o/acme/health/${check.id}`)).text(), /secret-host/);
    agent.hubEnd.close();
  },
);
