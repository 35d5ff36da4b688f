import type { Hono } from "hono";
import { z } from "zod";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { conflict, type HttpError, validationError } from "../../../lib/http/errors.ts";
import { NetworkName } from "../../../lib/protocol/ops.ts";
import { createNetwork, listNetworks, removeNetwork } from "../../../lib/hosts/docker_actions.ts";
import type {} from "../../../lib/hosts/docker_views.ts";
import { SYSTEM_NETWORKS } from "../../../lib/hosts/docker_views.ts";
import { dockerCaller } from "../../../lib/http/callers.ts";
import { HostId, NetworkCreateInput } from "../../_schemas/docker.ts";
import { NetworksTable } from "../../../components/NetworksTable.tsx";
import { ConfirmForm } from "../../../components/ConfirmForm.tsx";
import { FormAlert, type FormState, SelectField, TextField } from "../../../components/Field.tsx";
import { errorsOf, parseForm, readForm } from "../../_forms.ts";
import { type PageKit, render, seeOther } from "../../_render.tsx";
import {
  abilities,
  count,
  HostResourceFrame,
  loadHostResource,
  orgBase,
  pageError,
  pageStatus,
  withFlash,
} from "./_docker.tsx";

interface PageState {
  error?: HttpError;
  create?: FormState;
  status?: number;
}

/** The networks page of one host: table and create form. */
async function networksPage(c: AppContext, hostId?: string, state: PageState = {}) {
  const { org } = orgScopeOf(c);
  const path = `${orgBase(c)}/networks`;
  const can = abilities(c);
  const res = await loadHostResource(
    c,
    hostId,
    (id) => listNetworks(c.var.services, dockerCaller(c), id),
  );
  const common = { values: state.create?.values, errors: state.create?.errors, idPrefix: "n" };

  return render(
    c,
    <HostResourceFrame
      c={c}
      title="Networks"
      path={path}
      res={res}
      sub={res.items && count(res.items.length, "network")}
      error={state.error}
    >
      {(host, networks) => (
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
      )}
    </HostResourceFrame>,
    { title: `Networks · ${org.name}`, active: "networks", status: pageStatus(state, res) },
  );
}

const CreateForm = NetworkCreateInput.omit({ labels: true }).extend({ host: HostId });
const RemoveInput = z.object({ host: HostId, id: NetworkName });

/** Networks pages: list (viewers), create (members), remove with confirmation (admins). */
export function register(app: Hono<AppEnv>, _kit: PageKit): void {
  page(app, "GET", "/o/:org/networks", "org:viewer", (c) => networksPage(c));

  page(app, "POST", "/o/:org/networks", "org:member", async (c) => {
    const values = await readForm(c);
    const parsed = parseForm(CreateForm, values);
    const hostId = HostId.safeParse(values.host).success ? values.host : undefined;
    if (!parsed.ok) {
      return await networksPage(c, hostId, {
        create: { values, errors: parsed.errors },
        status: 400,
      });
    }
    const { host, ...input } = parsed.data;
    try {
      await createNetwork(c.var.services, dockerCaller(c), host, input);
    } catch (err) {
      const e = pageError(err);
      const field = e.status === 409 ? "name" : undefined;
      return await networksPage(c, host, {
        create: { values, errors: errorsOf(e, field) },
        status: e.status,
      });
    }
    return seeOther(c, withFlash(`${orgBase(c)}/networks?host=${host}`, "network_created"));
  });

  page(app, "GET", "/o/:org/networks/remove", "org:admin", async (c) => {
    const parsed = RemoveInput.safeParse({ host: c.req.query("host"), id: c.req.query("id") });
    if (!parsed.success) throw validationError(parsed.error);
    const host = await c.var.services.hosts.get(orgScopeOf(c).org.id, parsed.data.host);
    const back = `${orgBase(c)}/networks?host=${host.id}`;
    if (SYSTEM_NETWORKS.has(parsed.data.id)) {
      return await networksPage(c, host.id, {
        error: conflict(
          `Cannot remove network "${parsed.data.id}": it is a system network of the engine`,
        ),
      });
    }
    return render(
      c,
      <ConfirmForm
        title={`Remove network ${parsed.data.id}?`}
        action={`${orgBase(c)}/networks/remove`}
        confirm="Remove"
        cancelHref={back}
        hidden={{ host: host.id, id: parsed.data.id }}
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
    try {
      await removeNetwork(c.var.services, dockerCaller(c), host, id);
    } catch (err) {
      return await networksPage(c, host, { error: pageError(err) });
    }
    return seeOther(c, withFlash(`${orgBase(c)}/networks?host=${host}`, "network_removed"));
  });
}
