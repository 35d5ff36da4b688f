/**
 * The Docker resource API end to end on the real engine: an in-process agent attached to the
 * hub's services (the same protocol a remote agent speaks), every call through `app.request()`,
 * on SQLite and PostgreSQL. Everything created is labelled for this suite and removed afterwards.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { commitImage, dockerFixture } from "./support/docker_api.ts";
import { dockerTestsIgnored, HOSTILE_NAMES, TEST_IMAGE, testName } from "../lib/docker/testing.ts";
import { SYSTEM_CTX } from "./support/services.ts";
import { startFakeRegistry } from "./support/fake_registry.ts";

const SUITE = "docker-api";
const ignored = dockerTestsIgnored(SUITE);

/** Registers a [docker] test on both dialects, unless no engine is here (outside CI). */
function dockerTest(name: string, fn: Parameters<typeof dbTest>[1]) {
  if (!ignored) dbTest(`[docker] ${name}`, fn);
}

const sleeper = (name: string, labels: Record<string, string>, extra: object = {}) => ({
  name,
  image: TEST_IMAGE,
  cmd: ["sleep", "600"],
  labels,
  ...extra,
});

dockerTest(
  "containers: create, start, stop, restart, kill, remove through the API; audited",
  async (h) => {
    const f = await dockerFixture(h, SUITE);
    try {
      const name = testName(SUITE, "life");
      const created = await f.call("member", "POST", `${f.api}/containers`, {
        ...sleeper(name, f.labels, { env: { API_PASSWORD: "hunter2", MODE: "test" } }),
        start: false,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id: string = created.body.id;
      assert.match(id, /^[a-f0-9]{64}$/);
      await f.waitForListed(name, (c) => c?.state === "created", "created");

      const c = `${f.api}/containers/${id}`;
      assert.equal((await f.call("member", "POST", `${c}/start`)).status, 204);
      const running = await f.waitForListed(name, (c) => c?.state === "running", "running");
      assert.equal(running.host_id, f.hostId);
      assert.equal(running.host_name, f.agent.host.name);
      assert.equal(running.image, TEST_IMAGE);
      assert.equal(running.labels["capstan.test"], "1");

      // Filters: label key=value, label key, state, host; pagination carries the total.
      const label = encodeURIComponent(`capstan.test.run=${f.labels["capstan.test.run"]}`);
      const byLabel = await f.call(
        "viewer",
        "GET",
        `/api/v1/orgs/acme/containers?label=${label}&state=running&host=${f.hostId}`,
      );
      assert.equal(byLabel.status, 200);
      assert.ok(byLabel.body.items.some((i: { id: string }) => i.id === id));
      const byKey = await f.call(
        "viewer",
        "GET",
        `/api/v1/orgs/acme/containers?label=capstan.test.suite`,
      );
      assert.ok(byKey.body.items.some((i: { id: string }) => i.id === id));
      const wrongValue = await f.call(
        "viewer",
        "GET",
        `/api/v1/orgs/acme/containers?label=capstan.test.suite%3Dnope`,
      );
      assert.equal(wrongValue.body.total, 0);
      const exited = await f.call(
        "viewer",
        "GET",
        `/api/v1/orgs/acme/containers?state=exited&q=${name}`,
      );
      assert.equal(exited.body.total, 0);
      const upper = await f.call(
        "viewer",
        "GET",
        `/api/v1/orgs/acme/containers?q=${name.toUpperCase()}&limit=1`,
      );
      assert.equal(upper.body.total, 1);
      assert.equal(upper.body.limit, 1);
      const badLabel = await f.call(
        "viewer",
        "GET",
        `/api/v1/orgs/acme/containers?label=${encodeURIComponent('a"b=1')}`,
      );
      assert.equal(badLabel.status, 400);
      assert.ok(badLabel.body.error.fields.label);

      // Inspect is live; viewers do not see environment values.
      const asViewer = await f.call("viewer", "GET", c);
      assert.equal(asViewer.status, 200);
      assert.ok(asViewer.body.Config.Env.includes("API_PASSWORD=…"));
      assert.ok(!JSON.stringify(asViewer.body).includes("hunter2"));
      const asMember = await f.call("member", "GET", c);
      assert.ok(asMember.body.Config.Env.includes("API_PASSWORD=hunter2"));

      assert.equal((await f.call("member", "POST", `${c}/stop`, { timeout_s: 1 })).status, 204);
      await f.waitForListed(name, (c) => c?.state === "exited", "exited");
      assert.equal((await f.call("member", "POST", `${c}/restart`, { timeout_s: 1 })).status, 204);
      await f.waitForListed(name, (c) => c?.state === "running", "running again");
      assert.equal(
        (await f.call("member", "POST", `${c}/kill`, { signal: "SIGKILL" })).status,
        204,
      );
      await f.waitForListed(name, (c) => c?.state === "exited", "killed");

      // Viewers may not operate; a bad signal is a 400 naming the field.
      assert.equal((await f.call("viewer", "POST", `${c}/start`)).status, 403);
      const badSignal = await f.call("member", "POST", `${c}/kill`, { signal: "KILL; rm" });
      assert.equal(badSignal.status, 400);
      assert.ok(badSignal.body.error.fields.signal);

      const removed = await f.call("member", "DELETE", `${c}?volumes=true`);
      assert.equal(removed.status, 204);
      await f.waitForListed(name, (c) => c === undefined, "gone");
      assert.equal((await f.call("member", "GET", c)).status, 404);

      for (const action of ["created", "started", "stopped", "restarted", "killed", "removed"]) {
        const rows = await f.auditRows(`container.${action}`);
        const row = rows.find((r) => r.target_id === id && r.status === "ok");
        assert.ok(row, `audit row for container.${action}`);
        assert.equal(row.actor_name, "member@acme.io");
        assert.ok(row.duration_ms >= 0);
        assert.equal(row.metadata.host_id, f.hostId);
        assert.equal(row.target_name, name);
      }
      const removedRow = (await f.auditRows("container.removed")).find((r) => r.target_id === id)!;
      assert.equal(removedRow.metadata.volumes, true);
      const createdRow = (await f.auditRows("container.created")).find((r) => r.target_id === id)!;
      assert.ok(
        !JSON.stringify(createdRow).includes("hunter2"),
        "env values never reach the audit log",
      );
    } finally {
      await f.close();
    }
  },
);

dockerTest(
  "containers: one started outside Capstan shows up as running through events alone",
  async (h) => {
    const f = await dockerFixture(h, SUITE);
    try {
      const name = testName(SUITE, "outside");
      const { id } = await f.agent.docker.createContainer(name, {
        image: TEST_IMAGE,
        cmd: ["sleep", "600"],
        labels: f.labels,
      });
      await f.agent.docker.startContainer(id);
      const sentBefore = f.opsSent().length;
      const seen = await f.waitForListed(name, (c) => c?.state === "running", "running");
      assert.equal(seen.id, id);
      // The list is the cache: reading it asked the agent for nothing.
      assert.equal(f.opsSent().length, sentBefore);
      await f.agent.docker.removeContainer(id, { force: true });
      await f.waitForListed(name, (c) => c === undefined, "removed");
    } finally {
      await f.close();
    }
  },
);

dockerTest(
  "images: list with in-use counts, 409 while in use, forced by an admin; pull and prune",
  async (h) => {
    const f = await dockerFixture(h, SUITE);
    try {
      // A private image (committed from a container) so nothing can remove the shared test image.
      const base = await f.agent.docker.createContainer(testName(SUITE, "base"), {
        image: TEST_IMAGE,
        cmd: ["true"],
        labels: f.labels,
      });
      const repo = `capstan-test/api-${crypto.randomUUID().slice(0, 8)}`;
      const ref = `${repo}:v1`;
      await commitImage(f.agent.docker.socketPath, base.id, repo, "v1", f.labels);
      const user = await f.call("member", "POST", `${f.api}/containers`, {
        ...sleeper(testName(SUITE, "user"), f.labels, { image: ref }),
      });
      assert.equal(user.status, 201, JSON.stringify(user.body));
      await f.waitForListed(
        (await f.agent.docker.inspectContainer(user.body.id)).Name.slice(1),
        (c) => c !== undefined,
        "listed",
      );

      const list = await f.call("viewer", "GET", `${f.api}/images`);
      assert.equal(list.status, 200);
      const mine = list.body.items.find((i: { tags: string[] }) => i.tags.includes(ref));
      assert.ok(mine, "the private image is listed");
      assert.equal(mine.containers, 1);
      assert.ok(mine.size > 0);
      assert.ok(list.body.items.some((i: { tags: string[] }) => i.tags.includes(TEST_IMAGE)));

      const path = `${f.api}/images/${encodeURIComponent(ref)}`;
      const refused = await f.call("admin", "DELETE", path);
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.match(
        refused.body.error.message,
        /^Cannot remove image ".*": it is in use by containers \(capstan-test-docker-api-user-/,
      );
      assert.equal((await f.call("member", "DELETE", `${path}?force=true`)).status, 403);
      const forced = await f.call("admin", "DELETE", `${path}?force=true`);
      assert.equal(forced.status, 200, JSON.stringify(forced.body));
      assert.ok(forced.body.items.some((i: { untagged?: string }) => i.untagged === ref));
      const rows = await f.auditRows("image.removed");
      assert.ok(
        rows.some((r) => r.status === "error" && r.target_name === ref && /in use/.test(r.error!)),
      );
      assert.ok(
        rows.some((r) => r.status === "ok" && r.target_name === ref && r.metadata.force === true),
      );
      await assert.rejects(f.agent.docker.inspectImage(ref), "the tag is gone");

      // Pulls stream NDJSON; a refused connection ends with an error line and an audit row. A
      // loopback registry is for admins (members get 403 before the engine is asked).
      const local = await f.call("member", "POST", `${f.api}/images/pull`, {
        ref: "127.0.0.1:9/capstan-test/absent:latest",
      });
      assert.equal(local.status, 403, JSON.stringify(local.body));
      const pulled = await f.call("admin", "POST", `${f.api}/images/pull`, {
        ref: "127.0.0.1:9/capstan-test/absent:latest",
      });
      assert.equal(pulled.status, 200);
      const lines = typeof pulled.body === "string"
        ? pulled.body.trim().split("\n").map((l: string) => JSON.parse(l))
        : [pulled.body];
      const last = lines.at(-1);
      assert.equal(last.type, "error");
      assert.match(last.message, /127\.0\.0\.1:9/);
      const pullRow = (await f.auditRows("image.pulled"))[0];
      assert.equal(pullRow.status, "error");
      assert.equal(pullRow.target_name, "127.0.0.1:9/capstan-test/absent:latest");
      const badRef = await f.call("member", "POST", `${f.api}/images/pull`, { ref: "; rm -rf /" });
      assert.equal(badRef.status, 400);
      assert.ok(badRef.body.error.fields.ref);

      assert.equal((await f.call("member", "POST", `${f.api}/images/prune`)).status, 403);
      const pruned = await f.call("admin", "POST", `${f.api}/images/prune`);
      assert.equal(pruned.status, 200, JSON.stringify(pruned.body));
      assert.equal(typeof pruned.body.space_reclaimed, "number");
      assert.ok((await f.auditRows("images.pruned")).some((r) => r.status === "ok"));
    } finally {
      await f.close();
    }
  },
);

dockerTest(
  "images: a pull streams layer progress to the end; a client that goes away cancels it",
  async (h) => {
    const f = await dockerFixture(h, SUITE);
    const registry = await startFakeRegistry({
      labels: f.labels,
      layerBytes: 768 * 1024,
      chunk: 32 * 1024,
      delayMs: 20,
    });
    try {
      // The fake registry listens on loopback: admins may pull from it.
      const res = await f.t.request(`${f.api}/images/pull`, {
        method: "POST",
        cookie: f.users.admin.cookie,
        json: { ref: registry.ref },
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /^application\/x-ndjson/);
      const events = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
      const downloading = events.filter((e) => e.type === "progress" && e.status === "Downloading");
      assert.ok(downloading.length >= 2, "several progress lines for the layer");
      assert.ok(downloading.every((e) => e.id && e.total > 0 && e.current <= e.total));
      assert.deepEqual(events.at(-1), {
        type: "done",
        ref: registry.ref,
        status: `Status: Downloaded newer image for ${registry.ref}`,
      });
      const row = (await f.auditRows("image.pulled")).find((r) => r.target_name === registry.ref)!;
      assert.equal(row.status, "ok");
      await f.agent.docker.inspectImage(registry.ref);
      await f.agent.docker.removeImage(registry.ref, { force: true });

      // Now slowly, and the client leaves after the first progress line.
      const slow = await startFakeRegistry({
        labels: f.labels,
        layerBytes: 4 * 1024 * 1024,
        chunk: 16 * 1024,
        delayMs: 100,
      });
      try {
        const res2 = await f.t.request(`${f.api}/images/pull`, {
          method: "POST",
          cookie: f.users.admin.cookie,
          json: { ref: slow.ref },
        });
        const reader = res2.body!.pipeThrough(new TextDecoderStream()).getReader();
        let text = "";
        while (!text.includes('"Downloading"')) text += (await reader.read()).value ?? "";
        await reader.cancel();
        const until = Date.now() + 10_000;
        let cancelled;
        while (!cancelled && Date.now() < until) {
          cancelled = (await f.auditRows("image.pulled")).find((r) => r.target_name === slow.ref);
          if (!cancelled) await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(cancelled?.status, "error");
        assert.match(cancelled!.error!, /cancelled: the client went away/);
        // The engine stopped downloading: the registry sent a fraction of the layer.
        const sentAtCancel = slow.sent();
        await new Promise((r) => setTimeout(r, 500));
        assert.ok(slow.sent() - sentAtCancel <= 16 * 1024 * 2, "no more layer bytes after cancel");
        assert.ok(slow.sent() < 4 * 1024 * 1024);
        await assert.rejects(f.agent.docker.inspectImage(slow.ref));
      } finally {
        await slow.close();
      }
    } finally {
      await registry.close();
      await f.close();
    }
  },
);

dockerTest(
  "networks: create and remove; system networks and attached ones are refused",
  async (h) => {
    const f = await dockerFixture(h, SUITE);
    try {
      const name = testName(SUITE, "net");
      const subnet = `10.213.${Math.floor(Math.random() * 250)}.0/24`;
      const created = await f.call("member", "POST", `${f.api}/networks`, {
        name,
        subnet,
        labels: f.labels,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const list = await f.call("viewer", "GET", `${f.api}/networks`);
      const net = list.body.items.find((n: { name: string }) => n.name === name);
      assert.equal(net.driver, "bridge");
      assert.equal(net.subnet, subnet);
      assert.equal(net.protected, false);
      const bridge = list.body.items.find((n: { name: string }) => n.name === "bridge");
      assert.equal(bridge.protected, true);

      // A container on the network: removal is refused while it is attached.
      const cname = testName(SUITE, "on-net");
      const c = await f.call("member", "POST", `${f.api}/containers`, {
        ...sleeper(cname, f.labels, { network_mode: name }),
        start: true,
      });
      assert.equal(c.status, 201, JSON.stringify(c.body));
      const attached = await f.call("viewer", "GET", `${f.api}/networks`);
      assert.deepEqual(
        attached.body.items.find((n: { name: string }) => n.name === name).containers.map((
          x: { name: string },
        ) => x.name),
        [cname],
      );
      assert.equal((await f.call("member", "DELETE", `${f.api}/networks/${name}`)).status, 403);
      const busy = await f.call("admin", "DELETE", `${f.api}/networks/${name}`);
      assert.equal(busy.status, 409);
      assert.match(
        busy.body.error.message,
        new RegExp(`container\\(s\\) are attached \\(${cname}\\)`),
      );
      await f.call("member", "DELETE", `${f.api}/containers/${c.body.id}?force=true`);
      const gone = await f.call("admin", "DELETE", `${f.api}/networks/${name}`);
      assert.equal(gone.status, 204, JSON.stringify(gone.body));
      assert.ok(
        (await f.auditRows("network.removed")).some((r) =>
          r.status === "ok" && r.target_name === name
        ),
      );
      assert.ok(
        (await f.auditRows("network.created")).some((r) =>
          r.status === "ok" && r.target_name === name
        ),
      );

      // System networks: by name before any agent call, and by id after a look-up.
      const before = f.opsSent().length;
      for (const sys of ["bridge", "host", "none", "docker_gwbridge", "ingress"]) {
        const r = await f.call("owner", "DELETE", `${f.api}/networks/${sys}`);
        assert.equal(r.status, 409, sys);
        assert.match(r.body.error.message, /system network/);
      }
      assert.equal(f.opsSent().length, before, "protected names never reach the agent");
      const byId = await f.call("owner", "DELETE", `${f.api}/networks/${bridge.id.slice(0, 12)}`);
      assert.equal(byId.status, 409);
      assert.deepEqual(f.opsSent().slice(before), ["networks.list"], "looked up, never removed");
      const reserved = await f.call("owner", "POST", `${f.api}/networks`, { name: "host" });
      assert.equal(reserved.status, 409);
      assert.ok(reserved.body.error.fields.name);
      const macvlan = await f.call("member", "POST", `${f.api}/networks`, {
        name: testName(SUITE, "mv"),
        driver: "macvlan",
        parent: "eth0",
      });
      assert.equal(macvlan.status, 403);
      assert.ok(macvlan.body.error.fields.driver);
      const missing = await f.call(
        "owner",
        "DELETE",
        `${f.api}/networks/${testName(SUITE, "nope")}`,
      );
      assert.equal(missing.status, 404);
    } finally {
      await f.close();
    }
  },
);

dockerTest("volumes: create, sizes, 409 while in use naming the container, remove", async (h) => {
  const f = await dockerFixture(h, SUITE);
  try {
    const name = testName(SUITE, "vol");
    const created = await f.call("member", "POST", `${f.api}/volumes`, { name, labels: f.labels });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.name, name);
    const cname = testName(SUITE, "vol-user");
    const c = await f.call("member", "POST", `${f.api}/containers`, {
      ...sleeper(cname, f.labels, { volumes: [{ name, target: "/data" }] }),
      start: true,
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));

    const list = await f.call("viewer", "GET", `${f.api}/volumes?sizes=true`);
    assert.equal(list.status, 200);
    const vol = list.body.items.find((v: { name: string }) => v.name === name);
    assert.equal(vol.driver, "local");
    assert.match(vol.mountpoint, /^\//);
    assert.equal(typeof vol.size, "number");
    assert.deepEqual(vol.containers.map((x: { name: string }) => x.name), [cname]);
    const plain = await f.call("viewer", "GET", `${f.api}/volumes`);
    assert.equal(plain.body.items.find((v: { name: string }) => v.name === name).size, null);

    assert.equal((await f.call("member", "DELETE", `${f.api}/volumes/${name}`)).status, 403);
    const busy = await f.call("admin", "DELETE", `${f.api}/volumes/${name}`);
    assert.equal(busy.status, 409);
    assert.equal(
      busy.body.error.message,
      `Cannot remove volume "${name}": it is in use by 1 container(s) (${cname})`,
    );
    await f.call("member", "DELETE", `${f.api}/containers/${c.body.id}?force=true`);
    assert.equal((await f.call("admin", "DELETE", `${f.api}/volumes/${name}`)).status, 204);
    assert.equal((await f.call("admin", "DELETE", `${f.api}/volumes/${name}`)).status, 404);
    const rows = await f.auditRows("volume.removed");
    assert.ok(rows.some((r) => r.status === "error" && /in use/.test(r.error!)));
    assert.ok(rows.some((r) => r.status === "ok" && r.target_name === name));
    const made = (await f.auditRows("volume.created")).find((r) => r.target_name === name)!;
    assert.equal(made.status, "ok");
    assert.equal(made.metadata.host_id, f.hostId);
  } finally {
    await f.close();
  }
});

dockerTest(
  "create policy: members are refused powerful options by field; admins may",
  async (h) => {
    const f = await dockerFixture(h, SUITE);
    try {
      const cases: [string, Record<string, unknown>][] = [
        ["privileged", { privileged: true }],
        ["binds", { binds: ["/:/host"] }],
        ["cap_add", { cap_add: ["SYS_ADMIN"] }],
        ["network_mode", { network_mode: "host" }],
        ["pid_mode", { pid_mode: "host" }],
        ["devices", { devices: ["/dev/null"] }],
      ];
      const before = f.opsSent().length;
      for (const [field, extra] of cases) {
        const r = await f.call(
          "member",
          "POST",
          `${f.api}/containers`,
          sleeper(testName(SUITE, "p"), f.labels, extra),
        );
        assert.equal(r.status, 403, field);
        assert.deepEqual(Object.keys(r.body.error.fields), [field]);
      }
      assert.equal(f.opsSent().length, before, "refused specs never reach the agent");
      const token = await f.t.token(f.users.owner.id, "acme", "read");
      const readToken = await f.t.request(`${f.api}/containers`, {
        method: "POST",
        token,
        json: sleeper(testName(SUITE, "ro"), f.labels),
      });
      assert.equal(readToken.status, 403);

      const name = testName(SUITE, "priv");
      const ok = await f.call("admin", "POST", `${f.api}/containers`, {
        ...sleeper(name, f.labels, { privileged: true, cap_add: ["NET_ADMIN"] }),
        start: false,
      });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      const inspect = await f.agent.docker.inspectContainer(ok.body.id);
      assert.equal(inspect.HostConfig.Privileged, true);
      assert.equal(inspect.State.Running, false);
      const row = (await f.auditRows("container.created")).find((r) => r.target_id === ok.body.id)!;
      assert.deepEqual(row.metadata.powerful, ["privileged", "cap_add"]);
    } finally {
      await f.close();
    }
  },
);

dockerTest(
  "create policy: network_mode given as the host network's id or id prefix is judged as host",
  async (h) => {
    const f = await dockerFixture(h, SUITE);
    try {
      const hostNet = (await f.agent.docker.listNetworks()).find((n) => n.Driver === "host")!;
      assert.ok(hostNet, "the engine has a host network");
      const before = f.opsSent().filter((op) => op === "container.create").length;
      for (const mode of [hostNet.Id, hostNet.Id.slice(0, 12)]) {
        const r = await f.call(
          "member",
          "POST",
          `${f.api}/containers`,
          sleeper(testName(SUITE, "netid"), f.labels, { network_mode: mode }),
        );
        assert.equal(r.status, 403, `${mode}: ${JSON.stringify(r.body)}`);
        assert.deepEqual(Object.keys(r.body.error.fields), ["network_mode"]);
      }
      assert.equal(
        f.opsSent().filter((op) => op === "container.create").length,
        before,
        "refused specs never reach the engine",
      );
      // A user network by id stays open to members; an admin may use the host network's id.
      const net = testName(SUITE, "netid-user");
      const { id: netId } = await f.agent.docker.createNetwork({ name: net, labels: f.labels });
      const mine = await f.call("member", "POST", `${f.api}/containers`, {
        ...sleeper(testName(SUITE, "on-user-net"), f.labels, { network_mode: netId }),
        start: false,
      });
      assert.equal(mine.status, 201, JSON.stringify(mine.body));
      const ok = await f.call("admin", "POST", `${f.api}/containers`, {
        ...sleeper(testName(SUITE, "on-host-net"), f.labels, { network_mode: hostNet.Id }),
        start: false,
      });
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      // The engine puts it on the host network, which is why members may not.
      const inspect = await f.agent.docker.inspectContainer(ok.body.id);
      assert.deepEqual(Object.keys(inspect.NetworkSettings.Networks ?? {}), ["host"]);
      const row = (await f.auditRows("container.created")).find((r) => r.target_id === ok.body.id)!;
      assert.deepEqual(row.metadata.powerful, ["network_mode"]);
      await f.agent.docker.removeContainer(mine.body.id, { force: true });
      await f.agent.docker.removeNetwork(netId);
    } finally {
      await f.close();
    }
  },
);

dockerTest(
  "hostile names and bad ids: 400 naming the field on every endpoint, nothing reaches the agent",
  async (h) => {
    const f = await dockerFixture(h, SUITE);
    try {
      const before = f.opsSent().length;
      const problems: string[] = [];
      const expect400 = async (
        who: "owner",
        method: string,
        path: string,
        field: string,
        json?: unknown,
      ) => {
        const r = await f.call(who, method, path, json);
        if (r.status !== 400 || !r.body?.error?.fields?.[field]) {
          problems.push(
            `${method} ${path} ${JSON.stringify(json)} → ${r.status} ${JSON.stringify(r.body)}`,
          );
        }
      };
      // Path segments the URL parser would resolve or drop ("", ".", "..") route elsewhere.
      const inPath = HOSTILE_NAMES.filter((n) => !["", ".", ".."].includes(n));
      for (const bad of inPath) {
        const seg = encodeURIComponent(bad);
        for (const action of ["start", "stop", "restart", "kill"]) {
          await expect400("owner", "POST", `${f.api}/containers/${seg}/${action}`, "id");
        }
        await expect400("owner", "GET", `${f.api}/containers/${seg}`, "id");
        await expect400("owner", "DELETE", `${f.api}/containers/${seg}`, "id");
        await expect400("owner", "DELETE", `${f.api}/images/${seg}`, "ref");
        await expect400("owner", "DELETE", `${f.api}/networks/${seg}`, "id");
        await expect400("owner", "DELETE", `${f.api}/volumes/${seg}`, "name");
        await expect400("owner", "GET", `/api/v1/orgs/acme/hosts/${seg}/images`, "hostId");
      }
      for (const bad of HOSTILE_NAMES) {
        await expect400("owner", "POST", `${f.api}/containers`, "name", {
          name: bad,
          image: TEST_IMAGE,
        });
        await expect400("owner", "POST", `${f.api}/containers`, "image", { image: bad });
        await expect400("owner", "POST", `${f.api}/images/pull`, "ref", { ref: bad });
        await expect400("owner", "POST", `${f.api}/networks`, "name", { name: bad });
        await expect400("owner", "POST", `${f.api}/volumes`, "name", { name: bad });
        await expect400("owner", "POST", `${f.api}/containers`, "volumes.0.name", {
          image: TEST_IMAGE,
          volumes: [{ name: bad, target: "/data" }],
        });
      }
      for (const bad of ["", ".", ".."]) {
        for (const path of [`${f.api}/containers/${bad}`, `${f.api}/volumes/${bad}`]) {
          const r = await f.call("owner", "DELETE", path);
          if (![400, 404, 405].includes(r.status)) problems.push(`DELETE ${path} → ${r.status}`);
        }
      }
      assert.deepEqual(problems, []);
      assert.equal(f.opsSent().length, before, "no hostile input reached the agent");
    } finally {
      await f.close();
    }
  },
);

dockerTest("offline hosts answer 503 (audited); other organizations' hosts are 404", async (h) => {
  const f = await dockerFixture(h, SUITE);
  try {
    const { host } = await f.t.services.hosts.create(SYSTEM_CTX, f.org.id, { name: "far-away" });
    const api = `/api/v1/orgs/acme/hosts/${host.id}`;
    const images = await f.call("viewer", "GET", `${api}/images`);
    assert.equal(images.status, 503);
    assert.equal(images.body.error.code, "host_offline");
    const start = await f.call("member", "POST", `${api}/containers/abcdef123456/start`);
    assert.equal(start.status, 503);
    const row = (await f.auditRows("container.started"))[0];
    assert.equal(row.status, "error");
    assert.equal(row.metadata.host_name, "far-away");
    assert.match(row.error!, /not connected/);
    const pull = await f.call("member", "POST", `${api}/images/pull`, { ref: "busybox" });
    assert.equal(pull.status, 503);
    assert.equal((await f.auditRows("image.pulled"))[0].status, "error");

    // Another organization's live host looks missing.
    await f.t.user("boss@globex.io", { org: "globex", role: "owner" });
    const globex = (await f.t.services.orgs.bySlug("globex"))!;
    const { host: theirs } = await f.t.services.hosts.create(SYSTEM_CTX, globex.id, { name: "g1" });
    const other = await f.call("owner", "GET", `/api/v1/orgs/acme/hosts/${theirs.id}/images`);
    assert.equal(other.status, 404);
    const otherStart = await f.call(
      "owner",
      "POST",
      `/api/v1/orgs/acme/hosts/${theirs.id}/containers/abcdef123456/start`,
    );
    assert.equal(otherStart.status, 404);
  } finally {
    await f.close();
  }
});
