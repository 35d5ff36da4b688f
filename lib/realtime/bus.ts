/**
 * The event bus under the realtime hub: publish an event on a topic, and every subscriber (on every
 * replica, for the PostgreSQL bus) receives it once. The in-memory bus serves the single-process
 * (SQLite) deployment and tests; `pg_bus.ts` crosses replicas with LISTEN/NOTIFY.
 */

/** A topic-agnostic publish/subscribe channel; the hub filters topics itself. */
export interface Bus {
  /** Sends `data` (JSON-serialisable) on `topic`; resolves once the event is handed to the transport. */
  publish(topic: string, data: unknown): Promise<void>;
  /** Registers a handler for every event; returns the function that removes it. */
  subscribe(handler: (topic: string, data: unknown) => void): () => void;
  /** Stops delivery and releases the transport's resources (not a caller-owned database client). */
  close(): Promise<void>;
}

/** What travels on the wire: `origin` names the publishing bus so logs can tell replicas apart. */
export interface BusEnvelope {
  topic: string;
  data: unknown;
  origin: string;
}

/**
 * PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. The memory bus applies the same limit so a
 * too-large event fails in development on SQLite rather than first in production on PostgreSQL.
 */
export const MAX_EVENT_BYTES = 7999;

const encoder = new TextEncoder();

/** Serialises an envelope, throwing a descriptive Error when it cannot travel through NOTIFY. */
export function encodeEnvelope(envelope: BusEnvelope): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(envelope);
  } catch (error) {
    throw new Error(
      `Cannot publish to "${envelope.topic}": data is not JSON-serialisable (${
        (error as Error).message
      })`,
    );
  }
  // `data: undefined` silently disappears from JSON; the receiver would see a different event.
  if (text === undefined || envelope.data === undefined) {
    throw new Error(`Cannot publish to "${envelope.topic}": data is undefined`);
  }
  const bytes = encoder.encode(text).length;
  if (bytes > MAX_EVENT_BYTES) {
    throw new Error(
      `Cannot publish to "${envelope.topic}": event is ${bytes} bytes encoded, ` +
        `PostgreSQL NOTIFY allows at most ${MAX_EVENT_BYTES}; publish an id and let clients fetch the rest`,
    );
  }
  return text;
}

/** Parses a payload produced by `encodeEnvelope`, or returns null for anything else on the channel. */
export function decodeEnvelope(text: string): BusEnvelope | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { topic, data, origin } = value as Record<string, unknown>;
  if (typeof topic !== "string" || typeof origin !== "string" || data === undefined) return null;
  return { topic, data, origin };
}

/** Options shared by the bus implementations. */
export interface BusOptions {
  /** Where a throwing handler or a foreign payload is reported; one bad handler must not starve the rest. */
  onError?: (error: unknown) => void;
}

/** Creates an in-process bus: every subscriber gets each event once, in publish order. */
export function createMemoryBus(options: BusOptions = {}): Bus {
  const onError = options.onError ?? ((error) => console.error("realtime bus:", error));
  const origin = `memory-${crypto.randomUUID()}`;
  const handlers = new Set<(topic: string, data: unknown) => void>();
  // A handler that publishes would otherwise deliver its event to later handlers before the event
  // they are still waiting for; draining one FIFO keeps a single global order, as NOTIFY does.
  const pending: BusEnvelope[] = [];
  let delivering = false;
  let closed = false;

  function drain() {
    if (delivering) return;
    delivering = true;
    try {
      while (pending.length > 0 && !closed) {
        const event = pending.shift()!;
        for (const handler of [...handlers]) {
          if (!handlers.has(handler)) continue; // unsubscribed by an earlier handler of this event
          try {
            handler(event.topic, event.data);
          } catch (error) {
            onError(error);
          }
        }
      }
    } finally {
      delivering = false;
    }
  }

  return {
    publish(topic, data) {
      if (closed) return Promise.reject(new Error(`Cannot publish to "${topic}": bus is closed`));
      try {
        // The round trip gives subscribers their own copy, exactly like the PostgreSQL bus would.
        const envelope = decodeEnvelope(encodeEnvelope({ topic, data, origin }))!;
        pending.push(envelope);
      } catch (error) {
        return Promise.reject(error);
      }
      drain();
      return Promise.resolve();
    },
    subscribe(handler) {
      if (closed) return () => {};
      handlers.add(handler);
      return () => {
        handlers.delete(handler);
      };
    },
    close() {
      closed = true;
      handlers.clear();
      pending.length = 0;
      return Promise.resolve();
    },
  };
}
