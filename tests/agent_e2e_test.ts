/**
 * End-to-end: the real hub on a port and the real agent as a subprocess (`deno run agent/main.ts`)
 * against the real Docker engine. Enrollment, token binding to the machine id, reconnect after a
 * hub restart, token rotation over the connection, removal; and the hub's embedded agent.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunningHub } from "../hub.ts";
import { startTestHub } from "./support/hub.ts";
import { openDatabase } from "../lib/db/mod.ts";
import { dockerTestsIgnored } from "../lib/docker/testing.ts";
import { SYSTEM_CTX, testServices } from "./support/services.ts";
import { spawnAgent } from "./support/agent_process.ts";

const SUITE = "agent-e2e";

function hubOn(dataDir: string, env: Record<string, string> = {}): Promise<RunningHub> {
  return startTestHub(dataDir, env);
}

/** A user who owns org "acme", with a write token, made directly in the hub's database. */
async function seed(dataDir: string, withOrg = true) {
  const dbh = openDatabase(`sqlite:${join(dataDir, "capstan.db")}`);
  try {
    const s = testServices(dbh);
    const u = await s.accounts.createUser(SYSTEM_CTX, {
      email: "ops@acme.io",
      name: "ops",
      password: "password-ops-1234",
    });
    if (!withOrg) return { userId: u.id, token: "" };
    await s.accounts.ensureMembership(SYSTEM_CTX, u.id, "acme", "owner");
    const org = (await s.orgs.bySlug("acme"))!;
    const { token } = await s.tokens.create({
      userId: u.id,
      orgId: org.id,
      name: "e2e",
      scope: "write",
      expiresAt: null,
    });
    return { userId: u.id, token };
  } finally {
    await dbh.close();
  }
}

function api(base: () => string, token: string) {
  return async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base()}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 30_000,
  detail?: () => string,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) {
      throw new Error(
        `timed out waiting for ${what}${detail ? `\n--- agent output ---\n${detail()}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function writeMachineId(dir: string, id: string): Promise<string> {
  const file = join(dir, "machine-id-file");
  await Deno.writeTextFile(file, id + "\n");
  return file;
}

Deno.test({
  name:
    "[e2e] agent: enrolls (0600 token), shows online with engine facts; token bound to the machine; reconnects after a hub restart; rotation; removal cuts it off",
  ignore: dockerTestsIgnored(SUITE),
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-agent-e2e-" });
    const agentDir = await Deno.makeTempDir({ prefix: "capstan-agent-state-" });
    const otherDir = await Deno.makeTempDir({ prefix: "capstan-agent-other-" });
    let hub: RunningHub | undefined;
    const agents: ReturnType<typeof spawnAgent>[] = [];
    try {
      // Create the schema with a first start, then seed the user and org, then run for real.
      hub = await hubOn(dataDir);
      const { token } = await seed(dataDir);
      const port = hub.port;
      const call = api(() => hub!.url, token);

      const created = await call("POST", "/api/v1/orgs/acme/hosts", {
        name: "web-1",
        labels: { env: "test" },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const hostId: string = created.body.host.id;
      const enrollToken: string = created.body.enrollment.token;
      assert.match(enrollToken, /^cape_/);
      assert.equal(
        created.body.enrollment.install_command,
        `curl -fsSL ${hub.url}/api/v1/agent/install.sh | sudo HUB=${hub.url} TOKEN=${enrollToken} sh`,
      );
      assert.equal(created.body.host.status, "offline");
      assert.equal(created.body.host.enrolled, false);

      const machineFile = await writeMachineId(agentDir, "machine-aaaa-0001");
      const agent = spawnAgent({
        CAPSTAN_HUB_URL: hub.url,
        CAPSTAN_ENROLL_TOKEN: enrollToken,
        CAPSTAN_AGENT_DIR: agentDir,
        CAPSTAN_MACHINE_ID_FILE: machineFile,
      });
      agents.push(agent);

      const online = async () => {
        const r = await call("GET", `/api/v1/orgs/acme/hosts/${hostId}`);
        return r.status === 200 && r.body.status === "online" ? r.body : undefined;
      };
      const host = await waitFor("the agent online", online, 30_000, agent.output);
      assert.equal(host.machine_id, "machine-aaaa-0001");
      assert.equal(host.agent_version, "0.1.0");
      assert.ok(host.docker_version, "docker version reported");
      assert.ok(host.engine.api_version);
      assert.ok(host.cpus > 0 && host.memory_bytes > 0);
      assert.equal(typeof host.containers_total, "number");
      const list = await call("GET", "/api/v1/orgs/acme/hosts");
      assert.equal(list.body.items[0].status, "online");

      const tokenFile = join(agentDir, "host-token");
      assert.equal((await Deno.stat(tokenFile)).mode! & 0o777, 0o600);
      const hostToken = (await Deno.readTextFile(tokenFile)).trim();
      assert.match(hostToken, /^caph_/);

      // The enrollment token was single-use.
      const again = await fetch(`${hub.url}/api/v1/agent/enroll`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          token: enrollToken,
          machine_id: "machine-bbbb-0002",
          hostname: "x",
        }),
      });
      assert.equal(again.status, 401);
      await again.body?.cancel();

      // The same host token from another machine is refused (4003), audited, and the agent stops.
      await Deno.mkdir(otherDir, { recursive: true });
      await Deno.copyFile(tokenFile, join(otherDir, "host-token"));
      const thief = spawnAgent({
        CAPSTAN_HUB_URL: hub.url,
        CAPSTAN_AGENT_DIR: otherDir,
        CAPSTAN_MACHINE_ID_FILE: await writeMachineId(otherDir, "machine-bbbb-0002"),
      });
      agents.push(thief);
      const thiefStatus = await thief.status;
      assert.equal(thiefStatus.code, 78, thief.output());
      assert.match(thief.output(), /bound to another machine/);
      const audit = await call("GET", "/api/v1/orgs/acme/audit?action=host.token_refused");
      assert.equal(audit.status, 200);
      assert.equal(audit.body.items.length, 1);
      assert.equal(audit.body.items[0].status, "error");
      assert.equal(audit.body.items[0].target_id, hostId);
      assert.equal(audit.body.items[0].metadata.presented_machine_id, "machine-bbbb-0002");
      assert.ok(await online(), "the real agent stays connected");

      // Hub restart on the same port: the agent comes back by itself.
      await hub.stop();
      hub = undefined;
      // Let it fail at least once against the stopped hub (the probe then finds no hub, not a 401).
      await waitFor("a failed reconnect", () => /cannot connect to the hub/.test(agent.output()));
      hub = await hubOn(dataDir, { CAPSTAN_PORT: String(port) });
      await waitFor("the agent online after the restart", online, 45_000, agent.output);
      assert.equal(agent.exited(), undefined);

      // Rotation while connected: the agent stores the new token and reconnects with it.
      const rotated = await call("POST", `/api/v1/orgs/acme/hosts/${hostId}/rotate-token`);
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      assert.equal(rotated.body.delivered, true);
      assert.notEqual(rotated.body.host_token, hostToken);
      assert.equal((await Deno.readTextFile(tokenFile)).trim(), rotated.body.host_token);
      assert.equal((await Deno.stat(tokenFile)).mode! & 0o777, 0o600);
      await waitFor("the agent online with the rotated token", online, 30_000, agent.output);
      const old = await fetch(`${hub.url}/api/v1/agent/connect`, {
        headers: { authorization: `Bearer ${hostToken}` },
      });
      assert.equal(old.status, 401);
      await old.body?.cancel();

      // SIGTERM stops it cleanly (exit 0) and the hub sees it go; started again, it reconnects
      // with the token file alone (the used enrollment token in its environment is not retried).
      const stopped = await agent.stop();
      assert.equal(stopped.code, 0, agent.output());
      await waitFor("the host offline", async () => {
        const r = await call("GET", `/api/v1/orgs/acme/hosts/${hostId}`);
        return r.body.status === "offline";
      });
      const agent2 = spawnAgent({
        CAPSTAN_HUB_URL: hub.url,
        CAPSTAN_ENROLL_TOKEN: enrollToken,
        CAPSTAN_AGENT_DIR: agentDir,
        CAPSTAN_MACHINE_ID_FILE: machineFile,
      });
      agents.push(agent2);
      await waitFor("the restarted agent online", online, 30_000, agent2.output);
      assert.doesNotMatch(agent2.output(), /enrolled with the hub|enrollment/);

      // Removal: the live connection is closed at once and the token is refused from then on.
      const removed = await call("DELETE", `/api/v1/orgs/acme/hosts/${hostId}?keep_history=false`);
      assert.equal(removed.status, 204);
      const agentStatus = await waitFor(
        "the agent to stop",
        () => agent2.exited(),
        15_000,
        agent2.output,
      );
      assert.equal(agentStatus.code, 78, agent2.output());
      assert.match(agent2.output(), /removed/);
      const after = await fetch(`${hub.url}/api/v1/agent/connect`, {
        headers: { authorization: `Bearer ${rotated.body.host_token}` },
      });
      assert.equal(after.status, 401);
      await after.body?.cancel();
      assert.equal((await call("GET", `/api/v1/orgs/acme/hosts/${hostId}`)).status, 404);
    } finally {
      for (const a of agents) await a.stop();
      await hub?.stop();
      for (const d of [dataDir, agentDir, otherDir]) await Deno.remove(d, { recursive: true });
    }
  },
});

Deno.test({
  name: "[e2e] agent: an enrollment token that is wrong stops the agent with a clear message",
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-agent-e2e-" });
    const agentDir = await Deno.makeTempDir({ prefix: "capstan-agent-state-" });
    const hub = await hubOn(dataDir);
    try {
      const agent = spawnAgent({
        CAPSTAN_HUB_URL: hub.url,
        CAPSTAN_ENROLL_TOKEN: "cape_" + "x".repeat(43),
        CAPSTAN_AGENT_DIR: agentDir,
        CAPSTAN_MACHINE_ID_FILE: await writeMachineId(agentDir, "machine-cccc-0003"),
      });
      const status = await agent.status;
      assert.equal(status.code, 78, agent.output());
      assert.match(agent.output(), /enrollment refused by the hub/);
      await assert.rejects(Deno.stat(join(agentDir, "host-token")), Deno.errors.NotFound);
    } finally {
      await hub.stop();
      for (const d of [dataDir, agentDir]) await Deno.remove(d, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "[e2e] embedded agent: the hub shows its own engine as a host of the oldest organization once one exists",
  ignore: dockerTestsIgnored(SUITE),
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-embedded-e2e-" });
    const hub = await hubOn(dataDir, { CAPSTAN_LOCAL_AGENT: "1" });
    try {
      // No organization yet: the embedded agent waits. Then setup-like creation of one.
      const { token } = await seed(dataDir);
      const call = api(() => hub.url, token);
      const local = await waitFor("the local host online", async () => {
        const r = await call("GET", "/api/v1/orgs/acme/hosts");
        const h = r.body?.items?.find((x: { local: boolean }) => x.local);
        return h?.status === "online" && h.docker_version ? h : undefined;
      });
      assert.equal(local.labels.local, "true");
      assert.equal(local.name, local.name.slice(0, 64));
      assert.match(local.name, /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/);
      const detail = await call("GET", `/api/v1/orgs/acme/hosts/${local.id}`);
      assert.ok(detail.body.engine.docker_root_dir);
      // The embedded agent has no token to rotate.
      const rotate = await call("POST", `/api/v1/orgs/acme/hosts/${local.id}/rotate-token`);
      assert.equal(rotate.status, 409);
    } finally {
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
