/**
 * Every island the app can hydrate: name → source file relative to the project root.
 * Adding an island is one line here; `island(name, Component)` only accepts names listed here,
 * and `buildIslands()` bundles exactly these files.
 */
import { defineIslands } from "./define.ts";

export const islands = defineIslands({
  CopyButton: "islands/CopyButton.tsx",
  LiveAudit: "islands/LiveAudit.tsx",
  LiveHosts: "islands/LiveHosts.tsx",
  LogViewer: "islands/LogViewer.tsx",
  LiveStats: "islands/LiveStats.tsx",
  ContainersLive: "islands/ContainersLive.tsx",
  PullProgress: "islands/PullProgress.tsx",
  FleetLive: "islands/FleetLive.tsx",
  HostCharts: "islands/HostCharts.tsx",
  HostContainers: "islands/HostContainers.tsx",
  NotificationBell: "islands/NotificationBell.tsx",
  HealthLive: "islands/HealthLive.tsx",
  HealthDetail: "islands/HealthDetail.tsx",
  AppLive: "islands/AppLive.tsx",
  ProvisionLive: "islands/ProvisionLive.tsx",
  BuildLive: "islands/BuildLive.tsx",
  SnapshotProgress: "islands/SnapshotProgress.tsx",
  CostEstimateLive: "islands/CostEstimateLive.tsx",
  GraceCountdown: "islands/GraceCountdown.tsx",
  TopologyMap: "islands/TopologyMap.tsx",
});

/** A registered island name. */
export type IslandName = keyof typeof islands;
