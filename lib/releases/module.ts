/** The releases feature: signed agent releases, their files under the data dir, staged rollouts. */
import { defineModule } from "../module.ts";
import type { AuditLog } from "../audit/service.ts";
import { hubReleaseKeys } from "./keys.ts";
import { createReleases, type Releases } from "./service.ts";

export const releasesModule = defineModule<{ releases: Releases }, { audit: AuditLog }>({
  name: "releases",
  deps: ["audit"],
  services: (core, { audit }) => ({
    releases: createReleases({
      db: core.db,
      clock: core.clock,
      audit,
      dataDir: core.config.dataDir,
      trustedKeys: () => hubReleaseKeys(core.config.dataDir),
    }),
  }),
});
