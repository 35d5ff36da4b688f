import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The agent as a subprocess, its output kept for assertions and failure messages. */
export function spawnAgent(env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "agent/main.ts"],
    cwd: ROOT,
    env: { CAPSTAN_AGENT_LOG_LEVEL: "debug", NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const drain = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) output += dec.decode(chunk, { stream: true });
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then(async (s) => {
    await drained;
    exited = s;
    return s;
  });
  return {
    child,
    status,
    output: () => output,
    exited: () => exited,
    async stop() {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already gone.
        }
      }
      // A clean stop takes well under a second; a hung agent must not hang the suite.
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Gone meanwhile.
        }
      }, 10_000);
      try {
        return await status;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
