import type { Transport } from "../protocol/transport.ts";
import {
  AgentMessage,
  type Hello,
  type HubMessage,
  parseFrame,
  type WireError,
} from "../protocol/messages.ts";
import { type OpName, parseOpParams } from "../protocol/ops.ts";
import { HttpError, validationError } from "../http/errors.ts";

/** Calls waiting for an answer per connection; more are refused (503) rather than queued. */
const MAX_PENDING = 1000;
const DEFAULT_TIMEOUT_MS = 60_000;

/** Maps an agent's wire error to the hub's one error type. */
export function fromWireError(e: WireError): HttpError {
  const status = ([400, 403, 404, 409, 429] as const).find((s) => s === e.status) ??
    (e.status === 504 ? 503 : 500);
  const err = new HttpError(
    status as HttpError["status"],
    e.code,
    e.message,
    e.field ? { [e.field]: e.message } : undefined,
  );
  return err;
}

type EventMsg = Extract<AgentMessage, { t: "event" }>;
type SnapshotMsg = Extract<AgentMessage, { t: "snapshot" }>;
type HealthMsg = Extract<AgentMessage, { t: "health" }>;

/** A stream of chunks from the agent; `cancel()` tells the agent to stop. */
export interface AgentStream extends AsyncIterable<unknown> {
  cancel(): void;
}

export interface ConnectionHandlers {
  onEvent?(m: EventMsg["event"]): void;
  onSnapshot?(m: SnapshotMsg): void;
  /** Health check results (lib/protocol/health.ts). */
  onHealth?(results: HealthMsg["results"]): void;
  /** The agent answered a ping: its heartbeat. */
  onPong?(): void;
  onClose?(code: number, reason: string): void;
}

/**
 * The hub's end of one agent connection: typed calls with timeouts, streams with cancellation,
 * and the agent's events and snapshots handed to `handlers`.
 */
export class AgentConnection {
  #next = 1;
  #calls = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; timer: ReturnType<typeof setTimeout> }
  >();
  #streams = new Map<number, { push(v: unknown): void; end(e?: Error): void }>();
  #closed = false;
  readonly hello: Promise<Hello>;
  lastPongAt = Date.now();
  #rotation: ((ok: boolean) => void) | undefined;

  constructor(readonly transport: Transport, private handlers: ConnectionHandlers = {}) {
    let gotHello: (h: Hello) => void;
    let noHello: (e: Error) => void;
    this.hello = new Promise((res, rej) => {
      gotHello = res;
      noHello = rej;
    });
    this.hello.catch(() => {});
    transport.onMessage((text) => {
      const m = parseFrame(AgentMessage, text);
      if (!m) return void transport.close(1007, "invalid frame");
      switch (m.t) {
        case "hello":
          return gotHello(m);
        case "result": {
          const c = this.#calls.get(m.id);
          if (!c) return;
          this.#calls.delete(m.id);
          clearTimeout(c.timer);
          return m.ok ? c.resolve(m.data) : c.reject(
            fromWireError(
              m.error ??
                {
                  status: 500,
                  code: "agent_error",
                  message: "Agent reported an error without details",
                },
            ),
          );
        }
        case "chunk":
          return this.#streams.get(m.id)?.push(m.data);
        case "end": {
          const s = this.#streams.get(m.id);
          this.#streams.delete(m.id);
          return s?.end(m.error ? fromWireError(m.error) : undefined);
        }
        case "event":
          return this.handlers.onEvent?.(m.event);
        case "snapshot":
          return this.handlers.onSnapshot?.(m);
        case "health":
          return this.handlers.onHealth?.(m.results);
        case "pong":
          this.lastPongAt = Date.now();
          return this.handlers.onPong?.();
        case "rotated":
          this.#rotation?.(m.ok);
          this.#rotation = undefined;
          return;
      }
    });
    transport.onClose((code, reason) => {
      this.#closed = true;
      noHello(new Error("closed before hello"));
      this.#rotation?.(false);
      this.#rotation = undefined;
      const gone = new HttpError(503, "host_offline", "The host's agent disconnected");
      for (const c of this.#calls.values()) {
        clearTimeout(c.timer);
        c.reject(gone);
      }
      this.#calls.clear();
      for (const s of this.#streams.values()) s.end(gone);
      this.#streams.clear();
      this.handlers.onClose?.(code, reason);
    });
  }

  /** Replaces the handlers (set once the host is known). */
  setHandlers(h: ConnectionHandlers): void {
    this.handlers = h;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #send(m: HubMessage): void {
    this.transport.send(JSON.stringify(m));
  }

  /** Validates params against the operation's schema (400 naming the field) before anything is sent. */
  #validate(op: OpName, params: unknown): unknown {
    const r = parseOpParams(op, params);
    if (!r) throw new HttpError(400, "unknown_op", `Unknown operation "${op}"`);
    if (!r.success) throw validationError(r.error);
    return r.data;
  }

  /** Runs a one-shot operation on the agent. */
  async call<T = unknown>(op: OpName, params: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
    const valid = this.#validate(op, params);
    if (this.#closed) {
      return Promise.reject(
        new HttpError(503, "host_offline", "The host's agent is not connected"),
      );
    }
    if (this.#calls.size >= MAX_PENDING) {
      return Promise.reject(
        new HttpError(503, "busy", "Too many operations in flight for this host"),
      );
    }
    const id = this.#next++;
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#calls.delete(id);
        reject(
          new HttpError(
            503,
            "timeout",
            `The agent did not answer ${op} within ${timeoutMs / 1000} s`,
          ),
        );
      }, timeoutMs);
      this.#calls.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.#send({ t: "call", id, op, params: valid });
    });
  }

  /** Streams open on this connection (a viewer that went away must leave none behind). */
  get openStreams(): number {
    return this.#streams.size;
  }

  /** Starts a streaming operation; chunks are buffered up to `maxBuffered`, beyond which the stream is cancelled. */
  stream(op: OpName, params: unknown, maxBuffered = 10_000): AgentStream {
    const valid = this.#validate(op, params);
    if (this.#closed) throw new HttpError(503, "host_offline", "The host's agent is not connected");
    const id = this.#next++;
    const buffer: unknown[] = [];
    let done = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const cancel = () => {
      if (done) return;
      done = true;
      this.#streams.delete(id);
      if (!this.#closed) this.#send({ t: "cancel", id });
      wake?.();
    };
    this.#streams.set(id, {
      push: (v) => {
        if (buffer.length >= maxBuffered) {
          failure = new HttpError(503, "overflow", "Stream consumer fell behind");
          return cancel();
        }
        buffer.push(v);
        wake?.();
      },
      end: (e) => {
        done = true;
        failure = e;
        wake?.();
      },
    });
    this.#send({ t: "call", id, op, params: valid });
    return {
      cancel,
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            while (buffer.length) yield buffer.shift();
            if (done) break;
            await new Promise<void>((r) => (wake = r));
            wake = undefined;
          }
          if (failure) throw failure;
        } finally {
          cancel();
        }
      },
    };
  }

  /** Sends a new host token to the agent; resolves with whether it confirmed storing it in time. */
  rotate(token: string, timeoutMs = 10_000): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    this.#rotation?.(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      this.#rotation = done;
      this.#send({ t: "rotate", token });
    });
  }

  /** Sends a ping; the agent's pong updates `lastPongAt`. */
  ping(): void {
    if (!this.#closed) this.#send({ t: "ping", at: Date.now() });
  }

  close(code = 1000, reason = ""): void {
    this.transport.close(code, reason);
  }
}
