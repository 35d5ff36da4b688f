// A host's containers with their current CPU and memory. Container figures are not in the live
// metrics messages (those carry host series only), so once hydrated the island asks the hub for
// the newest values every 10 s while the tab is visible. Without JS it is the table as rendered.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { ContainerUsage } from "../lib/metrics/views.ts";
import { bytes, pct, rate } from "../components/format.ts";

/** Props of the HostContainers island (JSON-serialisable). */
export interface HostContainersProps {
  /** `/api/v1/orgs/<slug>/hosts/<hostId>/metrics/containers`. */
  url: string;
  /** Link to a container's page: this prefix + its id. */
  containerHref: string;
  items: ContainerUsage[];
  total: number;
  intervalMs: number;
}

const STATE_TONE: Record<string, string> = {
  running: "badge-ok",
  restarting: "badge-warn",
  paused: "badge-warn",
  exited: "badge-neutral",
  dead: "badge-error",
};

/** CPU and memory of one container as table cells. */
function Row({ c, href }: { c: ContainerUsage; href: string }) {
  const mem = c.mem_used_bytes === null
    ? "—"
    : c.mem_limit_bytes
    ? `${bytes(c.mem_used_bytes)} / ${bytes(c.mem_limit_bytes)}`
    : bytes(c.mem_used_bytes);
  return (
    <tr data-container={c.id}>
      <td class="cell-container">
        <a href={`${href}${c.id}`}>{c.name}</a>
        <span class="cell-kind">
          <code>{c.image}</code>
        </span>
      </td>
      <td>
        <span class={`badge ${STATE_TONE[c.state] ?? "badge-neutral"}`}>{c.state}</span>
      </td>
      <td class="num" data-fig="cpu">
        {pct(c.cpu_pct)}
        {c.cpu_limit_pct !== null && <span class="cell-kind">{pct(c.cpu_limit_pct)} of limit</span>}
      </td>
      <td class="num" data-fig="mem">
        {mem}
        {c.mem_pct !== null && <span class="cell-kind">{pct(c.mem_pct)}</span>}
      </td>
      <td class="num nowrap">
        {c.net_rx_bps === null && c.net_tx_bps === null ? "—" : (
          <>
            ↓ {rate(c.net_rx_bps)}
            <span class="cell-kind">↑ {rate(c.net_tx_bps)}</span>
          </>
        )}
      </td>
    </tr>
  );
}

/** The container table, refreshed every `intervalMs` when hydrated. */
export default function HostContainers(props: HostContainersProps) {
  const items = useSignal(props.items);
  const total = useSignal(props.total);
  const failed = useSignal(false);

  useEffect(() => {
    let stopped = false;
    const refresh = async () => {
      if (document.hidden) return;
      try {
        const res = await fetch(props.url);
        if (!res.ok) throw new Error(String(res.status));
        const body = await res.json() as { items: ContainerUsage[]; total: number };
        if (stopped) return;
        items.value = body.items;
        total.value = body.total;
        failed.value = false;
      } catch {
        if (!stopped) failed.value = true;
      }
    };
    const timer = setInterval(refresh, props.intervalMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [props.url, props.intervalMs]);

  const list = items.value;
  return (
    <section class="card host-containers" aria-labelledby="containers-title">
      <div class="section-head">
        <h2 id="containers-title">Containers</h2>
        <span class="muted small">
          {total.value > list.length ? `${list.length} of ${total.value}, running first` : ""}
          {failed.value ? " Could not refresh; retrying." : ""}
        </span>
      </div>
      {list.length === 0
        ? <p class="muted">No containers on this host (as its agent last reported).</p>
        : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Container</th>
                  <th scope="col">State</th>
                  <th scope="col" class="num">CPU</th>
                  <th scope="col" class="num">Memory</th>
                  <th scope="col" class="num">Network</th>
                </tr>
              </thead>
              <tbody>
                {list.map((c) => <Row key={c.id} c={c} href={props.containerHref} />)}
              </tbody>
            </table>
          </div>
        )}
      <p class="muted small footnote">
        Container figures are sampled every 10 s; CPU is a share of the whole host.
      </p>
    </section>
  );
}
