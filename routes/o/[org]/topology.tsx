/**
 * `/o/:org/topology` (every member): the organization's routes, apps, services, tasks, hosts,
 * volumes and backup targets. The server renders a table per rank (what phones, screen readers and
 * browsers without JavaScript get); the TopologyMap island draws the same graph as a live map.
 */
import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { island } from "../../../lib/islands/island.tsx";
import type { TopologyGraph, TopologyPatch } from "../../../lib/topology/graph.ts";
import type { Topic } from "../../../lib/realtime/topics.ts";
import { scopeTopic, type TopologyScope } from "../../../lib/topology/topics.ts";
import TopologyMap from "../../../islands/TopologyMap.tsx";
import { PageHeader } from "../../../components/PageHeader.tsx";
import { Alert } from "../../../components/Alert.tsx";
import { EmptyState } from "../../../components/EmptyState.tsx";
import { TopologyTable } from "../../../components/TopologyTable.tsx";
import { render } from "../../_render.tsx";

const TopologyMapIsland = island("TopologyMap", TopologyMap);

/** The topology page of a scope: header, the map island, the table of the same graph. */
export async function topologyPage(
  c: AppContext,
  scope: TopologyScope,
  opts: { title: string; sub: string; active: string; graphUrl: string },
) {
  const graph: TopologyGraph = await c.var.services.topology.graph(scope);
  const now = c.var.services.clock.now();
  return render(
    c,
    <>
      <PageHeader title={opts.title} sub={opts.sub} />
      {graph.truncated && (
        <Alert kind="info">
          The graph was cut at its node limit ({graph.nodes.length}{" "}
          nodes): filter by app or host on the map, or use the Apps and Hosts pages for the rest.
        </Alert>
      )}
      {graph.nodes.length === 0
        ? (
          <EmptyState title="Nothing to map yet">
            <p>
              Hosts, apps, routes and volumes appear here once there are some.
            </p>
          </EmptyState>
        )
        : (
          <>
            <TopologyMapIsland
              graph={graph}
              topic={scopeTopic(scope) as Topic<TopologyPatch>}
              graphUrl={opts.graphUrl}
            />
            <TopologyTable graph={graph} now={now} />
          </>
        )}
    </>,
    { title: opts.title, active: opts.active },
  );
}

/** `GET /o/:org/topology`: the organization's topology (viewers and up). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/topology", "org:viewer", (c) => {
    const { org } = orgScopeOf(c);
    return topologyPage(c, { kind: "org", orgId: org.id }, {
      title: "Topology",
      sub:
        "Routes → apps → hosts → storage, live: status, CPU and memory, replicas, health and backups.",
      active: "topology",
      graphUrl: `/api/v1/topology?org=${encodeURIComponent(org.slug)}`,
    });
  });
}
