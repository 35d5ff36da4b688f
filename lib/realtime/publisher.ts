/**
 * The one way modules publish realtime events: `realtime.publish(topics.hosts(orgId), payload)`.
 * The topic's type fixes the payload's; the payload is encoded once, here (or ahead, with
 * `encode`, by a publisher that must measure it), and that text is what the bus carries and the hub
 * sends to every client; a failure is logged here, once for all publishers, and never thrown:
 * realtime events are hints to refresh, published after the record is committed.
 *
 * Bus-internal control topics (`hub:agents`, `hub:alerts`, `user:<id>:access`) are not realtime
 * topics: their owners use the bus directly.
 */
import type { Logger } from "../log.ts";
import { type Bus, encodeData } from "./bus.ts";
import { isValidTopic, type PayloadOf, type Topic } from "./topics.ts";

declare const encoded: unique symbol;

/** A payload already encoded for `topic`'s type: its JSON text, published as is. */
export interface EncodedPayload<T> {
  readonly json: string;
  readonly [encoded]: T;
}

/** Publishes typed realtime events. */
export interface RealtimePublisher {
  /**
   * Publishes `payload` on `topic` to subscribers on every replica; resolves once the bus has it,
   * or once a failure (invalid topic, too large, bus down) is logged. Never rejects.
   */
  publish<X extends Topic<unknown>>(
    topic: X,
    payload: PayloadOf<X> | EncodedPayload<PayloadOf<X>>,
  ): Promise<void>;
  /** Encodes a payload ahead of publishing, for a publisher that chooses by its size. */
  encode<X extends Topic<unknown>>(topic: X, payload: PayloadOf<X>): EncodedPayload<PayloadOf<X>>;
}

// What `encode` made: a payload of its own that merely has a `json` field is not mistaken for one.
const instances = new WeakSet<object>();

/** Creates the publisher over `bus`; failures go to `log`. */
export function createRealtimePublisher(bus: Bus, log: Logger): RealtimePublisher {
  function encode<X extends Topic<unknown>>(
    topic: X,
    payload: PayloadOf<X>,
  ): EncodedPayload<PayloadOf<X>> {
    const value = { json: encodeData(topic, payload) } as EncodedPayload<PayloadOf<X>>;
    instances.add(value);
    return value;
  }

  return {
    encode,
    async publish(topic, payload) {
      try {
        if (!isValidTopic(topic)) throw new Error(`Cannot publish to "${topic}": invalid topic`);
        const json = instances.has(payload as object)
          ? (payload as EncodedPayload<unknown>).json
          : encodeData(topic, payload);
        await bus.publishJson(topic, json);
      } catch (error) {
        log.warn("realtime: publish failed", { topic, error: String(error) });
      }
    },
  };
}
