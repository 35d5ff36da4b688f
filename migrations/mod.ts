import type { Migration } from "kysely/migration";
import { collectMigrations } from "../lib/module.ts";
import { MODULES } from "../modules.ts";
import * as m0001 from "./0001_foundation.ts";
import * as m0002 from "./0002_hosts.ts";
import * as m0003 from "./0003_metrics.ts";
import * as m0004 from "./0004_alerts.ts";
import * as m0005 from "./0005_health.ts";
import * as m0006 from "./0006_agent_releases.ts";
import * as m0007 from "./0007_auth_security.ts";
import * as m0008 from "./0008_health_exec_orphans.ts";
import * as m0009 from "./0009_metric_epochs.ts";
import * as m0020 from "./0020_metric_chunks.ts";
import * as m0021 from "./0021_metric_series_cap.ts";
import * as m0022 from "./0022_metric_head.ts";

/** Migrations of the hub's core, in order; names are stable forever once released. */
const core: Record<string, Migration> = {
  "0001_foundation": m0001,
  "0002_hosts": m0002,
  "0003_metrics": m0003,
  "0004_alerts": m0004,
  "0005_health": m0005,
  "0006_agent_releases": m0006,
  "0007_auth_security": m0007,
  "0008_health_exec_orphans": m0008,
  "0009_metric_epochs": m0009,
  // Numbered after the modules' migrations of the same release: names are applied in order.
  "0020_metric_chunks": m0020,
  "0021_metric_series_cap": m0021,
  "0022_metric_head": m0022,
};

/**
 * Every migration: the core's and each module's (a module declares its own in its definition,
 * named in the same global order), sorted by name. A name used twice fails at start.
 */
export const migrations: Record<string, Migration> = (() => {
  const fromModules = collectMigrations(MODULES);
  for (const name of Object.keys(fromModules)) {
    if (name in core) throw new Error(`migration ${name} is declared by the core and a module`);
  }
  return Object.fromEntries(
    Object.entries({ ...core, ...fromModules }).sort(([a], [b]) => a.localeCompare(b)),
  );
})();
