/**
 * A client that sends HTTP requests to a service without pause from a container on a Docker
 * network and counts the answers, for zero-downtime tests: every request opens a new connection
 * and resolves the name again (busybox `nc`), as a load balancer in front of the service would.
 */
import type { DockerClient } from "../../lib/docker/client.ts";
import { TEST_IMAGE } from "../../lib/docker/testing.ts";

/** Output of a command run in a container (stdout and stderr together). */
export async function execOutput(docker: DockerClient, id: string, cmd: string[]): Promise<string> {
  const { id: execId } = await docker.execCreate(id, { cmd });
  const stream = await docker.execStart(execId);
  const decoder = new TextDecoder();
  let out = "";
  for await (const f of stream) out += decoder.decode(f.data, { stream: true });
  return out + decoder.decode();
}

/** Requests answered with 200 and requests that were not, with when (HH:MM:SS) each failed. */
export interface Counts {
  ok: number;
  bad: number;
  failedAt: string[];
}

/** A running counting client; `stop()` ends it, removes its container and answers the counts. */
export interface CountingClient {
  /** The client's container (for `execOutput`). */
  id: string;
  /** Requests so far (the loop is running). */
  counts(): Promise<Counts>;
  /** One request now, answered with the body's last line (or what went wrong). */
  ask(): Promise<string>;
  stop(): Promise<Counts>;
}

/**
 * Starts the client on `network`, asking `host:port` for `/` until stopped; an answer counts as
 * ok when its first line is `HTTP/1.x 200`.
 */
export async function startCountingClient(
  docker: DockerClient,
  opts: {
    name: string;
    network: string;
    host: string;
    port: number;
    labels: Record<string, string>;
  },
): Promise<CountingClient> {
  const request =
    `printf 'GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' | nc -w 3 ${opts.host} ${opts.port}`;
  // The test image is busybox FROM scratch: it has no /tmp until the client makes one.
  const script = [
    "mkdir -p /tmp",
    "ok=0; bad=0",
    "while [ ! -e /tmp/stop ]; do",
    `  if ${request} 2>/dev/null | head -1 | grep -q ' 200 '; then ok=$((ok+1)); else bad=$((bad+1)); date +%T >> /tmp/failed; fi`,
    '  echo "$ok $bad" > /tmp/counts.new && mv /tmp/counts.new /tmp/counts',
    "done",
    "touch /tmp/done",
    "exec sleep 3600",
  ].join("\n");
  const { id } = await docker.createContainer(opts.name, {
    image: TEST_IMAGE,
    cmd: ["sh", "-c", script],
    labels: opts.labels,
    networkMode: opts.network,
  });
  try {
    await docker.startContainer(id);
  } catch (err) {
    await docker.removeContainer(id, { force: true }).catch(() => {});
    throw err;
  }
  const read = async (): Promise<Counts> => {
    const out = await execOutput(docker, id, [
      "sh",
      "-c",
      "cat /tmp/counts 2>/dev/null; echo; cat /tmp/failed 2>/dev/null",
    ]);
    const [first, ...rest] = out.split("\n");
    const [ok, bad] = first.trim().split(" ").map(Number);
    return { ok: ok || 0, bad: bad || 0, failedAt: rest.map((l) => l.trim()).filter(Boolean) };
  };
  return {
    id,
    counts: read,
    ask: async () =>
      (await execOutput(docker, id, ["sh", "-c", `${request} 2>&1 | tail -1`])).trim(),
    async stop() {
      try {
        await execOutput(docker, id, ["touch", "/tmp/stop"]);
        const until = Date.now() + 20_000;
        while (!(await execOutput(docker, id, ["ls", "/tmp"])).includes("done")) {
          if (Date.now() > until) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        return await read();
      } finally {
        await docker.removeContainer(id, { force: true }).catch(() => {});
      }
    },
  };
}
