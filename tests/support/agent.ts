/**
 * An in-process agent on the real Docker engine, attached to a hub's services exactly as a remote
 * agent would be (same protocol over a memory transport). Tests that need a live host use it so
 * they depend neither on the embedded agent's wiring nor on timing.
 */
import { createDockerClient, type DockerClient } from "../../lib/docker/client.ts";
import { memoryTransportPair, type Transport } from "../../lib/protocol/transport.ts";
import { createControl } from "../../agent/control.ts";
import { runAgentSession } from "../../agent/session.ts";
import { createHealthRunner, transportSender } from "../../agent/health/mod.ts";
import { silentLogger } from "../../lib/log.ts";
import { TEST_IMAGE, testLabels, testName } from "../../lib/docker/testing.ts";
import type { Services } from "../../services.ts";
import type { AgentConnection } from "../../lib/agents/connection.ts";
import type { Host } from "../../lib/hosts/service.ts";

/** A live host: its row, the hub's connection, what the hub sent, and how to stop the agent. */
export interface TestAgent {
  host: Host;
  conn: AgentConnection;
  docker: DockerClient;
  /** Every frame the hub sent to the agent (calls, cancels, pings), as parsed JSON. */
  sent: { t: string; id?: number; op?: string; params?: Record<string, unknown> }[];
  stop(): Promise<void>;
}

/**
 * Creates (or reuses) the org's local host and connects an in-process agent for it, with the real
 * health runner wired as the embedded agent wires it (lib/agents/embedded.ts): its own Docker
 * client, results sent over the live session.
 */
export async function attachTestAgent(
  services: Pick<Services, "hosts" | "agents">,
  orgId: string,
  name = "local",
): Promise<TestAgent> {
  const host = await services.hosts.ensureLocal(orgId, name);
  return await attachEngineAgent(services, host, createDockerClient(), createDockerClient());
}

/**
 * Connects an in-process agent for `host` on the engine `docker` answers for (another engine's
 * socket: a node of a netns Swarm, tests/support/netns_engines.ts), its health runner on
 * `healthDocker` (closed by `stop`; `docker` stays the caller's).
 */
export async function attachEngineAgent(
  services: Pick<Services, "agents">,
  host: Host,
  docker: DockerClient,
  healthDocker: DockerClient,
): Promise<TestAgent> {
  const [hubEnd, agentEnd] = memoryTransportPair();
  const sent: TestAgent["sent"] = [];
  const send = hubEnd.send.bind(hubEnd);
  hubEnd.send = (text: string) => {
    sent.push(JSON.parse(text));
    send(text);
  };
  const session = runTestSession(agentEnd, docker, healthDocker);
  const conn = await services.agents.attach(host, hubEnd);
  return {
    host,
    conn,
    docker,
    sent,
    async stop() {
      session.quiet();
      hubEnd.close();
      await session.done;
      healthDocker.close();
    },
  };
}

/**
 * The agent side of a test connection: a session on `agentEnd` against the engine, with the real
 * health runner sending over it. `quiet()` stops the runner and its sending; the session itself
 * ends (`done`) when the hub's end closes.
 */
export function runTestSession(agentEnd: Transport, docker: DockerClient, healthDocker = docker) {
  let live: Transport | undefined = agentEnd;
  const health = createHealthRunner({
    docker: healthDocker,
    log: silentLogger,
    send: transportSender(() => live),
  });
  const done = runAgentSession(agentEnd, {
    docker,
    control: createControl(docker, { health }),
    agentVersion: "test",
    machineId: "machine-test-0001",
    hostname: "test",
    log: silentLogger,
  });
  return {
    done,
    quiet() {
      live = undefined;
      health.close();
    },
  };
}

/**
 * Creates a container of the test image through the agent, named and labelled for `suite` (so
 * `cleanupSuite` removes it), running `cmd` (by default a shell that exits at once on SIGTERM);
 * started unless `start` is false.
 */
export async function runTestContainer(
  agent: Pick<TestAgent, "conn">,
  suite: string,
  what: string,
  opts: { cmd?: string[]; start?: boolean; spec?: Record<string, unknown> } = {},
): Promise<{ id: string; name: string }> {
  const name = testName(suite, what);
  const { id } = await agent.conn.call<{ id: string }>("container.create", {
    spec: {
      name,
      image: TEST_IMAGE,
      cmd: opts.cmd ?? ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
      labels: { ...testLabels(suite), app: what },
      ...opts.spec,
    },
    start: opts.start ?? true,
  });
  return { id, name };
}

/**
 * A scripted agent for `host`: the hub's end of a memory transport attached as a real agent's
 * would be, after a hello. The test speaks for the agent (`send` results, events) and sees the
 * operations the hub called (`ops`); nothing answers them.
 */
export async function attachScriptedAgent(services: Pick<Services, "agents">, host: Host) {
  const [hubEnd, agentEnd] = memoryTransportPair();
  const ops: string[] = [];
  agentEnd.onMessage((text) => ops.push(JSON.parse(text).op));
  const conn = services.agents.attach(host, hubEnd);
  agentEnd.send(JSON.stringify({
    t: "hello",
    protocol: 1,
    agent_version: "test",
    machine_id: "machine-test-0001",
    hostname: "test",
    engine: null,
  }));
  await conn;
  return {
    hubEnd,
    agentEnd,
    ops,
    /** Sends one agent→hub message. */
    send(message: unknown): void {
      agentEnd.send(JSON.stringify(message));
    },
  };
}
