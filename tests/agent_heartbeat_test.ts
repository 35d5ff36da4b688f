/**
 * Worker heartbeats over the agents' existing connection, with CAPSTAN_WORKER_HEARTBEAT_INTERVAL
 * at 1 s and _TIMEOUT at 3 s: the hub pings a real in-process agent at that cadence and stores
 * each pong as the host's last heartbeat; an agent that stops answering is unhealthy after the
 * timeout and its connection is closed, without its heartbeat being made fresh by the closing.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { SYSTEM_CTX, testServices } from "./support/services.ts";
import { attachTestAgent } from "./support/agent.ts";
import { dockerTestsIgnored, eventually } from "../lib/docker/testing.ts";
import { memoryTransportPair } from "../lib/protocol/transport.ts";
import { CLOSE, type Hello } from "../lib/protocol/messages.ts";
import { heartbeatOf } from "../lib/agents/heartbeat.ts";
import type { DbHandle } from "../lib/db/mod.ts";

const ignore = dockerTestsIgnored("agent-heartbeat");
const ENV = { CAPSTAN_WORKER_HEARTBEAT_INTERVAL: "1", CAPSTAN_WORKER_HEARTBEAT_TIMEOUT: "3" };

const lastSeen = async (h: DbHandle, hostId: string) => {
  const r = await h.db.selectFrom("hosts").select("last_seen_at").where("id", "=", hostId)
    .executeTakeFirstOrThrow();
  return r.last_seen_at === null ? null : Number(r.last_seen_at);
};

/** Hub time the latest ping was sent (the frame carries it). */
const lastPingAt = (sent: { t: string }[]) =>
  Math.max(...sent.filter((f) => f.t === "ping").map((f) => (f as { at?: number }).at ?? 0));

dbTest(
  "[e2e] worker heartbeats: pings at the configured interval, each pong stored; a silent agent is unhealthy after the timeout and let go",
  async (h) => {
    const s = testServices(h, undefined, ENV);
    const org = await s.orgs.create(SYSTEM_CTX, {
      name: "Beat",
      slug: `beat-${crypto.randomUUID().slice(0, 6)}`,
    });
    const agent = await attachTestAgent(s, org.id, "beating");
    try {
      const hello = (await lastSeen(h, agent.host.id))!;
      assert.ok(hello > 0, "the hello is the first heartbeat");
      // Three pings at a 1 s cadence (the default, 30 s, would not get there in this test's time).
      const t0 = Date.now();
      await eventually(
        () => Promise.resolve(agent.sent.filter((f) => f.t === "ping").length >= 3 || undefined),
        "three pings",
        15_000,
      );
      assert.ok(Date.now() - t0 >= 1500, `three pings took ${Date.now() - t0} ms: not 1 s apart`);
      await eventually(
        async () => {
          await s.agents.updatesIdle(agent.host.id);
          return (await lastSeen(h, agent.host.id))! >= lastPingAt(agent.sent) || undefined;
        },
        "the pong of the last ping to be stored",
        15_000,
      );
      const beat = (await lastSeen(h, agent.host.id))!;
      assert.ok(beat > hello, "the agent's pongs move its heartbeat on");
      assert.equal(
        heartbeatOf(beat, Date.now(), s.config.workerHeartbeat.timeoutMs).unhealthy,
        false,
      );
      assert.ok(s.agents.isOnline(agent.host.id));
    } finally {
      await agent.stop();
    }

    // An agent that said hello and then never answers a ping (a hung process, a half-open socket).
    const { host } = await s.hosts.create(
      SYSTEM_CTX,
      org.id,
      { name: "silent" },
    );
    const [hubEnd, agentEnd] = memoryTransportPair();
    const closed = new Promise<number>((r) => agentEnd.onClose((code) => r(code)));
    const attached = s.agents.attach(host, hubEnd);
    agentEnd.send(JSON.stringify(SILENT_HELLO));
    await attached;
    const helloAt = (await lastSeen(h, host.id))!;
    const code = await closed;
    const silentFor = Date.now() - helloAt;
    assert.equal(code, CLOSE.PING_TIMEOUT);
    assert.ok(silentFor >= 3000, `let go after ${silentFor} ms, before the 3 s timeout`);
    assert.ok(silentFor < 15_000, `let go after ${silentFor} ms: not at the configured 3 s`);
    assert.ok(!s.agents.isOnline(host.id));
    await s.agents.updatesIdle(host.id);
    const after = await lastSeen(h, host.id);
    assert.equal(after, helloAt, "closing the connection is no heartbeat");
    assert.equal(heartbeatOf(after, Date.now(), 3000).unhealthy, true);
    s.agents.close();
  },
  { ignore },
);

const SILENT_HELLO: Hello = {
  t: "hello",
  protocol: 1,
  agent_version: "0.1.0",
  machine_id: "machine-test-silent",
  hostname: "silent",
  engine: null,
};
