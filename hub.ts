import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "./lib/config.ts";
import { openDatabase } from "./lib/db/mod.ts";
import { migrateToLatest } from "./lib/db/migrate.ts";
import { createServices, type Services } from "./services.ts";
import { realtimeHubFor } from "./lib/realtime/access.ts";
import { createHubApp } from "./app.ts";
import { configuredKeyRing } from "./lib/secret_key.ts";
import { assertRingOpensAll } from "./lib/encrypted_columns.ts";
import { ensurePrivateDir } from "./lib/private_files.ts";
import { SETUP_TOKEN_FILE } from "./lib/auth/accounts.ts";
import { createLogger, type Logger } from "./lib/log.ts";
import { startJobs } from "./lib/jobs/scheduler.ts";
import { collectEncrypted, collectJobs, collectTopics } from "./lib/module.ts";
import { MODULES } from "./modules.ts";
import { SYSTEM } from "./lib/audit/service.ts";
import { buildIslands } from "./lib/islands/build.ts";
import { type IslandManifest, readManifest } from "./lib/islands/manifest.ts";
import { startupStep } from "./lib/startup_error.ts";
import { heapLimitMb } from "./lib/heap.ts";
import { redactPostgresUrl } from "./lib/db/pg_url.ts";
import { sql } from "kysely";

/** Project root: islands/ and static/ live here, whatever the working directory is. */
const ROOT = fileURLToPath(new URL("./", import.meta.url));
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
  const keyRing = await startupStep("secret key", () => configuredKeyRing(config, { log }));
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
    // Fail closed before serving: a key that cannot open what the database holds is a wrong key.
    await startupStep("secrets", () =>
      assertRingOpensAll(dbh.db, {
        keyId: keyRing.keyId,
        keyIds: keyRing.keyIds,
        source: keyRing.source,
        previousFromEnv: config.secretKeyPrevious.length > 0,
      }, collectEncrypted(MODULES)));
  } catch (err) {
    await dbh.close().catch(() => {});
    throw err;
  }
  const services = createServices({ config, dbh, log, keyRing });
  const hub = realtimeHubFor(services, {
    topics: collectTopics(MODULES),
    onError: (e) => log.warn("realtime", { error: String(e) }),
  });
  const all = services as unknown as Record<string, unknown>;
  // Modules start their work once every service is built: the embedded agent starts here, before
  // the islands build and the HTTP server, so the hub's own host is sampled from the first moment.
  const stopStarted: (() => Promise<void> | void)[] = [];
  for (const m of MODULES) {
    const stop = m.start?.(all as never, services, all);
    if (stop) stopStarted.push(stop);
  }
  const islands = await loadIslands(log);
  const app = createHubApp(services, hub, { islands, islandsDir: ISLANDS_DIR });
  // Shutdown: what modules started, then their connections (before the server closes: open
  // WebSockets would keep it waiting), then the realtime hub; stores close after the server.
  const reversed = [...MODULES].reverse();
  let started = true;
  const closeServices = async () => {
    if (started) {
      started = false;
      for (const stop of stopStarted.reverse()) await stop();
    }
    for (const m of reversed) await m.stop?.(all as never);
    await hub.close();
  };
  const closeStores = async () => {
    for (const m of reversed) await m.close?.(all as never);
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
    stopJobs = startJobs(dbh.db, services.clock, collectJobs(services, MODULES, all), holder, log);
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
      await closeServices();
      ac.abort();
      await server.finished;
      await closeStores();
    },
  };
}
