import type { Hono } from "hono";
import { requirePlatformAdmin, settingsTabs } from "./[panel].tsx";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../../lib/http/context.ts";
import { notFound } from "../../../../lib/http/errors.ts";
import { page } from "../../../../lib/http/pages.ts";
import type { ClusterView, NodeView, SwarmState } from "../../../../lib/apps/cluster.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { ConfirmForm } from "../../../../components/ConfirmForm.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { Time } from "../../../../components/Time.tsx";
import {
  FormAlert,
  type FormState,
  SelectField,
  TextField,
} from "../../../../components/Field.tsx";
import { errorsOf, type FormValues, httpErrorOf, readForm } from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";
import { type HostChoice, hostChoices, pickHost } from "../_docker.tsx";
import { actionError, fromCluster } from "../apps/_app.tsx";

const PATH = "/o/:org/settings/cluster";

const selfOf = (c: AppContext) =>
  `/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/settings/cluster`;

/**
 * The advertise address to offer: the install's setting (CAPSTAN_SWARM_ADVERTISE_ADDR), else the
 * address the host's engine already advertises in a swarm; blank when neither is known (the hub
 * does not know its hosts' addresses).
 */
function advertiseDefault(state: SwarmState | undefined): string {
  let configured: string | undefined;
  try {
    configured = Deno.env.get("CAPSTAN_SWARM_ADVERTISE_ADDR")?.trim();
  } catch {
    // Without env access the engine's own address is the suggestion.
  }
  return configured || state?.node_addr || "";
}

/** What a host's engine says of its swarm membership; undefined when its agent cannot say. */
async function stateOf(c: AppContext, hostId: string): Promise<SwarmState | undefined> {
  try {
    return await c.var.services.cluster.state(hostId);
  } catch (err) {
    if (httpErrorOf(err)) return undefined;
    throw err;
  }
}

/** The engine's membership in words, for the create form. */
function EngineState({ state, host }: { state: SwarmState | undefined; host: HostChoice }) {
  if (!state) {
    return <p class="muted">{host.name}'s engine did not say whether it is in a swarm.</p>;
  }
  if (state.state !== "active") {
    return (
      <p class="muted">
        {host.name}'s engine is in no swarm: a new single-node cluster is created on it, with{" "}
        {host.name} as its manager.
      </p>
    );
  }
  return (
    <Alert kind="info">
      {host.name}'s engine is already {state.manager ? "a manager" : "a worker"} of a swarm
      {state.node_addr ? ` (it advertises ${state.node_addr})` : ""}. {state.manager
        ? "Capstan adopts that swarm after you confirm: its nodes and services stay as they are."
        : "Create the cluster on a manager of that swarm, or make this engine leave it first."}
    </Alert>
  );
}

/** No cluster yet: the create form for one online host of this organization. */
async function createView(c: AppContext, form: FormState) {
  const hosts = await hostChoices(c);
  const online = hosts.filter((h) => h.online);
  const chosen = pickHost(online, form.values?.host ?? c.req.query("host"));
  if (!chosen) {
    return (
      <EmptyState title="No host is online">
        <p>
          The cluster is created through a host's agent. Once a host of this organization is
          connected (<a href={`/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/hosts`}>Hosts</a>),
          it can be the cluster's first manager.
        </p>
      </EmptyState>
    );
  }
  const state = await stateOf(c, chosen.id);
  const values = form.values ?? { advertise_addr: advertiseDefault(state) };
  const self = selfOf(c);
  return (
    <section class="card" aria-labelledby="create-title">
      <h2 id="create-title">Create cluster on {chosen.name}</h2>
      <p>
        Apps run on a Docker Swarm cluster made of Capstan's hosts. Its first node is its manager;
        other hosts join it afterwards. Everything goes through the hosts' agents: no Docker port is
        opened to the hub, and join tokens are never shown or stored.
      </p>
      {online.length > 1 && (
        <form method="get" action={self} class="inline-form host-picker" aria-label="Choose a host">
          <label for="cluster-host">Host</label>
          <select id="cluster-host" name="host">
            {online.map((h) => (
              <option key={h.id} value={h.id} selected={h.id === chosen.id}>{h.name}</option>
            ))}
          </select>
          <button class="btn btn-small" type="submit">Choose</button>
        </form>
      )}
      <EngineState state={state} host={chosen} />
      <form method="post" action={`${self}/create`} class="form stack">
        <FormAlert errors={form.errors} />
        <input type="hidden" name="host" value={chosen.id} />
        <TextField
          name="advertise_addr"
          label="Advertise address"
          required
          placeholder="10.0.0.5"
          hint="The address of this host that other hosts reach it at (an IP, or an interface name such as eth0); prefilled from CAPSTAN_SWARM_ADVERTISE_ADDR or the engine's own."
          values={values}
          errors={form.errors}
          idPrefix="cl"
        />
        <div class="actions">
          <button class="btn btn-primary" type="submit">Create cluster on {chosen.name}</button>
        </div>
      </form>
    </section>
  );
}

/** What the cluster offers, said plainly. */
function ClusterFacts(
  { cluster, manager, nodes, workersHref }: {
    cluster: ClusterView;
    manager: string;
    nodes: NodeView[] | undefined;
    workersHref: string;
  },
) {
  const managers = nodes?.filter((n) => n.role === "manager").length ?? 0;
  const ready = nodes?.filter((n) => n.state === "ready").length ?? 0;
  return (
    <section class="card" aria-labelledby="cluster-title">
      <h2 id="cluster-title">The cluster</h2>
      <dl class="props cluster-facts">
        <dt>Manager</dt>
        <dd>{manager}</dd>
        <dt>Advertise address</dt>
        <dd>
          <code>{cluster.advertise_addr}</code>
        </dd>
        <dt>Routing mesh</dt>
        <dd data-fact="routing-mesh">
          {cluster.routing_mesh
            ? "On: ports published in ingress mode answer on every node and reach any task."
            : "Off: this kernel has no IPVS, so ports are published in host mode (on the node a task runs on) and services find each other by DNS round-robin."}
        </dd>
        <dt>Encrypted networks</dt>
        <dd data-fact="encryption">
          {cluster.encrypted_networks
            ? "On: each organization's network is encrypted (IPsec) between nodes."
            : "Off: this kernel cannot encrypt overlay traffic (no AES-GCM for IPsec), so traffic between nodes on organization networks is not encrypted."}
        </dd>
        <dt>{cluster.adopted ? "Adopted" : "Created"}</dt>
        <dd>
          <Time ms={cluster.created_at} />
        </dd>
        <dt>Nodes</dt>
        <dd>
          {nodes
            ? (
              <>
                {nodes.length} ({managers} manager{managers === 1 ? "" : "s"},{" "}
                {nodes.length - managers} worker{nodes.length - managers === 1 ? "" : "s"}), {ready}
                {" "}
                ready
              </>
            )
            : <span class="muted">the manager did not answer</span>} ·{" "}
          <a href={workersHref}>Workers</a>
        </dd>
      </dl>
    </section>
  );
}

/** Joining a host of this organization as a worker or a manager. */
function JoinForm(
  { action, hosts, form }: { action: string; hosts: HostChoice[]; form: FormState },
) {
  return (
    <section class="card" aria-labelledby="join-title">
      <h2 id="join-title">Join a host</h2>
      {hosts.length === 0
        ? (
          <p class="muted">
            No online host of this organization is outside the cluster: a host joins once its agent
            is connected.
          </p>
        )
        : (
          <form method="post" action={action} class="form stack">
            <FormAlert errors={form.errors} />
            <div class="grid-2">
              <SelectField
                name="host"
                label="Host"
                options={hosts.map((h) => ({ value: h.id, label: h.name }))}
                values={form.values}
                errors={form.errors}
                idPrefix="join"
              />
              <SelectField
                name="role"
                label="As"
                options={[
                  { value: "worker", label: "Worker (runs tasks)" },
                  { value: "manager", label: "Manager (runs tasks, keeps the cluster's state)" },
                ]}
                values={form.values}
                errors={form.errors}
                idPrefix="join"
              />
              <TextField
                name="advertise_addr"
                label="Its advertise address"
                placeholder="10.0.0.6"
                hint="Optional: the address other nodes reach it at, when the engine cannot tell."
                values={form.values}
                errors={form.errors}
                idPrefix="join"
              />
            </div>
            <div class="actions">
              <button class="btn btn-primary" type="submit">Join the cluster</button>
            </div>
          </form>
        )}
    </section>
  );
}

/** The page, with a cluster or without, and a refused form's input and messages. */
async function clusterPage(
  c: AppContext,
  forms: { create?: FormState; join?: FormState } = {},
  status = 200,
) {
  const cluster = await c.var.services.cluster.info();
  const done = c.req.query("done");
  let body;
  if (!cluster) body = await createView(c, forms.create ?? {});
  else {
    const nodes = await fromCluster(() => c.var.services.cluster.nodes());
    const manager = cluster.manager_host_id
      ? (await c.var.services.hosts.byId(cluster.manager_host_id))?.name ?? "a removed host"
      : "unknown";
    const hosts = (await hostChoices(c)).filter((h) => h.online);
    const members = await Promise.all(hosts.map((h) => c.var.services.cluster.member(h.id)));
    const free = hosts.filter((_, i) => !members[i]);
    body = (
      <>
        {!nodes.ok && <Alert kind="warn">{nodes.error.message}</Alert>}
        <ClusterFacts
          cluster={cluster}
          manager={manager}
          nodes={nodes.ok ? nodes.value : undefined}
          workersHref={`/o/${encodeURIComponent(orgScopeOf(c).org.slug)}/workers`}
        />
        <JoinForm action={`${selfOf(c)}/join`} hosts={free} form={forms.join ?? {}} />
      </>
    );
  }
  return render(
    c,
    <>
      <PageHeader title="Settings" sub="Cluster" />
      {settingsTabs(c, "cluster")}
      {done === "created" && <Alert kind="ok">The cluster is ready: apps can be deployed.</Alert>}
      {done === "joined" && <Alert kind="ok">The host joined the cluster.</Alert>}
      {body}
    </>,
    { title: "Cluster · Settings", active: "settings", status },
  );
}

/** The adopt confirmation: the engine is a swarm manager already. */
function adoptPage(c: AppContext, values: FormValues, host: HostChoice) {
  return render(
    c,
    <ConfirmForm
      title={`Adopt the swarm of ${host.name}?`}
      action={`${selfOf(c)}/create`}
      confirm="Adopt this swarm"
      cancelHref={selfOf(c)}
      hidden={{ host: host.id, advertise_addr: values.advertise_addr ?? "", adopt: "on" }}
      danger={false}
    >
      <p>
        {host.name}'s engine is already a manager of a Docker swarm. Capstan records that swarm as
        its cluster instead of creating a new one: nothing is re-initialised, and its nodes and
        services stay as they are. Capstan's apps are deployed on it from now on.
      </p>
    </ConfirmForm>,
    { title: "Adopt swarm · Settings", active: "settings" },
  );
}

/** `/o/:org/settings/cluster` (platform admins): create or adopt the cluster, join hosts. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:viewer", async (c) => {
    requirePlatformAdmin(c);
    return await clusterPage(c);
  });

  page(app, "POST", `${PATH}/create`, "org:viewer", async (c) => {
    requirePlatformAdmin(c);
    const all = await readForm(c);
    const values = { host: all.host ?? "", advertise_addr: (all.advertise_addr ?? "").trim() };
    const host = (await hostChoices(c)).find((h) => h.id === values.host);
    if (!host) throw notFound("Host");
    if (!host.online) {
      return await clusterPage(c, {
        create: { values, errors: { _form: `${host.name}'s agent is not connected` } },
      }, 503);
    }
    if (!values.advertise_addr) {
      return await clusterPage(c, {
        create: { values, errors: { advertise_addr: "is required" } },
      }, 400);
    }
    try {
      await c.var.services.cluster.create(actionContext(c), {
        hostId: host.id,
        advertiseAddr: values.advertise_addr,
        adopt: all.adopt === "on",
      });
    } catch (err) {
      const e = actionError(err);
      if (e.code === "adopt_required") return adoptPage(c, values, host);
      return await clusterPage(c, { create: { values, errors: errorsOf(e) } }, e.status);
    }
    return seeOther(c, `${selfOf(c)}?done=created`);
  });

  page(app, "POST", `${PATH}/join`, "org:viewer", async (c) => {
    requirePlatformAdmin(c);
    const all = await readForm(c);
    const values = {
      host: all.host ?? "",
      role: all.role === "manager" ? "manager" : "worker",
      advertise_addr: (all.advertise_addr ?? "").trim(),
    };
    const host = (await hostChoices(c)).find((h) => h.id === values.host);
    if (!host) throw notFound("Host");
    try {
      await c.var.services.cluster.join(actionContext(c), host.id, {
        role: values.role as "worker" | "manager",
        advertiseAddr: values.advertise_addr || undefined,
      });
    } catch (err) {
      const e = actionError(err);
      return await clusterPage(c, { join: { values, errors: errorsOf(e) } }, e.status);
    }
    return seeOther(c, `${selfOf(c)}?done=joined`);
  });
}
