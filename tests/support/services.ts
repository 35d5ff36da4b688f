import { loadConfig } from "../../lib/config.ts";
import type { DbHandle } from "../../lib/db/mod.ts";
import { createServices } from "../../services.ts";
import { createMemoryBus } from "../../lib/realtime/bus.ts";
import type { Clock } from "../../lib/util/clock.ts";

/**
 * Services on a test database with an in-memory bus (the PostgreSQL bus has its own tests);
 * `env` adds configuration variables (e.g. CAPSTAN_ALLOW_PRIVATE_TARGETS for loopback receivers).
 */
export function testServices(dbh: DbHandle, clock?: Clock, env: Record<string, string> = {}) {
  const config = loadConfig({
    CAPSTAN_DATA_DIR: "/tmp/capstan-test-unused",
    CAPSTAN_PUBLIC_URL: "http://hub.test",
    ...env,
  });
  return createServices({ config, dbh, clock, bus: createMemoryBus() });
}

export const SYSTEM_CTX = { actor: { type: "system" as const, name: "test" }, ip: "127.0.0.1" };
