import {
  type CallOptions,
  type DockerStream,
  type EngineTransport,
  type Filters,
  filtersParam,
} from "./transport.ts";
import { sinceValue } from "./validate.ts";
import { jsonLines } from "./streams.ts";
import type { DockerEvent } from "./types.ts";

/** Options for the event stream. */
export interface EventsOptions extends CallOptions {
  since?: number | string;
  until?: number | string;
  filters?: Filters;
}

/** The engine's event stream. */
export interface EventsApi {
  /** Engine events as they happen (from `since` when reconnecting). */
  events(opts?: EventsOptions): Promise<DockerStream<DockerEvent>>;
}

/** The event calls over one transport. */
export function eventsApi(t: EngineTransport): EventsApi {
  return {
    events: async (opts = {}) =>
      await t.stream(
        {
          method: "GET",
          path: "/events",
          query: {
            since: opts.since === undefined ? undefined : sinceValue(opts.since),
            until: opts.until === undefined ? undefined : sinceValue(opts.until, "until"),
            filters: filtersParam(opts.filters),
          },
          signal: opts.signal,
        },
        (chunks) => jsonLines<DockerEvent>(chunks),
      ),
  };
}
