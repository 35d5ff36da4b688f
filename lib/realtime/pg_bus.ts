/**
 * A bus that crosses hub replicas through PostgreSQL LISTEN/NOTIFY.
 *
 * Every replica listens on one channel; a publish is one `pg_notify`. PostgreSQL delivers each
 * notification once to every listening session, including the publisher's own listening session,
 * so events are delivered only through LISTEN, never also locally: local delivery as well would
 * hand the publishing replica every event twice.
 *
 * Limits worth knowing: payloads must stay under 8000 bytes (publish ids, not documents), and while
 * postgres.js reconnects a dropped LISTEN connection (it re-listens by itself), notifications sent
 * during the gap are lost. Realtime events are hints to refresh, not the record.
 */
import type postgres from "postgres";
import {
  type Bus,
  type BusHandler,
  type BusOptions,
  decodeEvent,
  encodeData,
  encodeJsonEnvelope,
} from "./bus.ts";

/** A PostgreSQL bus; `ready` settles once LISTEN is in place (publish waits for it by itself). */
export interface PgBus extends Bus {
  /** Resolves when this replica is listening; rejects if LISTEN failed. */
  readonly ready: Promise<void>;
  /** The id this bus puts in the `origin` field of its events. */
  readonly origin: string;
}

// An unquoted-style identifier: postgres.js quotes the LISTEN name and pg_notify takes it verbatim,
// so mixed case or odd characters would only invite a mismatch between the two.
const CHANNEL_RE = /^[a-z_][a-z0-9_]{0,62}$/;

/** Creates a bus over `pg` (caller-owned; `close()` unlistens but does not end it). */
export function createPgBus(
  pg: postgres.Sql,
  channel = "capstan_events",
  options: BusOptions = {},
): PgBus {
  if (!CHANNEL_RE.test(channel)) {
    throw new Error(`Cannot listen on "${channel}": channel must match ${CHANNEL_RE}`);
  }
  const onError = options.onError ?? ((error) => console.error("realtime pg bus:", error));
  const origin = `pg-${crypto.randomUUID()}`;
  const handlers = new Set<BusHandler>();
  let closed = false;

  function deliver(payload: string) {
    if (closed) return;
    const envelope = decodeEvent(payload);
    if (!envelope) {
      onError(new Error(`Ignoring a payload on channel "${channel}" that is not a Capstan event`));
      return;
    }
    for (const handler of [...handlers]) {
      if (!handlers.has(handler)) continue;
      // postgres.js calls us from its protocol parser; a throw here would break the connection.
      try {
        handler(envelope.topic, envelope.data, envelope.json);
      } catch (error) {
        onError(error);
      }
    }
  }

  const listening = pg.listen(channel, deliver);
  const ready = listening.then(() => {});
  // Nobody may be awaiting `ready`; the rejection still reaches publish() and close().
  ready.catch(() => {});

  // NOTIFYs from one replica reach listeners in commit order; the pool would run concurrent
  // publishes on different connections and commit them in any order, so they go one at a time.
  let tail: Promise<unknown> = ready;

  function publishJson(topic: string, json: string): Promise<void> {
    if (closed) return Promise.reject(new Error(`Cannot publish to "${topic}": bus is closed`));
    let payload: string;
    try {
      payload = encodeJsonEnvelope(topic, origin, json);
    } catch (error) {
      return Promise.reject(error);
    }
    // Waiting for `ready` first means this replica is listening before its own event is sent.
    const sent = tail.then(() => pg.notify(channel, payload)).then(() => {});
    tail = sent.catch(() => {});
    return sent;
  }

  return {
    ready,
    origin,
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
    async close() {
      if (closed) return;
      closed = true;
      await tail.catch(() => {});
      handlers.clear();
      try {
        const meta = await listening;
        await meta.unlisten();
      } catch {
        // LISTEN never succeeded, or the client was ended first: nothing left to undo.
      }
    },
  };
}
