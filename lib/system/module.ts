/**
 * The system feature: the Settings "About" panel (version, commit, build date, license, database
 * dialect, and for platform admins the data directory).
 */
import { h } from "preact";
import { defineModule } from "../module.ts";
import { AboutPanel } from "./about.tsx";
import { buildFacts } from "./build_facts.ts";
import { SystemPanel } from "./system_panel.tsx";
import type { Config } from "../config.ts";

export const systemModule = defineModule({
  name: "system",
  services: (core) => ({ system: { startedAt: core.clock.now() } }),
  settings: [{
    id: "system",
    title: "System",
    order: 90,
    render({ user, services }) {
      const all = services as { dbh: { dialect: string }; config: Config };
      return h(SystemPanel, {
        config: all.config,
        dialect: all.dbh.dialect,
        platformAdmin: user.isAdmin,
      });
    },
  }, {
    id: "about",
    title: "About",
    order: 100,
    async render({ user, services }) {
      const all = services as {
        dbh: { dialect: string };
        config: { dataDir: string };
        system: { startedAt: number };
      };
      return h(AboutPanel, {
        build: await buildFacts(),
        dialect: all.dbh.dialect,
        dataDir: user.isAdmin ? all.config.dataDir : undefined,
        startedAt: all.system.startedAt,
      });
    },
  }],
});
