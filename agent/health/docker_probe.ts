import { DockerError } from "../../lib/docker/client.ts";
import { type HealthCheckSpec, MAX_CHECK_OUTPUT_BYTES } from "../../lib/protocol/health.ts";
import type { ProbeContext, ProbeOutcome } from "./probe.ts";
import { ProbeError } from "./probe.ts";
import { capText } from "./command_probe.ts";

/**
 * The container's own HEALTHCHECK as the engine last judged it: healthy is ok; starting and
 * unhealthy are not, with the engine's last check output and exit code alongside.
 */
export async function dockerProbe(spec: HealthCheckSpec, ctx: ProbeContext): Promise<ProbeOutcome> {
  let c;
  try {
    c = await ctx.docker.inspectContainer(spec.container_id, { signal: ctx.signal });
  } catch (err) {
    if (err instanceof DockerError && err.status === 404) {
      throw new ProbeError("container not found");
    }
    throw err;
  }
  if (!c.State.Running) throw new ProbeError("container is not running");
  const health = c.State.Health;
  if (!health || health.Status === "none") throw new ProbeError("container has no HEALTHCHECK");
  const last = health.Log?.at(-1);
  const took = last ? Date.parse(last.End) - Date.parse(last.Start) : NaN;
  const ok = health.Status === "healthy";
  const output = last ? capText(last.Output, MAX_CHECK_OUTPUT_BYTES) : null;
  return {
    ok,
    response_ms: Number.isFinite(took) && took >= 0 ? took : null,
    exit_code: last?.ExitCode ?? null,
    error: ok ? null : health.Status.slice(0, 100),
    output,
    output_truncated: last !== undefined && output !== last.Output,
  };
}
