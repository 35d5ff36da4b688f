import { loadConfig } from "../../lib/config.ts";
import type { DbHandle } from "../../lib/db/mod.ts";
import { createServices } from "../../lib/services.ts";
import { createMemoryBus } from "../../lib/realtime/bus.ts";
import type { Clock } from "../../lib/util/clock.ts";

/** Services on a test database with an in-memory bus (the PostgreSQL bus has its own tests). */
export function testServices(dbh: DbHandle, clock?: Clock) {
  const config = loadConfig({
    CAPSTAN_DATA_DIR: "/tmp/capstan-test-unused",
    CAPSTAN_PUBLIC_URL: "http://hub.test",
  });
  return createServices({ config, dbh, clock, bus: createMemoryBus() });
}

export const SYSTEM_CTX = { actor: { type: "system" as const, name: "test" }, ip: "127.0.0.1" };
