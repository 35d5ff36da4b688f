// One check's response-time chart on its detail page. The server renders the chart of the chosen
// range (range links work without JS); hydrated, the island switches ranges by refetching the
// response-times API, follows the organization's health topic and, when a batch brings results
// of this check, refetches the series (at most once a second) and updates the state badge.
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { useLiveTopic } from "./live/use_live_topic.ts";
import { LIVE_LABELS, LiveMarker } from "./live/LiveMarker.tsx";
import { showCheckState } from "./HealthLive.tsx";
import type { HealthEvent, Topic } from "../lib/realtime/topics.ts";
import { HealthChart, type Series } from "../components/HealthChart.tsx";
import { RangePicker } from "../components/RangePicker.tsx";

/** Props of the HealthDetail island (JSON-serialisable). */
export interface HealthDetailProps {
  /** `topics.health(orgId)`. */
  topic: Topic<HealthEvent>;
  checkId: string;
  hostId: string;
  /** `/api/v1/orgs/<slug>/health-checks/<id>/response-times`. */
  seriesUrl: string;
  ranges: string[];
  series: Series;
}

const LABELS = { ...LIVE_LABELS, live: "Live chart", retrying: "Live chart lost; reconnecting…" };

/** The chart with its range picker and live marker. */
export default function HealthDetail(p: HealthDetailProps) {
  const series = useSignal<Series>(p.series);
  const range = useSignal(p.series.range);
  const error = useSignal<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const seq = useRef(0);

  const load = async (r: string) => {
    const mine = ++seq.current;
    try {
      const res = await fetch(`${p.seriesUrl}?range=${encodeURIComponent(r)}`, {
        headers: { accept: "application/json" },
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const s = await res.json() as Series;
      if (mine !== seq.current) return;
      series.value = s;
      error.value = null;
    } catch (e) {
      if (mine === seq.current) error.value = `Could not load the chart: ${(e as Error).message}`;
    }
  };
  // Batches come every few seconds per host; one refetch per second at most.
  const soon = () => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      void load(range.value);
    }, 1000);
  };
  useEffect(() => () => clearTimeout(timer.current), []);

  const state = useLiveTopic([p.topic], (_topic, e) => {
    if (!e) return;
    if (e.kind === "state" && e.check_id === p.checkId && e.state) {
      showCheckState(p.checkId, e.state);
    } else if (e.kind === "results" && e.host_id === p.hostId) {
      const mine = e.checks?.find((c) => c.id === p.checkId);
      if (mine) showCheckState(p.checkId, mine.state);
      if (mine || !e.checks) soon();
    }
  });

  return (
    <section class="card health-chart-card" aria-labelledby="hc-title">
      <div class="card-head">
        <h2 id="hc-title">Response time</h2>
        <RangePicker
          ranges={p.ranges}
          range={range.value}
          onPick={(r) => {
            range.value = r;
            history.replaceState(null, "", `?range=${encodeURIComponent(r)}`);
            void load(r);
          }}
        />
      </div>
      <HealthChart series={series.value} />
      {error.value && <p class="error-text small">{error.value}</p>}
      <LiveMarker state={state.value} labels={LABELS} />
    </section>
  );
}
