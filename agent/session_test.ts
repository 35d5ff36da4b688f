import assert from "node:assert/strict";
import { createDockerClient } from "../lib/docker/client.ts";
import {
  cleanupSuite,
  dockerTestsIgnored,
  TEST_IMAGE,
  testLabels,
  testName,
} from "../lib/docker/testing.ts";
import { memoryTransportPair } from "../lib/protocol/transport.ts";
import { AgentConnection } from "../lib/agents/connection.ts";
import { silentLogger } from "../lib/log.ts";
import type { HttpError } from "../lib/http/errors.ts";
import { createControl } from "./control.ts";
import { runAgentSession } from "./session.ts";

const SUITE = "agent-session";

function start() {
  const docker = createDockerClient();
  const [hubEnd, agentEnd] = memoryTransportPair();
  const events: { action: string; id: string }[] = [];
  let snapshots = 0;
  const conn = new AgentConnection(hubEnd, {
    onEvent: (e) => events.push(e),
    onSnapshot: () => void snapshots++,
  });
  const done = runAgentSession(agentEnd, {
    docker,
    control: createControl(docker),
    agentVersion: "test",
    machineId: "machine-test-0001",
    hostname: "test",
    log: silentLogger,
  });
  return { docker, conn, events, snapshots: () => snapshots, done, hubEnd };
}

async function waitFor(check: () => boolean, what: string, ms = 10_000) {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name:
    "[docker] agent session: hello, snapshot, calls, events and log streaming over the protocol",
  ignore: dockerTestsIgnored(SUITE),
  async fn() {
    const s = start();
    const name = testName(SUITE, "c");
    try {
      const hello = await s.conn.hello;
      assert.equal(hello.machine_id, "machine-test-0001");
      assert.ok(hello.engine?.docker_version);
      assert.match(String(hello.restic_version), /^\d+\.\d+\.\d+$/, "the host's restic");
      await waitFor(() => s.snapshots() > 0, "snapshot");

      const created = await s.conn.call<{ id: string }>("container.create", {
        spec: {
          name,
          image: TEST_IMAGE,
          cmd: ["sh", "-c", "echo out; echo err >&2; sleep 600"],
          labels: testLabels(SUITE),
        },
        start: true,
      });
      assert.match(created.id, /^[a-f0-9]{64}$/);
      await waitFor(
        () => s.events.some((e) => e.id === created.id && e.action === "start"),
        "start event",
      );

      const list = await s.conn.call<{ id: string; name: string; state: string }[]>(
        "containers.list",
        { all: true },
      );
      assert.equal(list.find((c) => c.id === created.id)?.state, "running");

      const logs = s.conn.stream("container.logs", {
        id: created.id,
        tail: 10,
        follow: true,
        timestamps: false,
      });
      const lines: { stream: string; line: string }[] = [];
      for await (const batch of logs) {
        lines.push(...(batch as { stream: string; line: string }[]));
        if (lines.length >= 2) break;
      }
      assert.deepEqual(lines.map((l) => `${l.stream}:${l.line}`).sort(), [
        "stderr:err",
        "stdout:out",
      ]);

      await assert.rejects(
        s.conn.call("container.start", { id: "; rm -rf /" }),
        (e: HttpError) => e.status === 400 && e.fields?.id !== undefined,
      );
      await assert.rejects(
        s.conn.call("container.inspect", { id: "nosuchcontainer" }),
        (e: HttpError) => e.status === 404,
      );
      await s.conn.call("container.kill", { id: created.id });
      await waitFor(
        () => s.events.some((e) => e.id === created.id && e.action === "die"),
        "die event",
      );
    } finally {
      s.hubEnd.close();
      await s.done;
      await cleanupSuite(s.docker, SUITE);
      s.docker.close();
    }
  },
});
