/**
 * `topology_500_nodes_e2e_ms` (issue 22, target < 200 ms p95): the whole path of a status change in
 * one run, from a container's state change landing in the agents' cache to Chromium having painted
 * its node, with the real graph source and about 540 nodes on the map.
 *
 * A real hub HTTP server on a SQLite file; its org holds the install the server bench seeds (10 live
 * hosts through fake agents, 20 apps × 2 services × 10 replicas, 7 volumes per host that has them:
 * bench/topology_server_bench.ts `seedInstall`); the org's topology page is open in Chromium with
 * the map drawn and its socket live (bench/topology_bench.ts `openTopologyMap`), the fleet metrics
 * topic carrying samples for every host twice a second meanwhile. Each sample flips one task
 * container between running and exited exactly as the server bench does (`changeContainer`: the
 * cache, then `agent.containers_changed`), so the path is the topology service's debounce, one
 * rebuild from the modules' services, the diff, the realtime publisher, the bus, the WebSocket, the
 * map island's patch, Preact's repaint and the browser's next frame.
 *
 * Both ends are `Date.now()` on this machine: the change's just before the cache changes, the
 * page's after the frame following the node's `data-status` change (the probe of
 * bench/topology_bench.ts). `topology_500_nodes_e2e_ms` is the p95 of 40 changes after 10 of
 * warm-up; `topology_500_nodes_e2e_p50_ms` their median.
 *
 * Run alone: `deno run -A bench/topology_e2e_bench.ts` (merges into bench/results.json).
 */
import type { TopologyStatus } from "../lib/topology/graph.ts";
import { containerStatus } from "../lib/topology/build.ts";
import { chromiumMissing } from "../tests/support/browser.ts";
import { recordAlone, type RecordFigure } from "./results.ts";
import {
  openTopologyMap,
  percentile,
  publishFleetMetrics,
  startHubAndBrowser,
  waitPainted,
} from "./topology_bench.ts";
import { changeContainer, seedInstall } from "./topology_server_bench.ts";

/** The latencies (ms, sorted) of `changes` changes after `warmup`, and the map's node count. */
export async function topologyE2eRuns(
  opts: { hosts: number; apps: number; warmup: number; changes: number },
) {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  const { hub, browser, org, close } = await startHubAndBrowser();
  const { services } = hub;
  let stopMetrics: (() => void) | undefined;
  try {
    const hosts = await seedInstall(services, org.id, opts);
    // What the page will draw: the same read its server render and its API call make.
    const nodes = (await services.topology.graph({ kind: "org", orgId: org.id })).nodes.length;
    const page = await openTopologyMap(browser, hub.url, nodes);
    stopMetrics = publishFleetMetrics(services, org.id, hosts.map((x) => x.host.id));

    const latencies: number[] = [];
    for (let i = 0; i < opts.warmup + opts.changes; i++) {
      const change = await changeContainer(services, hosts, i);
      // The hosts are live and no health check runs: the node's status is the container's.
      const status: TopologyStatus = containerStatus(change.state, true, "none");
      const painted = await waitPainted(page, `task:${change.id}`, change.at, status);
      if (i >= opts.warmup) latencies.push(painted - change.at);
    }
    const count = await page.locator(".topo-node").count();
    if (count !== nodes) {
      throw new Error(`${count} nodes on the map after the changes, not ${nodes}`);
    }
    return { nodes, latencies: latencies.sort((a, b) => a - b) };
  } finally {
    stopMetrics?.();
    await close();
  }
}

/** Measures the figures and hands them to `record`. */
export async function topologyE2eBench(record: RecordFigure): Promise<void> {
  const r = await topologyE2eRuns({ hosts: 10, apps: 20, warmup: 10, changes: 40 });
  if (r.nodes < 450) throw new Error(`topology e2e bench: only ${r.nodes} nodes`);
  record("topology_500_nodes_e2e_ms", percentile(r.latencies, 95));
  record("topology_500_nodes_e2e_p50_ms", percentile(r.latencies, 50));
}

if (import.meta.main) await recordAlone(topologyE2eBench);
