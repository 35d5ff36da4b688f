import { DockerError } from "../../lib/docker/client.ts";
import { type HealthCheckSpec, MAX_CHECK_OUTPUT_BYTES } from "../../lib/protocol/health.ts";
import type { ProbeContext, ProbeOutcome } from "./probe.ts";
import { ProbeError } from "./probe.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The text cut to at most `max` UTF-8 bytes. */
export function capText(text: string, max: number): string {
  const bytes = encoder.encode(text);
  return bytes.length <= max ? text : decoder.decode(bytes.subarray(0, max));
}

/** Why the engine refused to run the command, in one line. */
function execError(err: unknown): never {
  if (err instanceof DockerError) {
    if (err.status === 404) throw new ProbeError("container not found");
    if (err.status === 409) throw new ProbeError("container is not running");
    throw new ProbeError(err.message.slice(0, 300));
  }
  throw err;
}

/**
 * Runs the argument array inside the container through the exec API (never a shell, never on
 * the host). Output of stdout and stderr together is kept up to 4 KB (`output_truncated` says
 * when there was more); the rest is read and dropped so the command is not blocked on a full
 * pipe. Ok when the exit code is 0.
 */
export async function commandProbe(
  spec: HealthCheckSpec,
  ctx: ProbeContext,
): Promise<ProbeOutcome> {
  if (!spec.command) throw new ProbeError("command check without a command");
  const started = performance.now();
  const opts = { signal: ctx.signal };
  let execId: string;
  let stream;
  try {
    execId = (await ctx.docker.execCreate(spec.container_id, { cmd: spec.command.argv }, opts)).id;
    stream = await ctx.docker.execStart(execId, opts);
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    execError(err);
  }
  const kept = new Uint8Array(MAX_CHECK_OUTPUT_BYTES);
  let len = 0;
  let total = 0;
  try {
    for await (const f of stream) {
      const take = Math.min(f.data.length, kept.length - len);
      if (take > 0) kept.set(f.data.subarray(0, take), len);
      len += take;
      total += f.data.length;
    }
  } finally {
    await stream.close();
  }
  // The stream ends quietly when the signal fires: that is the timeout, not an exit.
  if (ctx.signal.aborted) throw ctx.signal.reason;
  const response_ms = Math.round((performance.now() - started) * 100) / 100;
  const output = decoder.decode(kept.subarray(0, len));
  const output_truncated = total > len;
  // The exit code is set as the output closes; a short wait covers an engine a beat behind.
  for (let i = 0;; i++) {
    const info = await ctx.docker.execInspect(execId, opts).catch(execError);
    if (!info.Running && info.ExitCode !== null) {
      const ok = info.ExitCode === 0;
      return {
        ok,
        response_ms,
        exit_code: info.ExitCode,
        error: ok ? null : `exit code ${info.ExitCode}`,
        output,
        output_truncated,
      };
    }
    if (i >= 20) {
      throw new ProbeError("the command's exit code did not arrive", { output, output_truncated });
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
