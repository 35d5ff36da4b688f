/**
 * The metrics part of an app's page: CPU, memory and network charts over 1 h … 30 d, drawn by
 * the host page's chart island (HostCharts) from the app metrics API. Per service a solid line
 * (the sum over its containers) and, for CPU and memory, a dashed line per replica.
 */
import { island } from "../../../../lib/islands/island.tsx";
import type { App } from "../../../../lib/apps/store.ts";
import { replicaKey, serviceKey } from "../../../../lib/apps/metrics.ts";
import { STATS_RANGES } from "../../../../lib/metrics/query.ts";
import { RELATIVE_ACCURACY } from "../../../../lib/metrics/histogram.ts";
import type { AppContext } from "../../../../lib/http/context.ts";
import HostCharts, { type HostChartsProps } from "../../../../islands/HostCharts.tsx";
import { type ChartLine, type ChartSpec, FAMILY_CAP } from "../../../../islands/client/keys.ts";
import { hasIsland, type PageKit } from "../../../_render.tsx";
import { rangeOf } from "../hosts/_metrics.tsx";

const HostChartsIsland = island("HostCharts", HostCharts);
const COLORS = ["--accent", "--ok", "--warn", "--err", "--muted"];

/** The charts of an app's services: a total per service, replicas of replicated ones dashed. */
export function appChartSpecs(
  services: { name: string; replicas: number; global: boolean }[],
): ChartSpec[] {
  const shown = services.slice(0, FAMILY_CAP);
  const single = shown.length === 1;
  const perService = (key: string, withReplicas: boolean): ChartLine[] => {
    const lines: ChartLine[] = [];
    for (const s of shown) {
      lines.push({ label: single ? "Total" : s.name, keys: [serviceKey(key, s.name)], color: "" });
      if (!withReplicas || s.global) continue;
      for (let slot = 1; slot <= Math.min(s.replicas, 4); slot++) {
        const name = `${s.name}.${slot}`;
        lines.push({ label: name, keys: [replicaKey(key, name)], color: "", dashed: true });
      }
    }
    return lines.slice(0, FAMILY_CAP).map((l, i) => ({ ...l, color: COLORS[i % COLORS.length] }));
  };
  const net: ChartLine[] = shown.flatMap((s, i) => [
    {
      label: single ? "In" : `${s.name} in`,
      keys: [serviceKey("ctr.net_rx_bps", s.name)],
      color: COLORS[(2 * i) % COLORS.length],
    },
    {
      label: single ? "Out" : `${s.name} out`,
      keys: [serviceKey("ctr.net_tx_bps", s.name)],
      color: COLORS[(2 * i + 1) % COLORS.length],
    },
  ]).slice(0, FAMILY_CAP);
  return [
    { id: "cpu", title: "CPU", unit: "pct", lines: perService("ctr.cpu_pct", true) },
    { id: "mem", title: "Memory", unit: "bytes", lines: perService("ctr.mem_used_bytes", true) },
    { id: "net", title: "Network", unit: "bps", lines: net },
  ];
}

/** The app's metrics section (charts hydrate in the browser; range links work without JS). */
export function appMetricsSection(
  c: AppContext,
  kit: PageKit,
  org: { slug: string },
  app: App,
) {
  const props: HostChartsProps = {
    apiBase: `/api/v1/orgs/${encodeURIComponent(org.slug)}/apps/${encodeURIComponent(app.name)}`,
    historyTitle: "Metrics",
    emptyNote: "No figures in this range: the app's containers report once they run on a host " +
      "with an agent (every 10 s).",
    range: rangeOf(c),
    ranges: { ...STATS_RANGES },
    charts: appChartSpecs(app.spec.services),
    statsKeys: [],
    stats: [],
    relativeError: RELATIVE_ACCURACY,
    latest: {},
    latestT: null,
    cpus: null,
    now: c.var.services.clock.now(),
  };
  return (
    <section class="app-metrics" aria-label="Metrics">
      {hasIsland(kit.manifest, "HostCharts")
        ? <HostChartsIsland {...props} />
        : <HostCharts {...props} />}
      <p class="muted small footnote">
        Each service's line is the sum over its containers (CPU as % of each container's host);
        dashed lines are its replicas, each across the containers that held it, so the history of
        containers replaced by a deploy or a move to another node stays in.
      </p>
    </section>
  );
}
