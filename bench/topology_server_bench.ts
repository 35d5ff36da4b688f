/**
 * Topology (issue 22), the server's share of `topology_500_nodes_patch_ms`: with a watched graph of
 * about 500 nodes (10 live hosts, 20 apps × 2 services × 10 replicas, routes, volumes, targets) on
 * a SQLite file, the time from a container's state change landing in the cache (and its
 * `agent.containers_changed`) to its `node` patch on the realtime bus — the debounce, one rebuild
 * from the modules' services and the diff. `topology_500_nodes_server_patch_ms` is the p95 of 30
 * changes; `topology_500_nodes_build_ms` the median of a graph read (GET) alone. The browser's
 * repaint after the patch is measured by the map's own bench.
 */
import { openDatabase } from "../lib/db/mod.ts";
import { migrateToLatest } from "../lib/db/migrate.ts";
import { loadConfig } from "../lib/config.ts";
import { createServices, type Services } from "../services.ts";
import { createMemoryBus } from "../lib/realtime/bus.ts";
import { memoryTransportPair } from "../lib/protocol/transport.ts";
import { parseSpec } from "../lib/apps/service.ts";
import type { ContainerState } from "../lib/protocol/messages.ts";
import type { Host } from "../lib/hosts/rows.ts";
import type { TopologyPatch } from "../lib/topology/graph.ts";
import type { RecordFigure } from "./results.ts";
import { recordAlone } from "./results.ts";

const CTX = { actor: { type: "system" as const, name: "bench" }, ip: null };

function container(id: string, name: string, state: string, labels: Record<string, string>) {
  return {
    id,
    name,
    image: "capstan-test/busybox:latest",
    image_id: "sha256:" + "0".repeat(64),
    command: "httpd",
    state,
    status: state === "running" ? "Up 1 minute" : "Exited (0)",
    created: 1,
    labels,
    ports: [],
  } satisfies ContainerState;
}

/** A host of the seeded install: its fake agent's containers, as the cache holds them. */
export type SeededHost = { host: Host; containers: ContainerState[] };

/**
 * Seeds organization `orgId` with `hosts` live hosts (fake agents through memoryTransportPair,
 * attached to `s.agents`) and `apps` apps of 2 services × 10 replicas whose containers are spread
 * over the hosts and in the cache; the first 7 apps' web services keep a volume. With 10 hosts and
 * 20 apps the org's graph has about 540 nodes. Shared by the server bench and the end-to-end one.
 */
export async function seedInstall(
  s: Services,
  orgId: string,
  opts: { hosts: number; apps: number },
): Promise<SeededHost[]> {
  const hosts: SeededHost[] = [];
  for (let i = 0; i < opts.hosts; i++) {
    const host = (await s.hosts.create(CTX, orgId, { name: `host-${i}` })).host;
    const [hubEnd, agentEnd] = memoryTransportPair();
    const attached = s.agents.attach(host, hubEnd);
    agentEnd.send(JSON.stringify({
      t: "hello",
      protocol: 1,
      agent_version: "bench",
      machine_id: `machine-bench-${i}`.padEnd(16, "0"),
      hostname: `host-${i}`,
      engine: null,
    }));
    await attached;
    hosts.push({ host, containers: [] });
  }
  let n = 0;
  for (let a = 0; a < opts.apps; a++) {
    const app = await s.apps.store.create(orgId, {
      name: `app-${a}`,
      spec: parseSpec({
        services: ["web", "worker"].map((name) => ({
          name,
          image: "capstan-test/busybox:latest",
          replicas: 10,
          // Some apps keep data: their web service's volume on each host it runs on.
          volumes: name === "web" && a < 7 ? [{ name: `data-${a}`, target: "/data" }] : [],
        })),
      }),
    }, null);
    for (const service of ["web", "worker"]) {
      for (let r = 0; r < 10; r++) {
        const id = (n++).toString(16).padStart(64, "0");
        hosts[r % hosts.length].containers.push(
          container(id, `app-${a}_${service}.${r}`, "running", {
            "capstan.app": app.id,
            "capstan.service": service,
          }),
        );
      }
    }
  }
  for (const x of hosts) await s.hosts.applySnapshot(x.host, x.containers);
  return hosts;
}

/** One state change: the container, its new state and when it was made (both clocks). */
export type ContainerChange = { id: string; state: string; t: number; at: number };

/** The `i`-th change of a run: which container, on which host, and the state it goes to. */
export function nextChange(hosts: SeededHost[], i: number) {
  const x = hosts[i % hosts.length];
  const c = x.containers[Math.floor(i / hosts.length) % x.containers.length];
  return { x, c, state: c.state === "running" ? "exited" : "running" };
}

/**
 * Makes the `i`-th change: flips one task container between running and exited in the agents'
 * cache and emits `agent.containers_changed`, as a container event from its agent does. `t`
 * (`performance.now()`) and `at` (`Date.now()`, comparable with a browser's on this machine) are
 * taken just before the cache changes.
 */
export async function changeContainer(
  s: Services,
  hosts: SeededHost[],
  i: number,
): Promise<ContainerChange> {
  const { x, c, state } = nextChange(hosts, i);
  c.state = state;
  const t = performance.now();
  const at = Date.now();
  await s.hosts.applyContainer(x.host, c.id, c);
  s.events.emit("agent.containers_changed", { host: x.host });
  return { id: c.id, state, t, at };
}

/** The graph's size and the latencies of `changes` state changes (ms, sorted). */
export async function topologyRuns(opts: { hosts: number; apps: number; changes: number }) {
  const dir = await Deno.makeTempDir({ prefix: "capstan-topology-bench-" });
  const h = openDatabase(`sqlite:${dir}/capstan.db`);
  const bus = createMemoryBus();
  const s = createServices({
    config: loadConfig({ CAPSTAN_DATA_DIR: dir, CAPSTAN_PUBLIC_URL: "http://hub.test" }),
    dbh: h,
    bus,
  });
  try {
    await migrateToLatest(h.db);
    const org = await s.orgs.create(CTX, { slug: "acme", name: "Acme" });
    const hosts = await seedInstall(s, org.id, opts);

    const scope = { kind: "org" as const, orgId: org.id };
    const reads: number[] = [];
    let nodes = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      nodes = (await s.topology.graph(scope)).nodes.length;
      reads.push(performance.now() - t);
    }

    const topic = `org:${org.id}:topology`;
    let waiter: { id: string; state: string; done: (t: number) => void } | undefined;
    bus.subscribe((t, data) => {
      const p = data as TopologyPatch;
      if (
        t === topic && waiter && p.op === "node" && p.node.id === `task:${waiter.id}` &&
        p.node.detail?.state === waiter.state
      ) waiter.done(performance.now());
    });
    const latencies: number[] = [];
    for (let i = 0; i < opts.changes; i++) {
      // The waiter is in place before the change: its patch may come before the call returns.
      const { c, state } = nextChange(hosts, i);
      const arrived = new Promise<number>((done) => (waiter = { id: c.id, state, done }));
      const change = await changeContainer(s, hosts, i);
      latencies.push((await arrived) - change.t);
    }
    await s.topology.close();
    return {
      nodes,
      readMs: reads.sort((a, b) => a - b),
      latencies: latencies.sort((a, b) => a - b),
    };
  } finally {
    s.agents.close();
    await h.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Measures the figures and hands them to `record`. */
export async function topologyServerBench(record: RecordFigure) {
  const r = await topologyRuns({ hosts: 10, apps: 20, changes: 30 });
  if (r.nodes < 450) throw new Error(`topology bench: only ${r.nodes} nodes`);
  record("topology_500_nodes_build_ms", pct(r.readMs, 50));
  record("topology_500_nodes_server_patch_ms", pct(r.latencies, 95));
}

if (import.meta.main) await recordAlone(topologyServerBench);
