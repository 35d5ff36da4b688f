import { join } from "node:path";
import type { Config } from "./config.ts";
import type { DbHandle } from "./db/mod.ts";
import type { Clock } from "./util/clock.ts";
import { systemClock } from "./util/clock.ts";
import { createAuditLog } from "./audit/service.ts";
import { createUsers } from "./auth/users.ts";
import { createSessions } from "./auth/sessions.ts";
import { createTokens } from "./auth/tokens.ts";
import { createOrgs } from "./orgs/service.ts";
import { createInvitations } from "./orgs/invitations.ts";
import { createAccounts, SETUP_TOKEN_FILE } from "./auth/accounts.ts";
import { createHosts } from "./hosts/service.ts";
import { createAgentRegistry } from "./agents/registry.ts";
import { createMetrics } from "./metrics/service.ts";
import { createStreamHub } from "./agents/stream_hub.ts";
import type { Bus } from "./realtime/bus.ts";
import { createMemoryBus } from "./realtime/bus.ts";
import { createPgBus } from "./realtime/pg_bus.ts";
import { publishAccessChanged } from "./realtime/hub.ts";
import { createRealtimePublisher } from "./realtime/publisher.ts";
import { topics } from "./realtime/topics.ts";
import type { Logger } from "./log.ts";
import { silentLogger } from "./log.ts";
import { createAlerts } from "./alerts/service.ts";
import { loadSecretKey } from "./secret_key.ts";
import { createReleases } from "./releases/service.ts";
import { hubReleaseKeys } from "./releases/keys.ts";
import { createHealth } from "./health/mod.ts";
import { cachedContainerName, enrolledHostFacts, hostFacts } from "./hosts/facts.ts";
import { lastReportTimes, seriesSeen } from "./metrics/reports.ts";

/** Everything the HTTP layer, jobs and admin tasks share, built once per process. */
export function createServices(opts: {
  config: Config;
  dbh: DbHandle;
  clock?: Clock;
  log?: Logger;
  bus?: Bus;
  /** The hub's secret key; by default the configured one or the data dir's (see secret_key.ts). */
  secretKey?: string;
}) {
  const clock = opts.clock ?? systemClock;
  const db = opts.dbh.db;
  const bus = opts.bus ?? (opts.dbh.pg ? createPgBus(opts.dbh.pg) : createMemoryBus());
  const log = opts.log ?? silentLogger;
  // The one publisher of realtime topics (lib/realtime/topics.ts); the bus carries it and control news.
  const realtime = createRealtimePublisher(bus, log);
  const audit = createAuditLog(db, clock, (row) => {
    // Live audit feeds; best effort, the row is already committed.
    if (row.org_id) {
      void realtime.publish(topics.audit(row.org_id), { id: row.id, action: row.action });
    }
  });
  const users = createUsers(db, clock);
  const sessions = createSessions(db, clock);
  const tokens = createTokens(db, clock);
  // Ended sessions, revoked tokens and changed memberships close the user's sockets on every replica.
  const accessChanged = (userId: string) => publishAccessChanged(bus, userId);
  const orgs = createOrgs(db, clock, audit, users, accessChanged);
  const accounts = createAccounts({
    db,
    clock,
    audit,
    users,
    sessions,
    tokens,
    orgs,
    setupTokenFile: join(opts.config.dataDir, SETUP_TOKEN_FILE),
    onAccessChanged: accessChanged,
  });
  const invitations = createInvitations({ db, clock, audit, orgs });
  const hosts = createHosts(db, clock, audit, {
    // Called only after construction: `alerts` is defined by then.
    renamed: (host, name) => alerts.hostRenamed(host, name),
  });
  const alerts = createAlerts({
    dbh: opts.dbh,
    clock,
    bus,
    realtime,
    log,
    audit,
    secretKey: () =>
      Promise.resolve(opts.secretKey ?? opts.config.secretKey).then((k) =>
        k ?? loadSecretKey(opts.config.dataDir)
      ),
    allowPrivateTargets: opts.config.allowPrivateTargets,
    retentionDays: opts.config.alertsRetentionDays,
    publicUrl: opts.config.publicUrl,
    // Called only after construction: `agents` is defined by then.
    isOnline: (hostId) => agents.isOnline(hostId),
    facts: {
      host: (hostId) => hostFacts(db, hostId),
      enrolledHosts: () => enrolledHostFacts(db),
      containerName: (hostId, id) => cachedContainerName(db, hostId, id),
      orgSlug: async (orgId) => (await orgs.byId(orgId))?.slug,
      lastReports: (since) => lastReportTimes(db, since),
      seriesSeen: (orgId, limit) => seriesSeen(db, orgId, limit),
    },
  });
  const agents = createAgentRegistry({
    hosts,
    bus,
    realtime,
    log,
    observer: alerts.agentObserver,
    // Called only after construction: `health` is defined by then.
    health: {
      online: (h) => health.observer.online(h),
      containers: (h, e) => health.observer.containers(h, e),
      results: (h, r) => health.observer.results(h, r),
    },
  });
  const health = createHealth({
    db,
    clock,
    bus,
    realtime,
    log,
    audit,
    agents,
    retentionDays: opts.config.healthRetentionDays,
    allowPrivateTargets: opts.config.allowPrivateTargets,
    onChange: (c) => alerts.onHealthChange({ id: c.host_id, org_id: c.org_id }, c),
  });
  const metrics = createMetrics({
    dbh: opts.dbh,
    clock,
    realtime,
    log,
    retention: opts.config.metricsRetention,
    onCommitted: alerts.onBatch,
  });
  // Shared container log/stats streams: one agent stream per container, however many viewers.
  const streams = createStreamHub({ connect: (hostId) => agents.require(hostId), log });
  // Agent releases: signed manifests, files under the data dir, staged rollouts.
  const releases = createReleases({
    db,
    clock,
    audit,
    dataDir: opts.config.dataDir,
    trustedKeys: () => hubReleaseKeys(opts.config.dataDir),
  });
  return {
    config: opts.config,
    dbh: opts.dbh,
    db,
    clock,
    log,
    bus,
    realtime,
    audit,
    users,
    sessions,
    tokens,
    orgs,
    invitations,
    accounts,
    hosts,
    agents,
    metrics,
    streams,
    alerts,
    health,
    releases,
  };
}

export type Services = ReturnType<typeof createServices>;
