import assert from "node:assert/strict";
import { memoryTransportPair } from "../lib/protocol/transport.ts";
import { AgentConnection } from "../lib/agents/connection.ts";
import { createDockerClient } from "../lib/docker/client.ts";
import { silentLogger } from "../lib/log.ts";
import { createControl } from "./control.ts";
import { runAgentSession } from "./session.ts";

const NEW_TOKEN = "caph_" + "n".repeat(43);

/** A session against an engine that is not there: rotation needs no engine. */
function session(onRotate?: (t: string) => Promise<void>) {
  const docker = createDockerClient({ socketPath: "/nonexistent/docker.sock", timeoutMs: 200 });
  const [hubEnd, agentEnd] = memoryTransportPair();
  const conn = new AgentConnection(hubEnd);
  const done = runAgentSession(agentEnd, {
    docker,
    control: createControl(docker),
    agentVersion: "test",
    machineId: "machine-rotate-01",
    hostname: "h",
    log: silentLogger,
    eventRetryMs: 20,
    onRotate,
  });
  return {
    conn,
    async close() {
      conn.close();
      await done;
      docker.close();
    },
  };
}

Deno.test("rotate: the agent stores a rotated token before confirming; without a store it declines", async () => {
  const stored: string[] = [];
  const a = session((t) => {
    stored.push(t);
    return Promise.resolve();
  });
  try {
    await a.conn.hello;
    assert.equal(await a.conn.rotate(NEW_TOKEN, 2000), true);
    assert.deepEqual(stored, [NEW_TOKEN]);
  } finally {
    await a.close();
  }
  const b = session();
  try {
    await b.conn.hello;
    assert.equal(await b.conn.rotate(NEW_TOKEN, 2000), false);
  } finally {
    await b.close();
  }
  const c = session(() => Promise.reject(new Error("disk full")));
  try {
    await c.conn.hello;
    assert.equal(await c.conn.rotate(NEW_TOKEN, 2000), false);
  } finally {
    await c.close();
  }
});
