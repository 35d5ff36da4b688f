/**
 * The metrics part of a host's page: gauges, history charts and statistics (HostCharts), the
 * containers with their CPU and memory (HostContainers), and the filesystem and GPU panels. Each
 * island renders as a plain component when islands are not built, so the page works without JS.
 */
import type { AppContext } from "../../../../lib/http/context.ts";
import { island } from "../../../../lib/islands/island.tsx";
import type { HostDetail } from "../../../../lib/hosts/view.ts";
import { STATS_RANGES, type StatsRange } from "../../../../lib/metrics/query.ts";
import { RELATIVE_ACCURACY } from "../../../../lib/metrics/histogram.ts";
import { STALE_MS } from "../../../../lib/metrics/views.ts";
import { hostContainerUsage } from "../../../../lib/metrics/use_cases.ts";
import HostCharts, { type HostChartsProps } from "../../../../islands/HostCharts.tsx";
import HostContainers, { type HostContainersProps } from "../../../../islands/HostContainers.tsx";
import { chartSpecs, statsKeys } from "../../../../islands/client/keys.ts";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { FilesystemsPanel } from "../../../../components/FilesystemsPanel.tsx";
import { GpuPanel } from "../../../../components/GpuPanel.tsx";
import { Time } from "../../../../components/Time.tsx";
import { hasIsland, type PageKit } from "../../../_render.tsx";
import { topics } from "../../../../lib/realtime/topics.ts";

const HostChartsIsland = island("HostCharts", HostCharts);
const HostContainersIsland = island("HostContainers", HostContainers);

/** Container figures are refreshed this often (the agent samples containers every 10 s). */
const CONTAINERS_REFRESH_MS = 10_000;
const DEFAULT_RANGE: StatsRange = "1h";

/** The `?range=` of the page, or the default for anything else. */
export function rangeOf(c: AppContext): StatsRange {
  const r = c.req.query("range");
  return r && Object.hasOwn(STATS_RANGES, r) ? r as StatsRange : DEFAULT_RANGE;
}

/** Loads and renders the metrics section of a host's page. */
export async function hostMetricsSection(
  c: AppContext,
  kit: PageKit,
  org: { id: string; slug: string },
  host: HostDetail,
) {
  const { metrics, clock } = c.var.services;
  const now = clock.now();
  const base = `/o/${encodeURIComponent(org.slug)}`;
  const apiBase = `/api/v1/orgs/${encodeURIComponent(org.slug)}/hosts/${
    encodeURIComponent(host.id)
  }`;
  const containers = await hostContainerUsage(c.var.services, org.id, host.id);
  const containerProps: HostContainersProps = {
    url: `${apiBase}/metrics/containers`,
    containerHref: `${base}/containers/${encodeURIComponent(host.id)}/`,
    items: containers.items,
    total: containers.total,
    intervalMs: CONTAINERS_REFRESH_MS,
  };
  const containerTable = hasIsland(kit.manifest, "HostContainers")
    ? <HostContainersIsland {...containerProps} />
    : <HostContainers {...containerProps} />;

  const keys = await metrics.query.keys(host.id);
  if (!keys.length) {
    return (
      <>
        <EmptyState title="No metrics yet">
          <p>
            {host.enrolled
              ? "No metrics yet — the agent reports every 10 s. Reload in a moment."
              : "No metrics yet — they start once the agent enrolls; it then reports every 10 s."}
          </p>
        </EmptyState>
        {containers.total > 0 && containerTable}
      </>
    );
  }

  const range = rangeOf(c);
  const sk = statsKeys(keys);
  // Newest values whatever their age: an offline host shows what it last reported, dated below.
  const stamped = (await metrics.overview.hostLatest([host.id], 0)).get(host.id) ?? {};
  const latest: Record<string, number> = {};
  let latestT: number | null = null;
  for (const k in stamped) {
    latest[k] = stamped[k].v;
    latestT = Math.max(latestT ?? 0, stamped[k].t);
  }
  const cores = keys.filter((k) => k.startsWith("cpu.core_pct{")).length;
  const props: HostChartsProps = {
    topic: topics.hostMetrics(org.id, host.id),
    apiBase,
    range,
    ranges: { ...STATS_RANGES },
    charts: chartSpecs(keys),
    statsKeys: sk,
    stats: await metrics.query.stats(host.id, "", range, sk),
    relativeError: RELATIVE_ACCURACY,
    latest,
    latestT,
    cpus: host.cpus ?? (cores || null),
    now,
  };
  return (
    <>
      {latestT !== null && now - latestT > STALE_MS && (
        <p class="muted stale-note">
          Last sample at <Time ms={latestT} seconds />; the figures below are from then.
        </p>
      )}
      {hasIsland(kit.manifest, "HostCharts")
        ? <HostChartsIsland {...props} />
        : <HostCharts {...props} />}
      {containerTable}
      <FilesystemsPanel latest={latest} />
      <GpuPanel latest={latest} />
    </>
  );
}
