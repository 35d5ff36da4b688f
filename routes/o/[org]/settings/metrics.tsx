import type { Hono } from "hono";
import { settingsTabs } from "./[panel].tsx";
import { type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { metricStorage } from "../../../../lib/metrics/use_cases.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { RetentionTable } from "../../../../components/RetentionTable.tsx";
import { StorageTable } from "../../../../components/StorageTable.tsx";
import { render } from "../../../_render.tsx";

/** `GET /o/:org/settings/metrics` (admins): retention in force and metric storage per host. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/settings/metrics", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const report = await metricStorage(c.var.services, org.id);
    return render(
      c,
      <>
        <PageHeader
          title="Metrics settings"
          sub="How long metrics are kept, and how much room this organization's hosts take."
        />
        {settingsTabs(c, "metrics")}
        <RetentionTable retention={c.var.services.config.metricsRetention} />
        <StorageTable
          report={report}
          hostHref={(id) => `/o/${encodeURIComponent(org.slug)}/hosts/${encodeURIComponent(id)}`}
        />
      </>,
      { title: "Metrics settings", active: "settings" },
    );
  });
}
