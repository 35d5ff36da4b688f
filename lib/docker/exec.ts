import { type CallOptions, type DockerStream, enc, type EngineTransport } from "./transport.ts";
import { argv, envList } from "./inputs.ts";
import { containerRef, DockerInputError } from "./validate.ts";
import { type Frame, frames } from "./streams.ts";
import type { ExecInspect } from "./types.ts";

const EXEC_ID_RE = /^[a-f0-9]{64}$/;

/** A command to run inside a running container (exec); an argument array, never a shell line. */
export interface ExecSpec {
  cmd: string[];
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
}

/** Exec calls: run a command in a running container and read its output and exit code. */
export interface ExecApi {
  /** Sets up a command in a running container (not started); 409 when it is not running. */
  execCreate(id: string, spec: ExecSpec, opts?: CallOptions): Promise<{ id: string }>;
  /**
   * Starts an exec instance and streams its output as demultiplexed frame pieces until the
   * command exits; closing the stream (or the signal) drops the connection, not the command.
   */
  execStart(execId: string, opts?: CallOptions): Promise<DockerStream<Frame>>;
  /** An exec instance's state and exit code. */
  execInspect(execId: string, opts?: CallOptions): Promise<ExecInspect>;
}

function execId(id: unknown): string {
  if (typeof id !== "string" || !EXEC_ID_RE.test(id)) {
    throw new DockerInputError("execId", "Invalid exec id: must be 64 hex characters");
  }
  return id;
}

/** The exec calls over one transport. */
export function execApi(t: EngineTransport): ExecApi {
  return {
    async execCreate(id, spec, opts = {}) {
      const ref = containerRef(id);
      const r = await t.json<{ Id: string }>({
        method: "POST",
        path: `/containers/${enc(ref)}/exec`,
        body: {
          AttachStdin: false,
          AttachStdout: true,
          AttachStderr: true,
          Tty: false,
          Cmd: argv(spec.cmd, "cmd"),
          Env: envList(spec.env),
          User: spec.user,
          WorkingDir: spec.workingDir,
        },
        signal: opts.signal,
      });
      return { id: r.Id };
    },
    // Without a TTY the output is multiplexed exactly like logs, so the same demuxer reads it.
    execStart: async (id, opts = {}) =>
      await t.stream(
        {
          method: "POST",
          path: `/exec/${enc(execId(id))}/start`,
          body: { Detach: false, Tty: false },
          signal: opts.signal,
        },
        frames,
      ),
    execInspect: async (id, opts = {}) =>
      await t.json({ method: "GET", path: `/exec/${enc(execId(id))}/json`, signal: opts.signal }),
  };
}
