/**
 * The builds feature: apps' services built from Git on a worker (a node labelled
 * capstan.builder=true, else the cluster's manager) through its agent, never in the hub; signed
 * webhooks of GitHub, GitLab, Bitbucket and Gitea; built images deployed through the apps
 * module's health-gated path. It comes after the apps module, whose use cases it calls.
 */
import { z } from "zod";
import { defineModule, encryptedColumn } from "../module.ts";
import { topicRoles } from "../realtime/topics.ts";
import type { AuditLog } from "../audit/service.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Apps } from "../apps/service.ts";
import type { Cluster } from "../apps/cluster.ts";
import { SYSTEM } from "../audit/service.ts";
import { createBuildStore } from "./store.ts";
import { type Builds, createBuilds, credentialsContext, hookContext } from "./service.ts";
import { type BuildRunner, createBuildRunner } from "./runner.ts";
import { buildTopic } from "./topics.ts";
import { createDistributor } from "./image_delivery.ts";
import * as buildsMigration from "./migration.ts";
import * as finishedMigration from "./migration_finished.ts";
import "./events.ts";
import type { Admission } from "../quotas/service.ts";

const DELIVERIES_KEEP_MS = 90 * 86_400_000;
const BUILD_LOGS_KEPT = 50;

/** The base images of detected plans (CAPSTAN_BUILD_BASE_IMAGES), read once at start. */
function baseImages(path: string | undefined): Record<string, string> | undefined {
  if (!path) return undefined;
  const parsed = z.record(z.string().max(32), z.string().max(512)).safeParse(
    JSON.parse(Deno.readTextFileSync(path)),
  );
  if (!parsed.success) {
    throw new Error(`CAPSTAN_BUILD_BASE_IMAGES: ${path} must be a JSON object of kind → image`);
  }
  return parsed.data;
}

export const buildsModule = defineModule<
  { builds: Builds; buildRunner: BuildRunner },
  {
    audit: AuditLog;
    agents: AgentRegistry;
    apps: Apps;
    cluster: Cluster;
    quotaAdmission: Admission;
  }
>({
  name: "builds",
  deps: ["audit", "agents", "apps", "cluster", "quotaAdmission"],
  services: (core, { audit, agents, apps, cluster, quotaAdmission }) => {
    const { config, clock, log } = core;
    const store = createBuildStore(core.db, clock);
    quotaAdmission.addUsage(async (orgId) => ({
      build_minutes_month: await store.minutesThisMonth(orgId),
    }));
    const appOf = (orgId: string, appId: string) =>
      apps.store.get(orgId, appId).catch(() => undefined);
    const live = (hostId: string) => agents.isOnline(hostId) ? agents.require(hostId) : undefined;
    const distributor = createDistributor({
      registry: config.builds.registry,
      agent: live,
      nodes: () => cluster.nodes(),
      log,
    });
    // The runner and the use cases need each other (credentials; kick and cancel).
    // deno-lint-ignore prefer-const
    let builds: Builds | undefined;
    // A ready node labelled capstan.builder=true whose agent is connected, else the leader.
    const pickWorker = async () => {
      const nodes = await cluster.nodes().catch(() => []);
      const ready = nodes.filter((n) =>
        n.host_id && n.state === "ready" && n.availability === "active" &&
        agents.isOnline(n.host_id)
      );
      const builders = ready.filter((n) => n.labels["capstan.builder"] === "true");
      const pick = builders[0] ?? ready.find((n) => n.leader) ??
        ready.find((n) => n.role === "manager");
      return pick?.host_id ?? undefined;
    };
    const runner = createBuildRunner({
      pickWorker,
      store,
      clock,
      log,
      agent: live,
      credentials: (s) => builds!.credentials(s),
      app: appOf,
      deploy: (app, b, image) =>
        apps.deployBuild(SYSTEM, app, {
          id: b.id,
          number: b.number,
          service: b.service,
          commit: b.commit_sha,
          branch: b.branch,
        }, image),
      deployment: (app, id) => apps.store.deployment(app, id).catch(() => undefined),
      distribute: (b, hostId, tag, line) => distributor.distribute(b, hostId, tag, line),
      publish: (b, e) => void core.realtime.publish(buildTopic(b.org_id, b.id), e),
      notify: (n) => core.events.emit("builds.notice", n),
      params: {
        base_images: baseImages(config.builds.baseImages),
        ...(config.builds.nixCacheUrl ? { nix_cache_url: config.builds.nixCacheUrl } : {}),
        limits: {
          timeout_s: config.builds.timeoutS,
          max_checkout_bytes: config.builds.maxCheckoutBytes,
        },
      },
      logMaxBytes: config.builds.logMaxBytes,
      perWorker: config.builds.perWorker,
    });
    builds = createBuilds({
      store,
      box: () => core.secretBox(),
      audit,
      clock,
      log,
      events: core.events,
      runner,
      app: appOf,
      pickWorker,
      admission: quotaAdmission,
    });
    return { builds, buildRunner: runner };
  },
  jobs: ({ builds, buildRunner }, core) => [{
    name: "builds_stale",
    schedule: "* * * * *",
    intervalMs: 60_000,
    // Builds whose hub stopped mid-build (no heartbeat for a minute) are marked failed.
    run: async () => ({ failed: await buildRunner.failStale() }),
  }, {
    name: "builds_purge",
    schedule: "41 * * * *",
    intervalMs: 3_600_000,
    // Webhook deliveries older than 90 days, and the logs of each app's builds beyond its newest
    // 50 (a build's log is up to CAPSTAN_BUILD_LOG_MAX_BYTES, compressed).
    run: () => builds.store.purge(core.clock.now() - DELIVERIES_KEEP_MS, BUILD_LOGS_KEPT),
  }],
  topics: topicRoles([buildTopic]),
  migrations: { "0017_builds": buildsMigration, "0028_builds_finished": finishedMigration },
  encrypted: [
    encryptedColumn({
      table: "build_sources",
      key: ["id"],
      blob: "credentials",
      keyId: "credentials_key_id",
      context: (r) => credentialsContext(r.id),
    }),
    encryptedColumn({
      table: "build_hooks",
      key: ["id"],
      blob: "secret",
      keyId: "secret_key_id",
      context: (r) => hookContext(r.id),
    }),
  ],
  start: ({ buildRunner }) => {
    buildRunner.start();
    return () => buildRunner.stop();
  },
});
