import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "./config.ts";
import { openDatabase } from "./db/mod.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { createServices, type Services } from "./services.ts";
import { realtimeHubFor } from "./realtime/access.ts";
import { createApp } from "./http/app.ts";
import { loadSecretKey } from "./secret_key.ts";
import { ensurePrivateDir } from "./private_files.ts";
import { SETUP_TOKEN_FILE } from "./auth/accounts.ts";
import { createLogger, type Logger } from "./log.ts";
import { hubJobs } from "./jobs/registry.ts";
import { startJobs } from "./jobs/scheduler.ts";
import { SYSTEM } from "./audit/service.ts";
import { buildIslands } from "./islands/build.ts";
import { socketExists, startEmbeddedAgent } from "./agents/embedded.ts";
import { type IslandManifest, readManifest } from "./islands/manifest.ts";
import { startupStep } from "./startup_error.ts";
import { heapLimitMb } from "./heap.ts";
import { redactPostgresUrl } from "./db/pg_url.ts";
import { sql } from "kysely";

/** Project root: islands/ and static/ live here, whatever the working directory is. */
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const ISLANDS_DIR = join(ROOT, "static", "_islands");

/**
 * Builds the island bundles (a no-op when nothing changed). A failed build must not keep the hub
 * from starting: it serves the last good build, or pages without islands, and says so.
 */
async function loadIslands(log: Logger): Promise<IslandManifest | null> {
  try {
    return await buildIslands({ root: ROOT, outDir: ISLANDS_DIR, log: (line) => log.info(line) });
  } catch (err) {
    const last = await readManifest(ISLANDS_DIR).catch(() => null);
    log.warn(`islands: build failed; ${last ? "serving the last build" : "pages run without JS"}`, {
      error: (err as Error).message,
    });
    return last;
  }
}

/** Fails unless a file can be created in `dir` (a read-only mount, a directory owned by another user). */
async function assertWritable(dir: string): Promise<void> {
  const probe = join(dir, `.write-test-${crypto.randomUUID()}`);
  await Deno.writeTextFile(probe, "");
  await Deno.remove(probe);
}

/** The database URL as messages show it: never a password. */
function describeDatabase(url: string): string {
  return url.startsWith("sqlite:") ? url : redactPostgresUrl(url);
}

/** A running hub: its address and a way to stop it cleanly. */
export interface RunningHub {
  url: string;
  port: number;
  setupToken?: string;
  /** The hub's services, for end-to-end tests that attach agents or inspect state. */
  services: Services;
  stop(): Promise<void>;
}

/**
 * Starts the hub: database, migrations, services, realtime, HTTP and (optionally) scheduled jobs.
 * `main.ts` calls this; end-to-end tests call it with a temporary data dir and port 0. What the
 * operator must fix (data dir, database, address) fails as a one-line StartupError.
 */
export async function startHub(
  config: Config,
  opts: { log?: Logger; jobs?: boolean } = {},
): Promise<RunningHub> {
  const log = opts.log ?? createLogger(config.logLevel);
  await startupStep(
    `data dir: cannot create ${config.dataDir}`,
    () => Deno.mkdir(config.dataDir, { recursive: true, mode: 0o700 }),
  );
  await startupStep(
    `data dir: cannot write to ${config.dataDir}`,
    () => assertWritable(config.dataDir),
  );
  // Only the hub's user may read keys, tokens and the database (also a dir made by an older hub).
  await startupStep(
    `data dir: cannot make ${config.dataDir} private (mode 0700)`,
    () => ensurePrivateDir(config.dataDir),
  );
  const secretKey = await loadSecretKey(config.dataDir, config.secretKey);
  const where = describeDatabase(config.databaseUrl);
  const dbh = await startupStep(
    `database: cannot open ${where}`,
    () => openDatabase(config.databaseUrl),
  );
  try {
    await startupStep(`database: cannot connect to ${where}`, () => sql`select 1`.execute(dbh.db));
    const applied = await startupStep(
      `database: migrations failed on ${where}`,
      () => migrateToLatest(dbh.db),
    );
    if (applied.length) log.info("migrations applied", { applied });
  } catch (err) {
    await dbh.close().catch(() => {});
    throw err;
  }
  const services = createServices({ config, dbh, log, secretKey });
  const hub = realtimeHubFor(services, {
    onError: (e) => log.warn("realtime", { error: String(e) }),
  });
  // The embedded agent starts before the islands build and the HTTP server: the hub's own host is
  // sampled from the first moment, not seconds (a rebuild: tens of seconds) into a restart.
  const embedded = config.localAgent && socketExists(config.dockerSocket)
    ? startEmbeddedAgent({ ...services, socketPath: config.dockerSocket, dataDir: config.dataDir })
    : undefined;
  const islands = await loadIslands(log);
  const app = createApp(services, hub, { islands, islandsDir: ISLANDS_DIR });
  const closeServices = async () => {
    await embedded?.stop();
    services.streams.close();
    services.agents.close();
    services.health.close();
    await hub.close();
  };
  const closeStores = async () => {
    await services.alerts.close();
    await services.bus.close();
    await dbh.close();
  };

  const ac = new AbortController();
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const address = `${config.host.includes(":") ? `[${config.host}]` : config.host}:${config.port}`;
  let server: Deno.HttpServer;
  try {
    server = await startupStep(`listen: cannot listen on ${address}`, () =>
      Deno.serve({
        hostname: config.host,
        port: config.port,
        signal: ac.signal,
        onListen: (addr) => resolve(addr as Deno.NetAddr),
      }, app.fetch));
  } catch (err) {
    await closeServices();
    await closeStores();
    throw err;
  }
  const addr = await listening;

  const holder = crypto.randomUUID();
  let stopJobs = () => {};
  if (opts.jobs ?? true) {
    stopJobs = startJobs(
      dbh.db,
      services.clock,
      [
        ...hubJobs({ ...services, auditRetentionDays: config.auditRetentionDays }),
        ...services.metrics.jobs(),
        ...services.alerts.jobs(),
        ...services.health.jobs(),
      ],
      holder,
      log,
    );
  }
  await services.audit.record({
    ctx: SYSTEM,
    action: "hub.started",
    status: "ok",
    durationMs: 0,
    metadata: { holder },
  });

  const publicUrl = config.port === 0
    ? config.publicUrl.replace(/:0$/, `:${addr.port}`)
    : config.publicUrl;
  // The CSRF and WebSocket origin checks read it per request: the real port, once known.
  services.config.publicUrl = publicUrl;

  const setupToken = await services.accounts.issueSetupToken();
  const tokenFile = join(config.dataDir, SETUP_TOKEN_FILE);
  if (setupToken) {
    await Deno.writeTextFile(tokenFile, setupToken + "\n", { mode: 0o600 });
    await Deno.chmod(tokenFile, 0o600);
    console.log(`setup: ${publicUrl}/setup?token=${setupToken}`);
  } else {
    await Deno.remove(tokenFile).catch(() => {});
  }
  log.info(`listening on ${publicUrl}`, { database: dbh.dialect, heap_limit_mb: heapLimitMb() });

  return {
    url: publicUrl,
    port: addr.port,
    setupToken,
    services,
    async stop() {
      stopJobs();
      await embedded?.stop();
      await closeServices();
      ac.abort();
      await server.finished;
      await closeStores();
    },
  };
}
