import type { DockerClient } from "../../lib/docker/client.ts";

/** Runs `cmd` in a container the way `docker exec` does, waits for it to end, returns its exit code. */
export async function dockerExec(docker: DockerClient, id: string, cmd: string[]): Promise<number> {
  const { id: execId } = await docker.execCreate(id, { cmd });
  const stream = await docker.execStart(execId);
  for await (const _ of stream) {
    // Drain the output; the exec ends when its stream does.
  }
  const until = Date.now() + 15_000;
  for (;;) {
    const state = await docker.execInspect(execId);
    if (!state.Running) return state.ExitCode ?? -1;
    if (Date.now() > until) throw new Error("exec did not finish within 15 s");
    await new Promise((r) => setTimeout(r, 50));
  }
}
