// The fleet overview: headline figures and a card per host with CPU/memory sparklines. The server
// renders it with current numbers (a plain page without JS); hydrated, it follows the
// organization's metrics topic (one summary per agent report, with every sample's CPU and memory)
// and hosts topic (agents coming and going) and redraws in place.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { FleetCard, FleetHost, HostState } from "../lib/metrics/views.ts";
import { Sparkline } from "../components/Sparkline.tsx";
import {
  applyFleetEvent,
  type FleetTotals,
  fleetTotals,
  isFleetEvent,
} from "./client/fleet_model.ts";
import { bytes, pct, rate } from "../components/format.ts";
import { type LiveState, subscribeLive } from "./client/realtime.ts";
import { CHART_LIVE_LABELS, LiveMarker } from "./live/LiveMarker.tsx";
import type { FleetEvent, HostsEvent, Topic } from "../lib/realtime/topics.ts";

/** Props of the FleetLive island (JSON-serialisable). */
export interface FleetLiveProps {
  /** `topics.fleetMetrics(orgId)`. */
  topic: Topic<FleetEvent>;
  /** `topics.hosts(orgId)`. */
  hostsTopic: Topic<HostsEvent>;
  /** The server's clock when it rendered, ms: staleness is judged on the server's time scale. */
  now: number;
  staleMs: number;
  sparkPoints: number;
  hosts: FleetHost[];
  cards: FleetCard[];
}

const STATUS_TEXT: Record<HostState, string> = {
  online: "online",
  offline: "offline",
  waiting: "waiting for agent",
};
const STATUS_TONE: Record<HostState, string> = {
  online: "badge-ok",
  offline: "badge-error",
  waiting: "badge-warn",
};

/** One headline figure. */
function Figure(
  { label, value, detail, id }: { label: string; value: string; detail?: string; id: string },
) {
  return (
    <div class="card stat fleet-stat" data-fleet={id}>
      <span class="stat-label">{label}</span>
      <span class="stat-value">{value}</span>
      {detail && <span class="stat-detail">{detail}</span>}
    </div>
  );
}

/** The headline row: hosts, containers, CPU, memory, network. */
function Totals({ t }: { t: FleetTotals }) {
  const offline = [`${t.offline} offline`, t.waiting ? `${t.waiting} waiting for agent` : ""]
    .filter(Boolean).join(" · ");
  return (
    <div class="stats fleet-stats">
      <Figure
        id="hosts"
        label={`Hosts (${t.online} online)`}
        value={String(t.hosts)}
        detail={offline}
      />
      <Figure
        id="containers"
        label="Containers running"
        value={String(t.running)}
        detail={`of ${t.containers}`}
      />
      <Figure
        id="cpu"
        label="CPU (average)"
        value={pct(t.cpu)}
        detail={`${t.reporting} of ${t.hosts} hosts reporting`}
      />
      <Figure
        id="mem"
        label="Memory"
        value={pct(t.mem)}
        detail={t.memTotal ? `${bytes(t.memUsed)} of ${bytes(t.memTotal)}` : undefined}
      />
      <Figure id="net" label="Network" value={`↓ ${rate(t.rx)}`} detail={`↑ ${rate(t.tx)}`} />
    </div>
  );
}

/** A host's card: name, status, current figures and sparklines. */
function HostCard(
  { card, host, stale, slots }: {
    card: FleetCard;
    host: FleetHost | undefined;
    stale: boolean;
    slots: number;
  },
) {
  const status = host?.status ?? "offline";
  const cur = !stale && host;
  const last = card.points.at(-1)?.[0] ?? null;
  return (
    <li class="card host-card" data-host-card={card.id}>
      <div class="host-card-head">
        <a class="host-card-name" href={card.href}>{card.name}</a>
        {card.local && <span class="badge badge-accent">this hub</span>}
        <span data-host-status={card.id}>
          <span class={`badge ${STATUS_TONE[status]}`}>{STATUS_TEXT[status]}</span>
        </span>
      </div>
      <dl class="host-card-figures">
        <div>
          <dt>
            <span class="legend legend-cpu">CPU</span>
          </dt>
          <dd data-fig="cpu">{cur ? pct(host.cpu) : "—"}</dd>
        </div>
        <div>
          <dt>
            <span class="legend legend-mem">Memory</span>
          </dt>
          <dd data-fig="mem">{cur ? pct(host.mem) : "—"}</dd>
        </div>
        <div>
          <dt>Network</dt>
          <dd data-fig="net">
            {cur
              ? (
                <>
                  ↓ {rate(host.rx)}
                  <span class="host-card-sub">↑ {rate(host.tx)}</span>
                </>
              )
              : "—"}
          </dd>
        </div>
      </dl>
      {card.points.length
        ? (
          <Sparkline
            label={`CPU and memory of ${card.name}, last ${card.points.length} samples`}
            slots={slots}
            lastT={last}
            series={[
              { values: card.points.map((p) => p[1]), class: "spark-cpu" },
              { values: card.points.map((p) => p[2]), class: "spark-mem" },
            ]}
          />
        )
        : <p class="muted small host-card-empty">No metrics yet — the agent reports every 10 s.</p>}
      <p class="muted small host-card-foot">
        {host?.containers === null || host?.containers === undefined
          ? "containers —"
          : `${host.running ?? 0} of ${host.containers} containers running`}
      </p>
    </li>
  );
}

/** Fleet figures and host cards, live when hydrated. */
export default function FleetLive(props: FleetLiveProps) {
  const hosts = useSignal(props.hosts);
  const cards = useSignal(props.cards);
  const live = useSignal<LiveState>("off");
  // Client time + skew = the server's time scale, so staleness does not depend on the laptop clock.
  const skew = useSignal(0);
  const now = useSignal(props.now);

  useEffect(() => {
    skew.value = props.now - Date.now();
    const tick = setInterval(() => now.value = Date.now() + skew.value, 5000);
    const stop = subscribeLive<FleetEvent | HostsEvent>([props.topic, props.hostsTopic], {
      state: (s) => live.value = s,
      event(topic, data) {
        if (topic === props.hostsTopic) {
          const d = data as HostsEvent;
          if (typeof d?.host_id !== "string" || typeof d.online !== "boolean") return;
          hosts.value = hosts.value.map((h) =>
            h.id === d.host_id ? { ...h, status: d.online ? "online" : "offline" } : h
          );
          return;
        }
        if (!isFleetEvent(data)) return;
        hosts.value = hosts.value.map((h) => h.id === data.host_id ? applyFleetEvent(h, data) : h);
        const fresh = data.points ?? [[data.t, data.cpu ?? null, data.mem ?? null]];
        cards.value = cards.value.map((c) => {
          if (c.id !== data.host_id) return c;
          const last = c.points.at(-1)?.[0] ?? -Infinity;
          const add = fresh.filter((p) => p[0] > last);
          return add.length ? { ...c, points: [...c.points, ...add].slice(-props.sparkPoints) } : c;
        });
        now.value = Math.max(now.value, Date.now() + skew.value);
      },
    });
    return () => {
      clearInterval(tick);
      stop();
    };
  }, [props.topic, props.hostsTopic]);

  const byId = new Map(hosts.value.map((h) => [h.id, h]));
  const totals = fleetTotals(hosts.value, now.value, props.staleMs);
  return (
    <section class="fleet" aria-label="Fleet" data-live={live.value}>
      <Totals t={totals} />
      <div class="fleet-head">
        <h2>Hosts</h2>
        <LiveMarker state={live.value} labels={CHART_LIVE_LABELS} />
        <span class="legend legend-cpu small">CPU %</span>
        <span class="legend legend-mem small">Memory %</span>
      </div>
      <ul class="host-cards">
        {cards.value.map((c) => {
          const h = byId.get(c.id);
          const stale = !h || h.t === null || now.value - h.t > props.staleMs;
          return <HostCard key={c.id} card={c} host={h} stale={stale} slots={props.sparkPoints} />;
        })}
      </ul>
    </section>
  );
}
