/**
 * The templates feature: the catalog of built-in (templates/*.yml) and organization templates,
 * provisioning a template into secrets, an app and a route, and deprovisioning. It comes after
 * the apps, proxy and secrets modules, whose use cases it composes.
 */
import { z } from "zod";
import { defineModule } from "../module.ts";
import { topicRoles } from "../realtime/topics.ts";
import type { AuditLog } from "../audit/service.ts";
import type { Apps } from "../apps/service.ts";
import type { Proxy } from "../proxy/service.ts";
import type { Secrets } from "../secrets/service.ts";
import { createTemplateStore } from "./store.ts";
import { createTemplates, type Templates } from "./service.ts";
import { builtinTemplates } from "./builtins.ts";
import { provisionTopic } from "./topics.ts";
import * as templatesMigration from "./migration.ts";

/** The image replacement map of CAPSTAN_TEMPLATE_IMAGES (read once, at start). */
function imageMap(path: string | undefined): Record<string, string> | undefined {
  if (!path) return undefined;
  const parsed = z.record(z.string().max(512), z.string().max(512)).safeParse(
    JSON.parse(Deno.readTextFileSync(path)),
  );
  if (!parsed.success) {
    throw new Error(`CAPSTAN_TEMPLATE_IMAGES: ${path} must be a JSON object of image → image`);
  }
  return parsed.data;
}

export const templatesModule = defineModule<
  { templates: Templates },
  { audit: AuditLog; apps: Apps; proxy: Proxy; secrets: Secrets }
>({
  name: "templates",
  deps: ["audit", "apps", "proxy", "secrets"],
  services: (core, { audit, apps, proxy, secrets }) => ({
    templates: createTemplates({
      store: createTemplateStore(core.db, core.clock),
      builtins: builtinTemplates,
      apps,
      proxy,
      proxyStore: proxy.store,
      secrets,
      audit,
      clock: core.clock,
      log: core.log,
      progress: (p) => void core.realtime.publish(provisionTopic(p.org_id, p.id), p),
      images: imageMap(core.config.templateImages),
    }),
  }),
  topics: topicRoles([provisionTopic]),
  migrations: { "0016_templates": templatesMigration },
  nav: [{
    key: "templates",
    group: "Apps",
    label: "Templates",
    scope: "org",
    path: "/templates",
    order: 3,
  }],
  // No stop step (a provisioning may wait minutes for its deployment). One cut short by a
  // shutdown is marked failed at the next start, naming what it had made.
  start: ({ templates }, core) => {
    void templates.store.interrupted().catch((err) =>
      core.log.warn("templates: interrupted provisionings not marked", { error: String(err) })
    );
  },
});
