/**
 * An image pull through a host's agent as a stream of progress events, audited once at the end
 * with its outcome and duration. The pull is cancelled when the consumer goes away (a closed
 * browser tab should not keep a registry download running unseen) or after a time limit.
 */
import type { AgentStream } from "../agents/connection.ts";
import { Unavailable } from "../errors.ts";
import type { DockerCaller } from "./docker_actions.ts";
import { type PullEvent, pullEvent } from "./docker_views.ts";
import { type OperateDeps, validOp } from "./operate.ts";
import { assertMayPull, type RegistryResolver } from "./pull_policy.ts";

/** Longest a pull may run before it is cancelled. */
export const PULL_TIMEOUT_MS = 30 * 60_000;

/** A running pull: iterate `events` (ends with `done` or `error`); `cancel()` stops it. */
export interface PullHandle {
  events: AsyncIterable<PullEvent>;
  cancel(): void;
}

/**
 * The last event of a failed pull. The agent connection's errors carry the HTTP-style status the
 * API gives them; the pull's own time limit reads like the connection's timeouts (503).
 */
function errorEvent(err: unknown): Extract<PullEvent, { type: "error" }> {
  if (err instanceof PullTimeout) {
    return { type: "error", status: 503, code: err.code, message: err.message };
  }
  const { status, code } = err as { status?: unknown; code?: unknown };
  if (err instanceof Error && typeof status === "number" && typeof code === "string") {
    return { type: "error", status, code, message: err.message };
  }
  return { type: "error", status: 500, code: "internal", message: String(err) };
}

/** A pull that ran past its time limit and was cancelled. */
class PullTimeout extends Unavailable {
  constructor(ref: string, timeoutMs: number) {
    super(`Pull of ${ref} did not finish within ${timeoutMs / 60_000} min`, "timeout");
  }
}

/**
 * Starts pulling `ref` on a host. Bad input (400), a registry the caller may not use (403, see
 * pull_policy.ts), a host of another organization (404) and an offline host (503, audited) are
 * thrown before any event; everything after is an event.
 */
export async function startPull(
  deps: OperateDeps,
  caller: DockerCaller,
  hostId: string,
  ref: string,
  opts: { timeoutMs?: number; resolve?: RegistryResolver } = {},
): Promise<PullHandle> {
  const params = validOp("image.pull", { ref });
  await assertMayPull(caller, ref, opts.resolve);
  const host = await deps.hosts.get(caller.orgId, hostId);
  const outcome = Promise.withResolvers<void>();
  const audited = deps.audit.run(caller.ctx, "image.pulled", {
    orgId: caller.orgId,
    target: { type: "image", name: ref },
    metadata: { host_id: host.id, host_name: host.name },
  }, () => outcome.promise);
  // The consumer hears about failures from the events; the audit promise only records them.
  audited.catch(() => {});
  let stream: AgentStream;
  try {
    stream = deps.agents.require(host.id).stream("image.pull", params);
  } catch (err) {
    outcome.reject(err);
    await audited.catch(() => {});
    throw err;
  }

  let stop: "cancelled" | "timeout" | undefined;
  let settled = false;
  const settle = async (err?: unknown) => {
    if (settled) return;
    settled = true;
    if (err === undefined) outcome.resolve();
    else outcome.reject(err);
    await audited.catch(() => {});
  };
  const timeoutMs = opts.timeoutMs ?? PULL_TIMEOUT_MS;

  async function* events(): AsyncGenerator<PullEvent> {
    const timer = setTimeout(() => {
      stop ??= "timeout";
      stream.cancel();
    }, timeoutMs);
    try {
      let last: string | undefined;
      for await (const chunk of stream) {
        const e = pullEvent(chunk);
        if (!e) continue;
        if (e.type === "progress" && !e.id) last = e.status;
        yield e;
      }
      if (stop === "timeout") throw new PullTimeout(ref, timeoutMs);
      if (stop === "cancelled") throw new Error(`Pull of ${ref} cancelled: the client went away`);
      await settle();
      yield { type: "done", ref, ...(last ? { status: last } : {}) };
    } catch (err) {
      await settle(err);
      yield errorEvent(err);
    } finally {
      clearTimeout(timer);
      stream.cancel();
      await settle(new Error(`Pull of ${ref} cancelled: the client went away`));
    }
  }

  return {
    events: events(),
    cancel() {
      stop ??= "cancelled";
      stream.cancel();
    },
  };
}
