/**
 * The in-process domain event bus: producers emit typed events without knowing who listens;
 * modules subscribe to what they care about. Delivery is synchronous, in subscription order, on
 * the producer's call (the producers' paths are hot: metrics ingest, agent events), so handlers
 * must be cheap and start their own asynchronous work; a handler that throws is logged and does
 * not stop the others or the producer.
 *
 * Each module declares its events by merging into `DomainEvents`:
 *
 *     declare module "../events.ts" {
 *       interface DomainEvents { "apps.deployed": { appId: string } }
 *     }
 */
import type { Logger } from "./log.ts";

/** Every event name and its payload; modules add theirs by declaration merging. */
// deno-lint-ignore no-empty-interface
export interface DomainEvents {}

/** A name of a declared event. */
export type EventName = keyof DomainEvents & string;

/** Emits and subscribes to domain events. */
export interface EventBus {
  /** Hands `payload` to every handler of `name`, now, in the order they subscribed. */
  emit<K extends EventName>(name: K, payload: DomainEvents[K]): void;
  /**
   * Like `emit`, then waits for the work the handlers returned: for a producer whose caller must
   * see every consequence once it returns (a renamed host's alerts carry the new name). Handler
   * failures are logged, never thrown at the producer.
   */
  emitAndWait<K extends EventName>(name: K, payload: DomainEvents[K]): Promise<void>;
  /** Registers a handler; returns the function that removes it. */
  on<K extends EventName>(
    name: K,
    handler: (payload: DomainEvents[K]) => unknown,
  ): () => void;
}

/** Creates an event bus whose handler failures are logged with the event's name. */
export function createEventBus(log: Logger): EventBus {
  type Handler = (payload: unknown) => unknown;
  const handlers = new Map<string, Handler[]>();
  const failed = (name: string) => (err: unknown) =>
    log.error("event handler failed", { event: name, error: String(err) });
  /** Calls every handler now; returns the promises of those that went asynchronous. */
  const deliver = (name: string, payload: unknown): Promise<void>[] => {
    const pending: Promise<void>[] = [];
    for (const h of handlers.get(name) ?? []) {
      try {
        const r = h(payload);
        if (r instanceof Promise) pending.push(r.then(() => {}, failed(name)));
      } catch (err) {
        failed(name)(err);
      }
    }
    return pending;
  };
  return {
    emit(name, payload) {
      deliver(name, payload);
    },
    async emitAndWait(name, payload) {
      await Promise.all(deliver(name, payload));
    },
    on(name, handler) {
      const list = handlers.get(name) ?? [];
      const h = handler as Handler;
      // A copy, so a handler that unsubscribes during delivery does not skip its neighbour.
      handlers.set(name, [...list, h]);
      return () => {
        handlers.set(name, (handlers.get(name) ?? []).filter((x) => x !== h));
      };
    },
  };
}
