import type { HealthCheckSpec } from "../../lib/protocol/health.ts";
import {
  guardHost,
  networkError,
  type ProbeContext,
  ProbeError,
  type ProbeOutcome,
  raceAbort,
} from "./probe.ts";

/** A TCP connect to the container's port; the connection is closed at once. */
export async function tcpProbe(spec: HealthCheckSpec, ctx: ProbeContext): Promise<ProbeOutcome> {
  if (!spec.tcp) throw new ProbeError("tcp check without tcp settings");
  const hostname = await ctx.targets.address(spec.container_id, ctx.signal);
  await guardHost(hostname);
  const started = performance.now();
  let conn: Deno.TcpConn;
  try {
    // Deno.connect takes no signal: a connect that completes after the timeout is closed then.
    conn = await raceAbort(
      Deno.connect({ hostname, port: spec.tcp.port }),
      ctx.signal,
      (c) => c.close(),
    );
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw new ProbeError(networkError(err));
  }
  const response_ms = Math.round((performance.now() - started) * 100) / 100;
  conn.close();
  return { ok: true, response_ms, error: null };
}
