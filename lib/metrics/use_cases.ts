/**
 * Metric reads the API and the pages share, each from the services rather than the database: a
 * host's containers with their newest figures, an organization's metric storage, and the
 * Prometheus scrape text.
 */
import type { AgentRegistry } from "../agents/registry.ts";
import type { Db, Dialect } from "../db/mod.ts";
import { containerNames } from "../hosts/container_use_cases.ts";
import type { Hosts } from "../hosts/service.ts";
import type { Clock } from "../util/clock.ts";
import type { MetricOverview } from "./overview.ts";
import { renderPrometheus } from "./prometheus.ts";
import type { MetricQuery } from "./query.ts";
import type { ChunkMigrationStatus } from "./chunk_migration.ts";
import { type ContainerUsage, containerUsage, type StorageReport, storageReport } from "./views.ts";

/** Values older than this are stale and left out of a scrape, as Prometheus would mark them. */
const FRESH_MS = 5 * 60_000;

/** The metric reads' view of the services. */
export interface MetricReadDeps {
  db: Db;
  dbh: { dialect: Dialect };
  clock: Clock;
  metrics: {
    overview: MetricOverview;
    query: Pick<MetricQuery, "latest">;
    chunkMigrationStatus?: () => Promise<ChunkMigrationStatus | undefined>;
  };
}

/** A host's containers (running first) with their newest CPU, memory and network figures. */
export async function hostContainerUsage(
  deps: Pick<MetricReadDeps, "db" | "clock" | "metrics">,
  orgId: string,
  hostId: string,
): Promise<{ items: ContainerUsage[]; total: number }> {
  return await containerUsage(deps.db, deps.metrics.overview, orgId, hostId, deps.clock.now());
}

/** Metric rows per host and tier of an organization, with the bytes they are estimated to take. */
export async function metricStorage(
  deps: Pick<MetricReadDeps, "db" | "dbh" | "metrics">,
  orgId: string,
): Promise<StorageReport> {
  const report = await storageReport(deps.db, deps.dbh.dialect, deps.metrics.overview, orgId);
  return { ...report, conversion: (await deps.metrics.chunkMigrationStatus?.()) ?? null };
}

/** The organization's latest host and container values as Prometheus exposition text. */
export async function prometheusScrape(
  deps: MetricReadDeps & {
    hosts: Pick<Hosts, "list">;
    agents: Pick<AgentRegistry, "isOnline">;
  },
  orgId: string,
): Promise<string> {
  const list = await deps.hosts.list(orgId);
  const values = await deps.metrics.query.latest(
    list.map((h) => h.id),
    deps.clock.now() - FRESH_MS,
  );
  const names = await containerNames(deps, orgId);
  return renderPrometheus(
    list.map((h) => ({ id: h.id, name: h.name, online: deps.agents.isOnline(h.id) })),
    values,
    names,
  );
}
