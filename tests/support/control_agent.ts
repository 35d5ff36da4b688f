/**
 * An agent caller backed by the agent's own `createControl` over a local Docker client: the same
 * closed list of operations and validation, without a WebSocket. For tests of hub-side modules
 * that drive Swarm through a manager's agent.
 */
import type { DockerClient } from "../../lib/docker/client.ts";
import { createControl, toWireError } from "../../agent/control.ts";
import type { AgentCaller } from "../../lib/apps/gateway.ts";

/** Calls that fail carry the wire error's status, as the hub's connection would give it. */
export function controlAgent(
  docker: DockerClient,
  options?: Parameters<typeof createControl>[1],
): AgentCaller & { calls: string[] } {
  const control = createControl(docker, options);
  const calls: string[] = [];
  const wire = (err: unknown) => {
    const w = toWireError(err);
    return Object.assign(new Error(w.message), { status: w.status, code: w.code });
  };
  return {
    calls,
    async call<T>(op: string, params: unknown): Promise<T> {
      calls.push(op);
      try {
        return await control.call(op, params) as T;
      } catch (err) {
        throw wire(err);
      }
    },
    stream(op: string, params: unknown) {
      calls.push(op);
      const ac = new AbortController();
      const chunks: unknown[] = [];
      let done = false;
      let failure: unknown;
      let wake: (() => void) | undefined;
      control.stream(op, params, (c) => {
        chunks.push(c);
        wake?.();
      }, ac.signal).catch((e) => failure = wire(e)).finally(() => {
        done = true;
        wake?.();
      });
      return {
        cancel: () => ac.abort(),
        async *[Symbol.asyncIterator]() {
          while (true) {
            if (chunks.length) {
              yield chunks.shift();
              continue;
            }
            if (done) {
              if (failure) throw failure;
              return;
            }
            await new Promise<void>((r) => wake = r);
          }
        },
      };
    },
  };
}
