/**
 * The composition root's first half: the core every module may use (configuration, storage, time,
 * logs, the buses, the realtime publisher, the hub's key ring) and the services of every module of
 * modules.ts, built in order. The hub, the admin tasks and end-to-end tests build them here.
 */
import type { Config } from "./lib/config.ts";
import type { DbHandle } from "./lib/db/mod.ts";
import { type Clock, systemClock } from "./lib/util/clock.ts";
import { createMemoryBus } from "./lib/realtime/bus.ts";
import type { Bus } from "./lib/realtime/bus.ts";
import { createPgBus } from "./lib/realtime/pg_bus.ts";
import { createRealtimePublisher } from "./lib/realtime/publisher.ts";
import { createEventBus } from "./lib/events.ts";
import { type Logger, silentLogger } from "./lib/log.ts";
import { configuredKeyRing, type HubKeyRing } from "./lib/secret_key.ts";
import { buildServices, type Core, type ServicesOf } from "./lib/module.ts";
import { MODULES } from "./modules.ts";

/** Everything the HTTP layer, jobs and admin tasks share: the core and every module's services. */
export type Services = Core & ServicesOf<typeof MODULES>;

/** Builds the core and every module's services, once per process. */
export function createServices(opts: {
  config: Config;
  dbh: DbHandle;
  clock?: Clock;
  log?: Logger;
  bus?: Bus;
  /**
   * The hub's key ring, opened already (the hub does at start); by default it is opened on first
   * use from the configuration or the data dir's key file (lib/secret_key.ts).
   */
  keyRing?: HubKeyRing;
}): Services {
  const log = opts.log ?? silentLogger;
  const bus = opts.bus ?? (opts.dbh.pg ? createPgBus(opts.dbh.pg) : createMemoryBus());
  let ring: Promise<HubKeyRing> | undefined = opts.keyRing && Promise.resolve(opts.keyRing);
  const core: Core = {
    config: opts.config,
    dbh: opts.dbh,
    db: opts.dbh.db,
    clock: opts.clock ?? systemClock,
    log,
    bus,
    events: createEventBus(log),
    // The one publisher of realtime topics; the bus carries it and control news.
    realtime: createRealtimePublisher(bus, log),
    // One ring per process, opened on first use; it follows a key file that a rotation replaces.
    secretBox: () => ring ??= configuredKeyRing(opts.config, { log }),
  };
  return { ...core, ...buildServices(core, MODULES) } as Services;
}
