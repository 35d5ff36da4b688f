/**
 * The event bus under the realtime hub: publish an event on a topic, and every subscriber (on every
 * replica, for the PostgreSQL bus) receives it once. The in-memory bus serves the single-process
 * (SQLite) deployment and tests; `pg_bus.ts` crosses replicas with LISTEN/NOTIFY.
 */

/**
 * Receives every event: its topic, its data (parsed; a copy per event, shared by the handlers) and
 * the data's JSON text exactly as it was published, so a consumer that forwards the event (the
 * realtime hub's fan-out) never encodes it again.
 */
export type BusHandler = (topic: string, data: unknown, json: string) => void;

/** A topic-agnostic publish/subscribe channel; the hub filters topics itself. */
export interface Bus {
  /** Sends `data` (JSON-serialisable) on `topic`; resolves once the event is handed to the transport. */
  publish(topic: string, data: unknown): Promise<void>;
  /** Like `publish`, for data already encoded as JSON text (see `encodeData`): it is not re-encoded. */
  publishJson(topic: string, json: string): Promise<void>;
  /** Registers a handler for every event; returns the function that removes it. */
  subscribe(handler: BusHandler): () => void;
  /** Stops delivery and releases the transport's resources (not a caller-owned database client). */
  close(): Promise<void>;
}

/** What travels on the wire: `origin` names the publishing bus so logs can tell replicas apart. */
export interface BusEnvelope {
  topic: string;
  data: unknown;
  origin: string;
}

/** An envelope as received: the data as parsed and as the JSON text it travelled as. */
export interface BusEvent extends BusEnvelope {
  json: string;
}

/**
 * PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. The memory bus applies the same limit so a
 * too-large event fails in development on SQLite rather than first in production on PostgreSQL.
 */
export const MAX_EVENT_BYTES = 7999;

const encoder = new TextEncoder();

/** Encodes event data once, throwing a descriptive Error for data JSON cannot carry unchanged. */
export function encodeData(topic: string, data: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch (error) {
    throw new Error(
      `Cannot publish to "${topic}": data is not JSON-serialisable (${(error as Error).message})`,
    );
  }
  // `data: undefined` silently disappears from JSON; the receiver would see a different event.
  if (json === undefined || data === undefined) {
    throw new Error(`Cannot publish to "${topic}": data is undefined`);
  }
  return json;
}

// The data goes last, so a receiver finds its JSON text as the envelope's tail (see decodeEvent).
function envelopeHead(topic: string, origin: string): string {
  return `{"topic":${JSON.stringify(topic)},"origin":${JSON.stringify(origin)},"data":`;
}

/**
 * Wraps already-encoded data in an envelope (by concatenation: the data is not re-encoded),
 * throwing a descriptive Error when it cannot travel through NOTIFY.
 */
export function encodeJsonEnvelope(topic: string, origin: string, json: string): string {
  const text = envelopeHead(topic, origin) + json + "}";
  // Every UTF-16 unit is one to three UTF-8 bytes: most events need no encoding to be measured.
  if (text.length * 3 <= MAX_EVENT_BYTES) return text;
  const bytes = encoder.encode(text).length;
  if (bytes > MAX_EVENT_BYTES) {
    throw new Error(
      `Cannot publish to "${topic}": event is ${bytes} bytes encoded, ` +
        `PostgreSQL NOTIFY allows at most ${MAX_EVENT_BYTES}; publish an id and let clients fetch the rest`,
    );
  }
  return text;
}

/** Serialises an envelope, throwing a descriptive Error when it cannot travel through NOTIFY. */
export function encodeEnvelope(envelope: BusEnvelope): string {
  return encodeJsonEnvelope(
    envelope.topic,
    envelope.origin,
    encodeData(envelope.topic, envelope.data),
  );
}

/**
 * Parses a payload produced by `encodeJsonEnvelope`, or returns null for anything else on the
 * channel. The data's JSON text is the envelope's tail when the envelope has our layout; an
 * envelope of another layout (still valid) has its data encoded afresh.
 */
export function decodeEvent(text: string): BusEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const { topic, data, origin } = value as Record<string, unknown>;
  if (typeof topic !== "string" || typeof origin !== "string" || data === undefined) return null;
  // Three keys, the first two as we write them: what follows "data": up to the closing brace is
  // the data's own text (a duplicate "data" key after it parses the same on the far end too).
  const head = envelopeHead(topic, origin);
  const ours = Object.keys(value).length === 3 && text.startsWith(head) && text.endsWith("}");
  const json = ours ? text.slice(head.length, -1) : JSON.stringify(data);
  return { topic, data, origin, json };
}

/** Parses a payload produced by `encodeEnvelope`, or returns null for anything else on the channel. */
export function decodeEnvelope(text: string): BusEnvelope | null {
  const event = decodeEvent(text);
  return event && { topic: event.topic, data: event.data, origin: event.origin };
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
  const handlers = new Set<BusHandler>();
  // A handler that publishes would otherwise deliver its event to later handlers before the event
  // they are still waiting for; draining one FIFO keeps a single global order, as NOTIFY does.
  const pending: { topic: string; json: string }[] = [];
  let delivering = false;
  let closed = false;

  function drain() {
    if (delivering) return;
    delivering = true;
    try {
      while (pending.length > 0 && !closed) {
        const event = pending.shift()!;
        let data: unknown;
        try {
          // Parsing gives subscribers their own copy, exactly like the PostgreSQL bus would.
          data = JSON.parse(event.json);
        } catch (error) {
          onError(error);
          continue;
        }
        for (const handler of [...handlers]) {
          if (!handlers.has(handler)) continue; // unsubscribed by an earlier handler of this event
          try {
            handler(event.topic, data, event.json);
          } catch (error) {
            onError(error);
          }
        }
      }
    } finally {
      delivering = false;
    }
  }

  function publishJson(topic: string, json: string): Promise<void> {
    if (closed) return Promise.reject(new Error(`Cannot publish to "${topic}": bus is closed`));
    try {
      // Only for the size check: an event that NOTIFY could not carry fails here too.
      encodeJsonEnvelope(topic, origin, json);
    } catch (error) {
      return Promise.reject(error);
    }
    pending.push({ topic, json });
    drain();
    return Promise.resolve();
  }

  return {
    publish(topic, data) {
      if (closed) return Promise.reject(new Error(`Cannot publish to "${topic}": bus is closed`));
      let json: string;
      try {
        json = encodeData(topic, data);
      } catch (error) {
        return Promise.reject(error);
      }
      return publishJson(topic, json);
    },
    publishJson,
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
