import type { Hono } from "hono";
import { z } from "zod";
import type { AppContext, AppEnv } from "../../../lib/http/context.ts";
import { dockerCaller } from "../../../lib/http/callers.ts";
import { page } from "../../../lib/http/pages.ts";
import { conflict, validationError } from "../../../lib/http/errors.ts";
import { NetworkName } from "../../../lib/protocol/ops.ts";
import { createNetwork, listNetworks, removeNetwork } from "../../../lib/hosts/docker_actions.ts";
import { SYSTEM_NETWORKS } from "../../../lib/hosts/docker_views.ts";
import { HostId, NetworkCreateInput } from "../../_schemas/docker.ts";
import { NetworksTable } from "../../../components/NetworksTable.tsx";
import { ConfirmForm } from "../../../components/ConfirmForm.tsx";
import { FormAlert, SelectField, TextField } from "../../../components/Field.tsx";
import { readForm } from "../../_forms.ts";
import { type PageKit, render } from "../../_render.tsx";
import { abilities, count, orgBase } from "./_docker.tsx";
import {
  createFormHandler,
  resourceAction,
  resourcePage,
  type ResourcePageState,
  resourceTarget,
} from "./_host_resource.tsx";

/** The networks page of one host: table and create form. */
async function networksPage(c: AppContext, hostId?: string, state: ResourcePageState = {}) {
  const can = abilities(c);
  const common = { values: state.create?.values, errors: state.create?.errors, idPrefix: "n" };
  return await resourcePage(c, hostId, state, {
    segment: "networks",
    title: "Networks",
    list: (caller, id) => listNetworks(c.var.services, caller, id),
    sub: (networks) => count(networks.length, "network"),
  }, (host, networks, path) => (
    <>
      <NetworksTable
        networks={networks}
        removeHref={can.admin
          ? (id) => `${path}/remove?host=${host.id}&id=${encodeURIComponent(id)}`
          : undefined}
      />
      {can.operate && (
        <section class="card">
          <h2>Create a network</h2>
          <FormAlert errors={common.errors} />
          <form method="post" action={path} class="form form-row">
            <input type="hidden" name="host" value={host.id} />
            <TextField name="name" label="Name" required placeholder="backend" {...common} />
            <SelectField
              name="driver"
              label="Driver"
              options={[
                { value: "bridge", label: "bridge" },
                { value: "overlay", label: "overlay (Swarm)" },
                ...(can.admin ? [{ value: "macvlan", label: "macvlan (admins)" }] : []),
              ]}
              {...common}
            />
            <TextField name="subnet" label="Subnet" placeholder="10.20.0.0/24" {...common} />
            <TextField name="gateway" label="Gateway" placeholder="10.20.0.1" {...common} />
            {can.admin && (
              <TextField
                name="parent"
                label="Parent interface"
                placeholder="eth0"
                hint="macvlan only."
                {...common}
              />
            )}
            <div class="form-submit">
              <button class="btn btn-primary" type="submit">Create</button>
            </div>
          </form>
        </section>
      )}
    </>
  ));
}

const CreateForm = NetworkCreateInput.omit({ labels: true }).extend({ host: HostId });
const RemoveInput = z.object({ host: HostId, id: NetworkName });

/** Networks pages: list (viewers), create (members), remove with confirmation (admins). */
export function register(app: Hono<AppEnv>, _kit: PageKit): void {
  page(app, "GET", "/o/:org/networks", "org:viewer", (c) => networksPage(c));

  page(
    app,
    "POST",
    "/o/:org/networks",
    "org:member",
    createFormHandler({
      segment: "networks",
      form: CreateForm,
      flash: "network_created",
      create: (c, { host, ...input }) =>
        createNetwork(c.var.services, dockerCaller(c), host, input),
      page: networksPage,
    }),
  );

  page(app, "GET", "/o/:org/networks/remove", "org:admin", async (c) => {
    const query = { host: c.req.query("host"), id: c.req.query("id") };
    const { data: { id }, host } = await resourceTarget(c, RemoveInput, query);
    if (SYSTEM_NETWORKS.has(id)) {
      return await networksPage(c, host.id, {
        error: conflict(`Cannot remove network "${id}": it is a system network of the engine`),
      });
    }
    return render(
      c,
      <ConfirmForm
        title={`Remove network ${id}?`}
        action={`${orgBase(c)}/networks/remove`}
        confirm="Remove"
        cancelHref={`${orgBase(c)}/networks?host=${host.id}`}
        hidden={{ host: host.id, id }}
      >
        <p>
          On{" "}
          <strong>{host.name}</strong>. Containers must be disconnected first; removal is refused
          while any is attached.
        </p>
      </ConfirmForm>,
      { title: "Remove network", active: "networks" },
    );
  });

  page(app, "POST", "/o/:org/networks/remove", "org:admin", async (c) => {
    const parsed = RemoveInput.safeParse(await readForm(c));
    if (!parsed.success) throw validationError(parsed.error);
    const { host, id } = parsed.data;
    return await resourceAction(
      c,
      "networks",
      host,
      "network_removed",
      () => removeNetwork(c.var.services, dockerCaller(c), host, id),
      (error) => networksPage(c, host, { error }),
    );
  });
}
