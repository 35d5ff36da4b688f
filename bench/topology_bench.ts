/**
 * `topology_500_nodes_patch_ms`: from a node's status change published on the topology topic to
 * Chromium having painted that node, with 500 nodes on the map (p95, target < 200 ms).
 *
 * The path measured is the real one: the hub's realtime publisher → the bus → the WebSocket hub →
 * the page's socket → the TopologyMap island applying the patch → Preact repainting the node → the
 * browser's next frame. Only the graph is made up: the page's graph source answers a generated
 * 500-node install (an install of 60 apps on 50 hosts would take this machine's whole Swarm), and
 * the fleet metrics topic carries samples for every host meanwhile, as it would.
 *
 * The publish time is taken just before `publish()` (`Date.now()`); the paint time in the page by a
 * MutationObserver on the node's `data-status`, then the frame after it (`requestAnimationFrame`,
 * then a task after that frame, so the paint itself is included), also `Date.now()`: this machine's
 * wall clock on both sides. bench/topology_e2e_bench.ts measures the whole path from a container's
 * change with the real graph source, reusing this file's hub, page and probe.
 *
 * Run alone: `deno run -A bench/topology_bench.ts` (merges into bench/results.json).
 */
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import type { Services } from "../services.ts";
import { topics } from "../lib/realtime/topics.ts";
import type { TopologyGraph, TopologyPatch } from "../lib/topology/graph.ts";
import { scopeTopic } from "../lib/topology/topics.ts";
import { generatedGraph } from "../islands/topology/fixture.ts";
import { layoutInput, runLayout } from "../islands/topology/layout.ts";
import {
  ARTIFACTS,
  chromiumMissing,
  launchBrowser,
  signIn,
  startBrowserHub,
} from "../tests/support/browser.ts";
import { buildIslands } from "../lib/islands/build.ts";
import { recordAlone, type RecordFigure } from "./results.ts";

const NODES = 500;
const PATCHES = 120;
const WARMUP = 10;

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Installs the repaint probe: node id → when the frame after its `data-status` change was done,
 * as `Date.now()`. The wall clock, read by the bench process and the browser alike, is the one
 * clock both share: each one's `performance.timeOrigin` is its own start's reading of it, and the
 * monotonic clocks drift from it over a long `deno task bench`.
 */
export async function installProbe(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __painted: Record<string, number> };
    w.__painted = {};
    const root = document.querySelector(".topo-nodes")!;
    new MutationObserver((records) => {
      const ids = new Set<string>();
      for (const r of records) {
        const el = r.target as Element;
        if (r.attributeName === "data-status" && el.getAttribute("data-id")) {
          ids.add(el.getAttribute("data-id")!);
        }
      }
      if (!ids.size) return;
      requestAnimationFrame(() => {
        // A task queued in the frame's callback runs after that frame's style, layout and paint.
        setTimeout(() => {
          const t = Date.now();
          for (const id of ids) w.__painted[id] = t;
        }, 0);
      });
    }).observe(root, { attributes: true, subtree: true, attributeFilter: ["data-status"] });
  });
}

/**
 * When (`Date.now()`) the frame after node `id`'s `data-status` change made at or after `after` was
 * done; throws when its status is then not `status`.
 */
export async function waitPainted(
  page: Page,
  id: string,
  after: number,
  status: string,
): Promise<number> {
  const painted = await page.waitForFunction(
    ([id, after]) => {
      const t = (window as unknown as { __painted: Record<string, number> }).__painted[id];
      return t !== undefined && t >= after ? t : false;
    },
    [id, after] as const,
    { timeout: 10_000, polling: 20 },
  ).then((h) => h.jsonValue() as Promise<number>);
  const shown = await page.locator(`.topo-node[data-id="${id}"]`).getAttribute("data-status");
  if (shown !== status) throw new Error(`${id} shows ${shown}, expected ${status}`);
  return painted;
}

/**
 * The browser tests' hub (fresh SQLite data directory, no jobs, no local agent, Ada owning "acme")
 * with freshly built islands, and a Chromium beside it.
 */
export async function startHubAndBrowser() {
  const root = new URL("../", import.meta.url).pathname;
  await buildIslands({ root });
  const { hub, org, dataDir, profile } = await startBrowserHub("bench-topology");
  const browser = await launchBrowser(profile).catch(async (e) => {
    await hub.stop();
    throw e;
  });
  return {
    hub,
    browser,
    org,
    async close() {
      await browser.close();
      await hub.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Signs Ada in and opens acme's topology page until its map shows `nodes` nodes and its socket is
 * live, then installs the repaint probe.
 */
export async function openTopologyMap(browser: BrowserContext, hubUrl: string, nodes: number) {
  const page = await browser.newPage();
  await signIn(page, hubUrl);
  await page.goto(`${hubUrl}/o/acme/topology`);
  await page.waitForFunction(
    (n) => document.querySelectorAll(".topo-node").length === n,
    nodes,
    { timeout: 60_000 },
  );
  await page.locator(".topo-map .live[data-state=live]").waitFor({ timeout: 30_000 });
  await installProbe(page);
  return page;
}

/** Live CPU and memory for every host twice a second, as a real page gets; returns the stop. */
export function publishFleetMetrics(services: Services, orgId: string, hostIds: string[]) {
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    for (const h of hostIds) {
      void services.realtime.publish(topics.fleetMetrics(orgId), {
        host_id: h,
        t: Date.now(),
        cpu: (tick * 7 + h.length * 13) % 100,
        mem: (tick * 3 + 40) % 100,
      });
    }
  }, 500);
  return () => clearInterval(timer);
}

/** Runs the bench and records its figures. */
export async function topologyBench(record: RecordFigure): Promise<void> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);

  // The layout alone, in V8 like the browser: what a structure change costs at 500 nodes.
  {
    const g = generatedGraph(NODES);
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      runLayout(layoutInput(g.nodes, g.edges));
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    record("topology_500_nodes_layout_ms", times[3]);
  }

  const { hub, browser, org, close } = await startHubAndBrowser();
  const { services } = hub;
  let stopMetrics: (() => void) | undefined;
  try {
    const graph: TopologyGraph = generatedGraph(NODES, {
      org: "acme",
      metricsTopic: () => topics.fleetMetrics(org.id),
    });
    const hostIds = graph.nodes.filter((n) => n.kind === "host").map((n) => n.id.slice(5));
    let version = graph.version;
    // The page's graph source answers the generated install (see the file's comment), at the
    // version the patches reached, as the real one does.
    services.topology.graph = () => Promise.resolve({ ...structuredClone(graph), version });

    const page = await openTopologyMap(browser, hub.url, graph.nodes.length);
    stopMetrics = publishFleetMetrics(services, org.id, hostIds);

    const topic = scopeTopic({ kind: "org", orgId: org.id });
    const tasks = graph.nodes.filter((n) => n.kind === "task");
    const latencies: number[] = [];
    for (let i = 0; i < WARMUP + PATCHES; i++) {
      const n = tasks[(i * 37) % tasks.length];
      n.status = n.status === "down" ? "running" : "down";
      const patch: TopologyPatch = { op: "node", version: ++version, node: { ...n } };
      const sent = Date.now();
      await services.realtime.publish(topic, patch);
      const painted = await waitPainted(page, n.id, sent, n.status);
      if (i >= WARMUP) latencies.push(painted - sent);
    }
    stopMetrics();
    stopMetrics = undefined;
    latencies.sort((a, b) => a - b);
    record("topology_500_nodes_patch_ms", percentile(latencies, 95));
    record("topology_500_nodes_patch_p50_ms", percentile(latencies, 50));
    // Still 500 nodes and no relayout happened (a repaint only).
    const count = await page.locator(".topo-node").count();
    if (count !== graph.nodes.length) throw new Error(`${count} nodes after the patches`);
    await Deno.mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "topology-bench-500.png") });
  } finally {
    stopMetrics?.();
    await close();
  }
}

if (import.meta.main) await recordAlone(topologyBench);
