/** The metrics feature: ingest of agents' reports, rollups, queries, the live feeds, retention. */
import { defineModule } from "../module.ts";
import { topicRoles, topics } from "../realtime/topics.ts";
import { createMetrics, type Metrics } from "./service.ts";

export const metricsModule = defineModule<{ metrics: Metrics }>({
  name: "metrics",
  services: (core) => ({
    metrics: createMetrics({
      dbh: core.dbh,
      clock: core.clock,
      realtime: core.realtime,
      log: core.log,
      retention: core.config.metricsRetention,
      maxSeriesPerHost: core.config.metricsMaxSeriesPerHost,
      events: core.events,
    }),
  }),
  jobs: ({ metrics }) => metrics.jobs(),
  topics: topicRoles([topics.hostMetrics, topics.fleetMetrics]),
  settings: [{ id: "metrics", title: "Metrics", order: 10 }],
});
