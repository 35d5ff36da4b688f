/**
 * The agent's health check runner against real containers (issue 6): HTTP, TCP, Docker's own
 * HEALTHCHECK and exec command checks, timeouts, refused targets, set replacement, batching, and
 * the wiring through a real agent session.
 */
import assert from "node:assert/strict";
import type { DockerClient } from "../lib/docker/client.ts";
import {
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  testName,
  withDocker,
} from "../lib/docker/testing.ts";
import { silentLogger } from "../lib/log.ts";
import type {
  HealthCheckSpec,
  HealthResult,
  HealthResultsMessage,
} from "../lib/protocol/health.ts";
import { HealthSync } from "../lib/protocol/health.ts";
import { memoryTransportPair } from "../lib/protocol/transport.ts";
import { AgentConnection } from "../lib/agents/connection.ts";
import { createHealthRunner, type HealthRunnerOptions } from "../agent/health/mod.ts";
import { phaseOf } from "../agent/health/schedule.ts";
import { runTestSession } from "./support/agent.ts";

const SUITE = "health-agent";
const ignore = dockerTestsIgnored(SUITE);

/** Starts a busybox container and returns its id. */
async function run(
  docker: DockerClient,
  what: string,
  cmd: string[],
  extra: Partial<Parameters<DockerClient["createContainer"]>[1]> = {},
): Promise<string> {
  const { id } = await docker.createContainer(testName(SUITE, what), {
    image: TEST_IMAGE,
    cmd,
    labels: testLabels(SUITE),
    ...extra,
  });
  await docker.startContainer(id);
  return id;
}

/** A busybox httpd on port 8080 serving /www/index.html (a test fixture: sh runs in the container). */
function httpd(docker: DockerClient, extra: Parameters<typeof run>[3] = {}, port = 8080) {
  return run(docker, "httpd", [
    "sh",
    "-c",
    `mkdir -p /www && echo 'hello capstan' > /www/index.html && exec httpd -f -p ${port} -h /www`,
  ], extra);
}

/** Runs a command in a container to change its state (and exercises the exec client). */
async function exec(docker: DockerClient, id: string, cmd: string[]) {
  const { id: execId } = await docker.execCreate(id, { cmd });
  const s = await docker.execStart(execId);
  for await (const _ of s) { /* drain */ }
  return (await docker.execInspect(execId)).ExitCode;
}

function check(
  containerId: string,
  kind: HealthCheckSpec["kind"],
  extra: Record<string, unknown> = {},
): HealthCheckSpec {
  return HealthSync.parse({
    checks: [{
      id: crypto.randomUUID(),
      container_id: containerId,
      kind,
      interval_s: 1,
      timeout_s: 2,
      start_delay_s: 0,
      ...extra,
    }],
  }).checks[0];
}

/** A runner whose results land in an array, with a wait for a result matching a predicate. */
function collect(docker: DockerClient, opts: Partial<HealthRunnerOptions> = {}) {
  const results: HealthResult[] = [];
  const messages: { at: number; size: number }[] = [];
  const runner = createHealthRunner({
    docker,
    log: silentLogger,
    send: (m: HealthResultsMessage) => {
      messages.push({ at: Date.now(), size: m.results.length });
      results.push(...m.results);
      return true;
    },
    ...opts,
  });
  async function waitFor(
    id: string,
    pred: (r: HealthResult) => boolean,
    ms = 60_000,
  ): Promise<HealthResult> {
    const until = Date.now() + ms;
    for (;;) {
      const r = results.find((x) => x.check_id === id && pred(x));
      if (r) return r;
      if (Date.now() > until) {
        const seen = results.filter((x) => x.check_id === id);
        throw new Error(`no matching result for ${id}; saw ${JSON.stringify(seen.slice(-3))}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { runner, results, messages, waitFor };
}

const any = () => true;
/**
 * A result the server answered (a status code): on a loaded machine a check's first run may come
 * before httpd listens, and its "connection refused" is not what these assertions are about.
 */
const answered = (r: { status_code?: number | null }) => typeof r.status_code === "number";

Deno.test({
  name:
    "[docker] health runner: HTTP checks see 200, body text, HEAD, then a 404 after the file goes",
  ignore,
  async fn() {
    await withDocker(SUITE, async (docker) => {
      const id = await httpd(docker);
      const c = collect(docker);
      try {
        const get = check(id, "http", { http: { port: 8080, body_contains: "hello capstan" } });
        const head = check(id, "http", { http: { port: 8080, method: "HEAD" } });
        const wrongText = check(id, "http", { http: { port: 8080, body_contains: "goodbye" } });
        const strict = check(id, "http", { http: { port: 8080, expect_status: [[201, 201]] } });
        await c.runner.sync({ checks: [get, head, wrongText, strict] });
        const ok = await c.waitFor(get.id, (r) => r.ok);
        assert.equal(ok.status_code, 200);
        assert.ok(ok.response_ms !== null && ok.response_ms >= 0);
        assert.equal((await c.waitFor(head.id, answered)).ok, true);
        const miss = await c.waitFor(wrongText.id, answered);
        assert.equal(miss.ok, false);
        assert.equal(miss.error, "expected text not found in the body");
        const st = await c.waitFor(strict.id, answered);
        assert.deepEqual([st.ok, st.status_code, st.error], [false, 200, "unexpected status 200"]);

        assert.equal(await exec(docker, id, ["rm", "/www/index.html"]), 0);
        const gone = await c.waitFor(get.id, (r) => !r.ok);
        assert.equal(gone.status_code, 404);
        assert.equal(gone.error, "unexpected status 404");

        // httpd stopped: the connection is refused and the check says so.
        await docker.killContainer(id);
        const down = await c.waitFor(head.id, (r) => !r.ok && r.status_code === undefined);
        assert.match(
          down.error ?? "",
          /container is not running|connection refused|connection reset/,
        );
      } finally {
        c.runner.close();
      }
    });
  },
});

Deno.test({
  name: "[docker] health runner: a host-network container is checked on 127.0.0.1",
  ignore,
  async fn() {
    await withDocker(SUITE, async (docker) => {
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = l.addr.port;
      l.close();
      const id = await httpd(docker, { networkMode: "host" }, port);
      const c = collect(docker);
      try {
        const get = check(id, "http", { http: { port } });
        await c.runner.sync({ checks: [get] });
        assert.equal((await c.waitFor(get.id, (r) => r.ok)).status_code, 200);
      } finally {
        c.runner.close();
      }
    });
  },
});

Deno.test({
  name:
    "[docker] health runner: TCP on an open and a closed port; a server that never answers times out",
  ignore,
  async fn() {
    await withDocker(SUITE, async (docker) => {
      const id = await httpd(docker);
      // nc accepts the connection and never writes a byte (its stdin never ends): an HTTP check
      // can only time out.
      const silent = await run(docker, "silent", ["sh", "-c", "sleep 3600 | nc -l -p 8081"]);
      const c = collect(docker);
      try {
        const open = check(id, "tcp", { tcp: { port: 8080 } });
        const closed = check(id, "tcp", { tcp: { port: 9 } });
        const hang = check(silent, "http", {
          interval_s: 5,
          timeout_s: 1,
          http: { port: 8081 },
        });
        await c.runner.sync({ checks: [open, closed, hang] });
        const o = await c.waitFor(open.id, any);
        assert.equal(o.ok, true);
        assert.ok(o.response_ms !== null);
        const cl = await c.waitFor(closed.id, any);
        assert.deepEqual([cl.ok, cl.error], [false, "connection refused"]);
        const h = await c.waitFor(hang.id, any);
        assert.deepEqual([h.ok, h.error, h.response_ms], [false, "timeout after 1 s", null]);
      } finally {
        c.runner.close();
      }
    });
  },
});

Deno.test({
  name: "[docker] health runner: Docker HEALTHCHECK healthy, unhealthy, starting, and none",
  ignore,
  async fn() {
    await withDocker(SUITE, async (docker) => {
      const sleep = ["sleep", "300"];
      const healthy = await run(docker, "hc-ok", sleep, {
        healthcheck: { test: ["CMD", "true"], intervalMs: 1000, timeoutMs: 1000, retries: 1 },
      });
      const unhealthy = await run(docker, "hc-bad", sleep, {
        healthcheck: {
          test: ["CMD", "sh", "-c", "echo broken; exit 3"],
          intervalMs: 1000,
          timeoutMs: 1000,
          retries: 1,
        },
      });
      const starting = await run(docker, "hc-slow", sleep, {
        healthcheck: { test: ["CMD", "true"], intervalMs: 3_600_000, retries: 1 },
      });
      const none = await run(docker, "hc-none", sleep);
      const c = collect(docker);
      try {
        const checks = [healthy, unhealthy, starting, none].map((cid) => check(cid, "docker"));
        await c.runner.sync({ checks });
        const ok = await c.waitFor(checks[0].id, (r) => r.ok);
        assert.equal(ok.exit_code, 0);
        const bad = await c.waitFor(checks[1].id, (r) => r.error === "unhealthy");
        assert.deepEqual([bad.ok, bad.exit_code, bad.output?.trim()], [false, 3, "broken"]);
        const st = await c.waitFor(checks[2].id, any);
        assert.deepEqual([st.ok, st.error], [false, "starting"]);
        const n = await c.waitFor(checks[3].id, any);
        assert.deepEqual([n.ok, n.error], [false, "container has no HEALTHCHECK"]);
      } finally {
        c.runner.close();
      }
    });
  },
});

Deno.test({
  name: "[docker] health runner: command checks exit 0 and 1, output capped at 4 KB, timeout",
  ignore,
  async fn() {
    await withDocker(SUITE, async (docker) => {
      const id = await run(docker, "cmd", ["sleep", "300"]);
      const c = collect(docker);
      try {
        // Generous timeouts where the outcome under test is not a timeout: on a loaded machine an
        // exec round trip (create, start, inspect) can take more than the default 2 s.
        const roomy = { interval_s: 10, timeout_s: 10 };
        const pass = check(id, "command", { ...roomy, command: { argv: ["echo", "fine"] } });
        const fail = check(id, "command", { ...roomy, command: { argv: ["false"] } });
        const chatty = check(id, "command", { ...roomy, command: { argv: ["seq", "1", "20000"] } });
        const slow = check(id, "command", {
          interval_s: 5,
          timeout_s: 1,
          command: { argv: ["sleep", "10"] },
        });
        // A shell line as one argument is just a program name that does not exist: no shell runs it.
        const line = check(id, "command", {
          ...roomy,
          command: { argv: ["echo hi; touch /pwned"] },
        });
        await c.runner.sync({ checks: [pass, fail, chatty, slow, line] });
        const p = await c.waitFor(pass.id, any);
        assert.deepEqual([p.ok, p.exit_code, p.output], [true, 0, "fine\n"]);
        assert.equal(p.output_truncated, false);
        const f = await c.waitFor(fail.id, any);
        assert.deepEqual([f.ok, f.exit_code, f.error], [false, 1, "exit code 1"]);
        const ch = await c.waitFor(chatty.id, any);
        assert.equal(ch.ok, true);
        assert.equal(new TextEncoder().encode(ch.output ?? "").length, 4096);
        assert.equal(ch.output_truncated, true, "the cut is marked");
        assert.ok(ch.output?.startsWith("1\n2\n3\n"));
        const t0 = Date.now();
        const s = await c.waitFor(slow.id, any);
        assert.deepEqual([s.ok, s.error], [false, "timeout after 1 s"]);
        assert.ok(Date.now() - t0 < 8000);
        const l = await c.waitFor(line.id, any);
        assert.equal(l.ok, false);
        assert.equal(await exec(docker, id, ["test", "-e", "/pwned"]), 1);
      } finally {
        c.runner.close();
      }
    });
  },
});

Deno.test({
  name: "[docker] health runner: link-local and metadata targets are refused even from the hub",
  ignore,
  async fn() {
    await withDocker(SUITE, async (docker) => {
      const id = await run(docker, "ll", ["sleep", "300"]);
      const c = collect(docker);
      try {
        const hosts = ["169.254.169.254", "169.254.1.1", "fe80::1", "metadata.google.internal"];
        const checks = hosts.map((host) => check(id, "http", { http: { host, port: 80 } }));
        await c.runner.sync({ checks });
        for (const ch of checks) {
          const r = await c.waitFor(ch.id, any);
          assert.equal(r.ok, false);
          assert.match(r.error ?? "", /^Refused target/);
          assert.equal(r.status_code, undefined);
        }
      } finally {
        c.runner.close();
      }
    });
  },
});

Deno.test({
  name:
    "[docker] health runner: sync replaces the set, keeps unchanged schedules, honours start delay",
  ignore,
  async fn() {
    await withDocker(SUITE, async (docker) => {
      const id = await httpd(docker);
      const attempts: { id: string; planned: number; started: number }[] = [];
      const c = collect(docker, {
        onAttempt: (cid, planned, started) => attempts.push({ id: cid, planned, started }),
      });
      try {
        const a = check(id, "tcp", { tcp: { port: 8080 } });
        const b = check(id, "tcp", { tcp: { port: 8080 }, interval_s: 2 });
        assert.deepEqual(await c.runner.sync({ checks: [a, b] }), {
          checks: 2,
          added: 2,
          changed: 0,
          removed: 0,
        });
        await c.waitFor(a.id, any);
        await c.waitFor(b.id, any);
        const delayed = check(id, "tcp", { tcp: { port: 8080 }, start_delay_s: 2 });
        const changedB = { ...b, timeout_s: 1 };
        const syncedAt = Date.now();
        // The same set again changes nothing.
        assert.deepEqual(await c.runner.sync({ checks: [a, b] }), {
          checks: 2,
          added: 0,
          changed: 0,
          removed: 0,
        });
        const editAt = Date.now();
        assert.deepEqual(await c.runner.sync({ checks: [changedB, delayed] }), {
          checks: 2,
          added: 1,
          changed: 1,
          removed: 1,
        });
        const removedAt = Date.now();
        const first = await c.waitFor(delayed.id, any);
        assert.ok(first.at >= syncedAt + 2000, `delayed check ran ${first.at - syncedAt} ms in`);
        await c.waitFor(b.id, (r) => r.at > removedAt);
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(attempts.filter((x) => x.id === a.id && x.started > removedAt + 50).length, 0);
        // Every attempt of b, before and after its edit, sits on its one grid, except the first
        // after each start, which comes early so a new or edited check answers at once.
        const bs = () => attempts.filter((x) => x.id === b.id);
        for (let i = 0; bs().filter((x) => x.planned >= editAt).length < 2; i++) {
          if (i > 50) throw new Error("b ran fewer than twice after its edit");
          await new Promise((r) => setTimeout(r, 100));
        }
        const all = bs();
        // (Old b's timer is cleared by the edit: nothing of it is planned after editAt.)
        const edited = all.findIndex((x) => x.planned >= editAt);
        const onGrid = all.filter((_, i) => i !== 0 && i !== edited);
        assert.ok(onGrid.length >= 1);
        for (const x of onGrid) assert.equal((x.planned - phaseOf(b.id, 2000)) % 2000, 0);
        assert.ok(all[edited].planned - editAt < 2000, "the edited check answered at once");
        assert.deepEqual(c.runner.stats().checks, 2);
      } finally {
        c.runner.close();
      }
    });
  },
});

Deno.test({
  name: "[docker] health runner: one message a second at most; a bounded buffer while disconnected",
  ignore,
  async fn() {
    await withDocker(SUITE, async (docker) => {
      const id = await httpd(docker);
      let connected = false;
      const messages: { at: number; results: HealthResult[] }[] = [];
      const runner = createHealthRunner({
        docker,
        log: silentLogger,
        maxBuffered: 5,
        send: (m) => {
          if (!connected) return false;
          messages.push({ at: Date.now(), results: m.results });
          return true;
        },
      });
      try {
        const checks = Array.from({ length: 4 }, () => check(id, "tcp", { tcp: { port: 8080 } }));
        await runner.sync({ checks });
        // About 4 results a second into a buffer of 5: drops start within the second second.
        await new Promise((r) => setTimeout(r, 3000));
        const st = runner.stats();
        assert.equal(st.buffered, 5);
        assert.ok(st.dropped >= 3, `dropped ${st.dropped}`);
        connected = true;
        await new Promise((r) => setTimeout(r, 3500));
        assert.ok(messages.length >= 2);
        // The oldest went first: what is sent after reconnecting is recent.
        assert.ok(messages[0].at - messages[0].results[0].at < 2500);
        for (let i = 1; i < messages.length; i++) {
          assert.ok(messages[i].at - messages[i - 1].at >= 990, "two messages within a second");
        }
        for (const m of messages) assert.ok(m.results.length <= 1000);
      } finally {
        runner.close();
      }
    });
  },
});

Deno.test({
  name: "[docker] health runner over an agent session: health.sync in, health results out",
  ignore,
  async fn() {
    await withDocker(SUITE, async (docker) => {
      const id = await httpd(docker);
      const [hubEnd, agentEnd] = memoryTransportPair();
      const got: HealthResult[] = [];
      const conn = new AgentConnection(hubEnd, { onHealth: (r) => void got.push(...r) });
      const session = runTestSession(agentEnd, docker);
      try {
        await conn.hello;
        const c = check(id, "http", { http: { port: 8080 } });
        const r = await conn.call<{ checks: number }>("health.sync", { checks: [c] });
        assert.equal(r.checks, 1);
        const until = Date.now() + 10_000;
        while (!got.some((x) => x.check_id === c.id && x.ok) && Date.now() < until) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(got.some((x) => x.check_id === c.id && x.ok));
        // A shell line instead of an argument array never reaches the runner.
        await assert.rejects(
          conn.call("health.sync", {
            checks: [{ ...c, kind: "command", command: { argv: "echo hi" } }],
          }),
          /checks\.0\.command\.argv/,
        );
      } finally {
        session.quiet();
        hubEnd.close(1000, "done");
        await session.done;
      }
    });
  },
});
