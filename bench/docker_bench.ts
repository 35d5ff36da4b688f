/**
 * Docker figures of `deno task bench`: listing 200 containers through a real agent connection, and
 * one stats snapshot of 50 running containers against `docker stats --no-stream` in the same run.
 */
import { createDockerClient } from "../lib/docker/client.ts";
import { cleanupSuite, TEST_IMAGE, testLabels } from "../lib/docker/testing.ts";
import { webSocketTransport } from "../lib/protocol/transport.ts";
import { AgentConnection } from "../lib/agents/connection.ts";
import { createControl } from "../agent/control.ts";
import { runAgentSession } from "../agent/session.ts";
import { silentLogger } from "../lib/log.ts";

const SUITE = "bench";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Runs the Docker benchmarks and reports figures through `record`. */
export async function dockerBench(record: (name: string, value: number) => void): Promise<void> {
  const docker = createDockerClient();
  const { promise: agentSocket, resolve } = Promise.withResolvers<WebSocket>();
  // The hub's end of a real WebSocket: the agent dials in exactly as a remote one would.
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    resolve(socket);
    return response;
  });
  const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
  await new Promise((r) => ws.addEventListener("open", r, { once: true }));
  const hubSocket = await agentSocket;
  if (hubSocket.readyState !== WebSocket.OPEN) {
    await new Promise((r) => hubSocket.addEventListener("open", r, { once: true }));
  }
  const conn = new AgentConnection(webSocketTransport(hubSocket));
  const session = runAgentSession(webSocketTransport(ws), {
    docker,
    control: createControl(docker),
    agentVersion: "bench",
    machineId: "bench-machine-0001",
    hostname: "bench",
    log: silentLogger,
  });
  await conn.hello;
  try {
    await cleanupSuite(docker, SUITE);
    const created: string[] = [];
    for (let i = 0; i < 200; i++) {
      const { id } = await docker.createContainer(
        `capstan-bench-${i}-${crypto.randomUUID().slice(0, 6)}`,
        {
          image: TEST_IMAGE,
          cmd: ["sleep", "3600"],
          labels: testLabels(SUITE),
        },
      );
      created.push(id);
    }
    const listTimes: number[] = [];
    for (let i = 0; i < 30; i++) {
      listTimes.push(
        await timed(async () => {
          const list = await conn.call<unknown[]>("containers.list", { all: true });
          if (list.length < 200) throw new Error(`listed ${list.length}`);
        }),
      );
    }
    record("containers_list_200_ms", median(listTimes));

    const running = created.slice(0, 50);
    for (const id of running) await docker.startContainer(id);
    await conn.call("containers.stats_snapshot", { ids: running }); // warm the pid cache
    const ours: number[] = [];
    for (let i = 0; i < 5; i++) {
      ours.push(
        await timed(async () => {
          const snaps = await conn.call<unknown[]>("containers.stats_snapshot", { ids: running });
          if (snaps.length !== 50) throw new Error(`snapshot of ${snaps.length}`);
        }),
      );
    }
    const cli: number[] = [];
    for (let i = 0; i < 3; i++) {
      cli.push(
        await timed(async () => {
          const out = await new Deno.Command("docker", {
            args: [
              "stats",
              "--no-stream",
              "--format",
              "{{.ID}} {{.CPUPerc}} {{.MemUsage}}",
              ...running,
            ],
            stdout: "piped",
            stderr: "piped",
          }).output();
          if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
        }),
      );
    }
    record("stats_50_ours_ms", median(ours));
    record("stats_50_docker_cli_ms", median(cli));
    record("stats_50_vs_docker_cli", median(ours) / median(cli));
  } finally {
    conn.close();
    await session;
    await server.shutdown();
    await cleanupSuite(docker, SUITE);
    docker.close();
  }
}
