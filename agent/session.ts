import type { DockerClient } from "../lib/docker/client.ts";
import type { Transport } from "../lib/protocol/transport.ts";
import {
  AgentMessage,
  type Hello,
  HubMessage,
  parseFrame,
  PROTOCOL_VERSION,
} from "../lib/protocol/messages.ts";
import { containerState, type Control, toWireError } from "./control.ts";
import { isStreamOp } from "../lib/protocol/ops.ts";
import { UPDATE_CHECK_OP } from "../lib/protocol/release.ts";
import type { Logger } from "../lib/log.ts";

/** Outgoing bytes waiting in the socket above which streamed chunks are dropped (counted, not buffered). */
const STREAM_HIGH_WATER = 4 * 1024 * 1024;
/** At most this many streams at once per connection; more are refused, never queued. */
const MAX_STREAMS = 64;

/** Agent facts for the hello message. */
export async function engineFacts(docker: DockerClient): Promise<Hello["engine"]> {
  try {
    const [info, version] = await Promise.all([docker.info(), docker.version()]);
    return {
      docker_version: version.Version,
      api_version: version.ApiVersion,
      os: info.OperatingSystem,
      kernel: info.KernelVersion,
      arch: info.Architecture,
      cpus: info.NCPU,
      memory_bytes: info.MemTotal,
      containers_running: info.ContainersRunning,
      containers_total: info.Containers,
      images: info.Images,
      storage_driver: info.Driver,
      docker_root_dir: info.DockerRootDir ?? "",
      name: info.Name,
    };
  } catch {
    return null;
  }
}

/**
 * What the container list must show after an event. The engine emits some events (`die` after a
 * kill) just before it updates the view its list is served from, so a read at once can still say
 * "running"; reading again shortly after gets the settled state.
 */
const SETTLED: Record<string, (state: string) => boolean> = {
  die: (s) => s !== "running",
  stop: (s) => s !== "running",
  start: (s) => s !== "created",
  pause: (s) => s === "paused",
  unpause: (s) => s !== "paused",
};

/** The container's state after an event, re-read briefly (≤ 500 ms) until the list caught up. */
async function settledState(docker: DockerClient, id: string, action: string) {
  const settled = SETTLED[action];
  for (let attempt = 0;; attempt++) {
    const found = await docker.listContainers({ all: true, filters: { id: [id] } }).catch(() => []);
    const c = found[0] ? containerState(found[0]) : undefined;
    if (!c || !settled || settled(c.state) || attempt >= 10) return c;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface SessionOptions {
  docker: DockerClient;
  control: Control;
  agentVersion: string;
  machineId: string;
  hostname: string;
  log: Logger;
  /** Nanosecond time of the last engine event the hub has seen, to resume from after a reconnect. */
  since?: number;
  /** Backoff before re-following engine events after the stream broke. */
  eventRetryMs?: number;
  /**
   * Stores a rotated host token (atomically, 0600) before the agent confirms it. Without it (the
   * embedded agent has no token) a rotation is answered as not stored.
   */
  onRotate?(token: string): Promise<void>;
  /** Answers the hub's `agent.update_check` (agent/update); absent, the op is unknown here. */
  onUpdateCheck?(): unknown;
}

/** How long a closed session waits for its engine calls in flight to settle before it resolves. */
const SETTLE_MS = 2000;

/**
 * Speaks the agent side of the protocol over one open transport until it closes: hello, a
 * container snapshot, engine events as they happen, and the hub's calls and streams. Resolves with
 * the last event time seen, so the next session resumes from there.
 */
export function runAgentSession(
  t: Transport,
  o: SessionOptions,
): Promise<{ lastEventNano?: number }> {
  const streams = new Map<number, AbortController>();
  const stop = new AbortController();
  let lastEventNano = o.since;
  const send = (m: AgentMessage) => t.send(JSON.stringify(m));

  async function snapshot() {
    const [list, engine] = await Promise.all([
      o.docker.listContainers({ all: true }),
      engineFacts(o.docker),
    ]);
    send({ t: "snapshot", containers: list.map(containerState), engine });
  }

  /** Follows engine events; after any break it resumes from the last event and reconciles with a snapshot. */
  async function followEvents() {
    let first = true;
    while (!stop.signal.aborted) {
      try {
        const since = lastEventNano ? (lastEventNano / 1e9).toFixed(9) : undefined;
        const events = await o.docker.events({
          since: first ? undefined : since,
          filters: { type: ["container"] },
          signal: stop.signal,
        });
        stop.signal.addEventListener("abort", () => void events.close(), { once: true });
        // Snapshot after the event stream is open, so no change falls between the two.
        await snapshot();
        first = false;
        for await (const e of events) {
          lastEventNano = e.timeNano;
          let container;
          if (!e.Action.startsWith("exec_") && e.Action !== "destroy") {
            container = await settledState(o.docker, e.Actor.ID, e.Action.split(":")[0]);
          }
          send({
            t: "event",
            event: {
              type: e.Type,
              action: e.Action.split(":")[0].slice(0, 64),
              id: e.Actor.ID,
              name: e.Actor.Attributes?.name,
              time_nano: e.timeNano,
              container,
            },
          });
        }
      } catch (err) {
        if (stop.signal.aborted) break;
        o.log.warn("engine events broke; resuming", { error: String(err) });
      }
      if (!stop.signal.aborted) await new Promise((r) => setTimeout(r, o.eventRetryMs ?? 1000));
    }
  }

  async function runStream(id: number, op: string, params: unknown) {
    if (streams.size >= MAX_STREAMS) {
      send({
        t: "end",
        id,
        error: { status: 429, code: "too_many_streams", message: "Too many streams on this agent" },
      });
      return;
    }
    const ac = new AbortController();
    streams.set(id, ac);
    let dropped = 0;
    try {
      await o.control.stream(op, params, (data) => {
        if (t.bufferedAmount > STREAM_HIGH_WATER) {
          dropped++;
          return;
        }
        if (dropped) {
          send({ t: "chunk", id, data: { dropped } });
          dropped = 0;
        }
        send({ t: "chunk", id, data });
      }, ac.signal);
      if (!ac.signal.aborted) send({ t: "end", id });
    } catch (err) {
      if (!ac.signal.aborted) send({ t: "end", id, error: toWireError(err) });
    } finally {
      streams.delete(id);
    }
  }

  async function runCall(id: number, op: string, params: unknown) {
    try {
      const data = op === UPDATE_CHECK_OP && o.onUpdateCheck
        ? o.onUpdateCheck()
        : await o.control.call(op, params);
      send({ t: "result", id, ok: true, data: data ?? null });
    } catch (err) {
      send({ t: "result", id, ok: false, error: toWireError(err) });
    }
  }

  return new Promise((resolve) => {
    t.onMessage((text) => {
      const m = parseFrame(HubMessage, text);
      if (!m) return void t.close(1007, "invalid frame");
      if (m.t === "ping") send({ t: "pong", at: m.at });
      else if (m.t === "cancel") streams.get(m.id)?.abort();
      else if (m.t === "rotate") {
        const store = o.onRotate ? o.onRotate(m.token) : Promise.reject(new Error("no token"));
        store.then(() => send({ t: "rotated", ok: true }), (err) => {
          o.log.error("could not store the rotated host token", { error: String(err) });
          send({ t: "rotated", ok: false });
        });
      } else if (m.t === "call") {
        if (isStreamOp(m.op)) {
          runStream(m.id, m.op, m.params);
        } else runCall(m.id, m.op, m.params);
      }
    });
    t.onClose(() => {
      stop.abort();
      for (const ac of streams.values()) ac.abort();
      // Resolve once the event loop has let go of the engine (bounded: a hung engine must not
      // hold up a reconnect), so whoever closes the Docker client next closes an idle one.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = new Promise<void>((r) => (timer = setTimeout(r, SETTLE_MS)));
      Promise.race([background, settle]).then(() => {
        clearTimeout(timer);
        resolve({ lastEventNano });
      });
    });
    const background = (async () => {
      send({
        t: "hello",
        protocol: PROTOCOL_VERSION,
        agent_version: o.agentVersion,
        machine_id: o.machineId,
        hostname: o.hostname,
        restic_version: await o.control.resticVersion(),
        engine: await engineFacts(o.docker),
      });
      await followEvents();
    })().catch((err) => o.log.error("agent session failed", { error: String(err) }));
  });
}
