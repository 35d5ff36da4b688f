import type { Hono } from "hono";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
  principalOf,
} from "../../../lib/http/context.ts";
import type { HttpError } from "../../../lib/http/errors.ts";
import { notFound } from "../../../lib/http/errors.ts";
import { page } from "../../../lib/http/pages.ts";
import type { NodeView } from "../../../lib/apps/cluster.ts";
import { PageHeader } from "../../../components/PageHeader.tsx";
import { EmptyState } from "../../../components/EmptyState.tsx";
import { StatCard } from "../../../components/StatCard.tsx";
import { Alert } from "../../../components/Alert.tsx";
import { ConfirmAction } from "../../../components/ConfirmAction.tsx";
import { type NodeActions, WorkersTable } from "../../../components/WorkersTable.tsx";
import { type PageKit, render, seeOther } from "../../_render.tsx";
import { ActionError, actionError, ClusterAway, fromCluster } from "./apps/_app.tsx";
import { type Heartbeat, heartbeatOf } from "../../../lib/agents/heartbeat.ts";
import { duration } from "../../../components/format.ts";

const PATH = "/o/:org/workers";
const HOST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The node actions: what each asks of the cluster, whether it needs a confirmation first. */
const ACTIONS = {
  active: { confirm: false, done: "node_active" },
  pause: { confirm: false, done: "node_paused" },
  drain: { confirm: true, done: "node_drained" },
  promote: { confirm: false, done: "node_promoted" },
  demote: { confirm: true, done: "node_demoted" },
  leave: { confirm: true, done: "node_left" },
} as const;
type Action = keyof typeof ACTIONS;

const DONE: Record<string, string> = {
  node_active: "The node takes new tasks again.",
  node_paused: "The node is paused: it keeps its tasks but takes no new ones.",
  node_drained: "The node is drained: its tasks run on other nodes now.",
  node_promoted: "The node is a manager now.",
  node_demoted: "The node is a worker now.",
  node_left: "The host left the cluster; its tasks run on other nodes.",
};

const base = (c: AppContext) => `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}`;

/** Which nodes the caller may act on: hosts of this organization, or any for platform admins. */
async function actionable(c: AppContext, nodes: NodeView[]): Promise<Set<string>> {
  const { org } = orgScopeOf(c);
  if (principalOf(c).isAdmin) {
    return new Set(nodes.map((n) => n.host_id).filter((h): h is string => Boolean(h)));
  }
  const mine = new Set((await c.var.services.hosts.list(org.id)).map((h) => h.id));
  return new Set(nodes.map((n) => n.host_id).filter((h): h is string => Boolean(h && mine.has(h))));
}

/**
 * The heartbeat of each node's agent, by node id, for the nodes whose host the caller may see
 * (this organization's, any for platform admins); a node without one shows none.
 */
async function heartbeats(
  c: AppContext,
  nodes: NodeView[],
  orgHosts: Map<string, { last_seen_at: number | null }>,
): Promise<Map<string, Heartbeat>> {
  const { clock, config } = c.var.services;
  const out = new Map<string, Heartbeat>();
  for (const n of nodes) {
    if (!n.host_id) continue;
    const host = orgHosts.get(n.host_id) ??
      (principalOf(c).isAdmin ? await c.var.services.hosts.byId(n.host_id) : undefined);
    if (!host) continue;
    out.set(
      n.node_id,
      heartbeatOf(host.last_seen_at, clock.now(), config.workerHeartbeat.timeoutMs),
    );
  }
  return out;
}

/** The cluster's health at a glance: nodes ready, down and unhealthy, managers reachable, quorum. */
function Overview({ nodes, beats, timeoutMs }: {
  nodes: NodeView[];
  beats: Map<string, Heartbeat>;
  timeoutMs: number;
}) {
  const managers = nodes.filter((n) => n.role === "manager");
  const reachable = managers.filter((n) => n.reachability === "reachable" || n.leader);
  const down = nodes.filter((n) => n.state !== "ready");
  const unhealthy = nodes.filter((n) => beats.get(n.node_id)?.unhealthy);
  const quorum = reachable.length > managers.length / 2;
  return (
    <>
      <div class="stats worker-stats">
        <StatCard label="nodes ready" value={`${nodes.length - down.length} of ${nodes.length}`} />
        <StatCard label="managers reachable" value={`${reachable.length} of ${managers.length}`} />
        <StatCard label="quorum" value={quorum ? "yes" : "lost"} />
        <StatCard label="nodes down" value={down.length} />
        <StatCard label="nodes unhealthy" value={unhealthy.length} />
      </div>
      {unhealthy.length > 0 && (
        <Alert kind="warn">
          No heartbeat for over {duration(timeoutMs / 1000)} from the agent of{" "}
          {unhealthy.map((n) => n.hostname).join(", ")}.
        </Alert>
      )}
      {!quorum && (
        <Alert kind="error">
          The cluster has lost its quorum: fewer than half of its managers are reachable, so nothing
          can be scheduled or changed until they are back.
        </Alert>
      )}
      {down.length > 0 && quorum && (
        <Alert kind="warn">
          {down.map((n) => n.hostname).join(", ")} {down.length === 1 ? "is" : "are"}{" "}
          down: Swarm moves replicated tasks to the other nodes.
        </Alert>
      )}
    </>
  );
}

/** The Workers page, optionally with the error of an action posted from it. */
async function workersPage(c: AppContext, error?: HttpError) {
  const { org } = orgScopeOf(c);
  const b = base(c);
  const isAdmin = principalOf(c).isAdmin;
  const cluster = await c.var.services.cluster.info();
  const done = c.req.query("done");
  if (!cluster) {
    return render(
      c,
      <>
        <PageHeader title="Workers" sub="The nodes of the cluster that runs apps." />
        <EmptyState title="There is no cluster yet">
          <p>
            Apps run on a Docker Swarm cluster made of Capstan's hosts. {isAdmin
              ? (
                <>
                  Create it in <a href={`${b}/settings/cluster`}>Settings → Cluster</a>{" "}
                  on one of your hosts; other hosts join it from there.
                </>
              )
              : "A platform admin creates it in Settings → Cluster."}
          </p>
        </EmptyState>
      </>,
      { title: "Workers", active: "workers" },
    );
  }
  const nodes = await fromCluster(() => c.var.services.cluster.nodes());
  const allowed = nodes.ok ? await actionable(c, nodes.value) : new Set<string>();
  const orgHosts = new Map((await c.var.services.hosts.list(org.id)).map((h) => [h.id, h]));
  const beats = nodes.ok ? await heartbeats(c, nodes.value, orgHosts) : new Map();
  const { timeoutMs } = c.var.services.config.workerHeartbeat;
  const actions: NodeActions = {
    href: (hostId, action) => `${b}/workers/${hostId}/${action}`,
    allowed: (n) => Boolean(n.host_id && allowed.has(n.host_id)),
    managerHostId: cluster.manager_host_id,
    hostHref: (n) =>
      n.host_id && orgHosts.has(n.host_id) ? `${b}/hosts/${encodeURIComponent(n.host_id)}` : null,
  };
  return render(
    c,
    <>
      <PageHeader
        title="Workers"
        sub={
          <>
            The nodes of the cluster that runs apps
            {isAdmin && (
              <>
                {" "}· <a href={`${b}/settings/cluster`}>Settings → Cluster</a>
              </>
            )}
          </>
        }
      />
      {done && Object.hasOwn(DONE, done) && <Alert kind="ok">{DONE[done]}</Alert>}
      <ActionError error={error} />
      {nodes.ok
        ? (
          <>
            <Overview nodes={nodes.value} beats={beats} timeoutMs={timeoutMs} />
            <WorkersTable nodes={nodes.value} actions={actions} heartbeats={beats} />
            <p class="hint">
              The hub pings each agent every{" "}
              {duration(c.var.services.config.workerHeartbeat.intervalMs / 1000)}; a node whose
              agent has not answered for {duration(timeoutMs / 1000)}{" "}
              is unhealthy. Drain is safe: replacements start on other nodes first, and only once
              they run does the node stop its tasks. Pause keeps a node's tasks but gives it no new
              ones. Actions are offered on this organization's hosts{isAdmin
                ? " (any host for platform admins)"
                : ""}.
            </p>
          </>
        )
        : <ClusterAway error={nodes.error} />}
    </>,
    { title: "Workers", active: "workers", status: error?.status ?? 200 },
  );
}

/** The host of a node action, if the caller may act on it; 404 otherwise (as for a missing one). */
async function nodeOf(c: AppContext): Promise<{ hostId: string; name: string }> {
  const hostId = c.req.param("hostId") ?? "";
  if (!HOST_ID.test(hostId)) throw notFound("Node");
  const member = await c.var.services.cluster.member(hostId);
  const host = await c.var.services.hosts.byId(hostId);
  if (!member || !host) throw notFound("Node");
  if (host.org_id !== orgScopeOf(c).org.id && !principalOf(c).isAdmin) throw notFound("Node");
  return { hostId, name: host.name };
}

/** Runs a node action through the cluster service. */
async function runAction(c: AppContext, hostId: string, action: Action): Promise<void> {
  const cluster = c.var.services.cluster;
  const ctx = actionContext(c);
  if (action === "promote") return await cluster.setRole(ctx, hostId, "manager");
  if (action === "demote") return await cluster.setRole(ctx, hostId, "worker");
  if (action === "leave") return await cluster.leave(ctx, hostId);
  await cluster.setAvailability(ctx, hostId, action);
}

/** Why a confirmation is asked, in words for each destructive action. */
function confirmText(action: "drain" | "demote" | "leave", name: string) {
  if (action === "drain") {
    return (
      <p>
        Every task on {name}{" "}
        moves to other nodes: replacements start there first, and only once they run does {name}
        {" "}
        stop its own, so no service drops below its running replicas. Until you make it active
        again, {name}{" "}
        takes no tasks. With no other active node the replacements have nowhere to go, and the drain
        gives up after a few minutes.
      </p>
    );
  }
  if (action === "demote") {
    return (
      <p>
        {name}{" "}
        stops being a manager: it no longer takes part in the cluster's decisions. Keep an odd
        number of managers, and at least one, so the cluster keeps its quorum.
      </p>
    );
  }
  return (
    <p>
      {name}{" "}
      is drained safely (its tasks move to other nodes first), its engine leaves the swarm and the
      node is removed from the cluster. It can join again from Settings → Cluster.
    </p>
  );
}

/**
 * `GET /o/:org/workers` (org admins): every node of the cluster; `POST …/:hostId/<action>` for
 * active, pause, drain, promote, demote and leave, with a confirmation page for drain, demote and
 * leave (`GET …/:hostId/<action>`).
 */
export function register(app: Hono<AppEnv>, _kit: PageKit): void {
  page(app, "GET", PATH, "org:admin", (c) => workersPage(c));

  for (const action of Object.keys(ACTIONS) as Action[]) {
    const path = `${PATH}/:hostId/${action}`;
    if (ACTIONS[action].confirm) {
      const what = action as "drain" | "demote" | "leave";
      page(app, "GET", path, "org:admin", async (c) => {
        const { hostId, name } = await nodeOf(c);
        const titles = {
          drain: `Drain ${name}?`,
          demote: `Demote ${name} to a worker?`,
          leave: `Take ${name} out of the cluster?`,
        };
        const buttons = { drain: "Drain", demote: "Demote", leave: "Leave the cluster" };
        return render(
          c,
          <ConfirmAction
            title={titles[what]}
            action={`${base(c)}/workers/${hostId}/${action}`}
            confirm={buttons[what]}
            cancelHref={`${base(c)}/workers`}
          >
            {confirmText(what, name)}
          </ConfirmAction>,
          { title: titles[what], active: "workers" },
        );
      });
    }
    page(app, "POST", path, "org:admin", async (c) => {
      const { hostId } = await nodeOf(c);
      try {
        await runAction(c, hostId, action);
      } catch (err) {
        return await workersPage(c, actionError(err));
      }
      return seeOther(c, `${base(c)}/workers?done=${ACTIONS[action].done}`);
    });
  }
}
