import type { Hono } from "hono";
import { z } from "zod";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { type HttpError, validationError } from "../../../lib/http/errors.ts";
import { VolumeName } from "../../../lib/protocol/ops.ts";
import { createVolume, listVolumes, removeVolume } from "../../../lib/hosts/docker_actions.ts";
import type {} from "../../../lib/hosts/docker_views.ts";
import { dockerCaller } from "../../../lib/http/callers.ts";
import { HostId } from "../../_schemas/docker.ts";
import { VolumesTable } from "../../../components/VolumesTable.tsx";
import { ConfirmForm } from "../../../components/ConfirmForm.tsx";
import { EmptyState } from "../../../components/EmptyState.tsx";
import { FormAlert, type FormState, TextField } from "../../../components/Field.tsx";
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

/** The volumes page of one host: table (sizes on request) and create form. */
async function volumesPage(c: AppContext, hostId?: string, state: PageState = {}) {
  const { org } = orgScopeOf(c);
  const path = `${orgBase(c)}/volumes`;
  const can = abilities(c);
  const sizes = c.req.method === "GET" && c.req.query("sizes") === "1";
  const res = await loadHostResource(
    c,
    hostId,
    (id) => listVolumes(c.var.services, dockerCaller(c), id, sizes),
  );
  const common = { values: state.create?.values, errors: state.create?.errors, idPrefix: "v" };
  const here = res.host ? `${path}?host=${res.host.id}` : path;

  return render(
    c,
    <HostResourceFrame
      c={c}
      title="Volumes"
      path={path}
      res={res}
      sub={res.items && count(res.items.length, "volume")}
      pickerHidden={sizes ? { sizes: "1" } : {}}
      actions={res.items && (
        sizes
          ? <a class="btn btn-small" href={here}>Hide sizes</a>
          : <a class="btn btn-small" href={`${here}&sizes=1`}>Show sizes</a>
      )}
      error={state.error}
    >
      {(host, volumes) => (
        <>
          {volumes.length > 0
            ? (
              <VolumesTable
                volumes={volumes}
                sizes={sizes}
                removeHref={can.admin
                  ? (name) => `${path}/remove?host=${host.id}&name=${encodeURIComponent(name)}`
                  : undefined}
              />
            )
            : (
              <EmptyState title="No volumes on this host">
                <p>
                  Named volumes keep data when containers are replaced.{" "}
                  {can.operate ? "Create one below, or name one when creating a container." : ""}
                </p>
              </EmptyState>
            )}
          {can.operate && (
            <section class="card">
              <h2>Create a volume</h2>
              <FormAlert errors={common.errors} />
              <form method="post" action={path} class="form form-row">
                <input type="hidden" name="host" value={host.id} />
                <TextField
                  name="name"
                  label="Name"
                  required
                  placeholder="pgdata"
                  hint="Local driver; letters, digits and _ . -"
                  {...common}
                />
                <div class="form-submit">
                  <button class="btn btn-primary" type="submit">Create</button>
                </div>
              </form>
            </section>
          )}
        </>
      )}
    </HostResourceFrame>,
    { title: `Volumes · ${org.name}`, active: "volumes", status: pageStatus(state, res) },
  );
}

const CreateForm = z.object({ host: HostId, name: VolumeName });
const RemoveInput = z.object({ host: HostId, name: VolumeName });

/** Volumes pages: list (viewers), create (members), remove with confirmation (admins). */
export function register(app: Hono<AppEnv>, _kit: PageKit): void {
  page(app, "GET", "/o/:org/volumes", "org:viewer", (c) => volumesPage(c));

  page(app, "POST", "/o/:org/volumes", "org:member", async (c) => {
    const values = await readForm(c);
    const parsed = parseForm(CreateForm, values);
    const hostId = HostId.safeParse(values.host).success ? values.host : undefined;
    if (!parsed.ok) {
      return await volumesPage(c, hostId, {
        create: { values, errors: parsed.errors },
        status: 400,
      });
    }
    try {
      await createVolume(c.var.services, dockerCaller(c), parsed.data.host, {
        name: parsed.data.name,
      });
    } catch (err) {
      const e = pageError(err);
      return await volumesPage(c, parsed.data.host, {
        create: { values, errors: errorsOf(e, e.status === 409 ? "name" : undefined) },
        status: e.status,
      });
    }
    return seeOther(
      c,
      withFlash(`${orgBase(c)}/volumes?host=${parsed.data.host}`, "volume_created"),
    );
  });

  page(app, "GET", "/o/:org/volumes/remove", "org:admin", async (c) => {
    const parsed = RemoveInput.safeParse({ host: c.req.query("host"), name: c.req.query("name") });
    if (!parsed.success) throw validationError(parsed.error);
    const host = await c.var.services.hosts.get(orgScopeOf(c).org.id, parsed.data.host);
    return render(
      c,
      <ConfirmForm
        title={`Remove volume ${parsed.data.name}?`}
        action={`${orgBase(c)}/volumes/remove`}
        confirm="Remove volume and its data"
        cancelHref={`${orgBase(c)}/volumes?host=${host.id}`}
        hidden={{ host: host.id, name: parsed.data.name }}
      >
        <p>
          Everything stored in it on <strong>{host.name}</strong>{" "}
          is deleted; this cannot be undone. Removal is refused while any container, running or
          stopped, uses it.
        </p>
      </ConfirmForm>,
      { title: "Remove volume", active: "volumes" },
    );
  });

  page(app, "POST", "/o/:org/volumes/remove", "org:admin", async (c) => {
    const parsed = RemoveInput.safeParse(await readForm(c));
    if (!parsed.success) throw validationError(parsed.error);
    const { host, name } = parsed.data;
    try {
      await removeVolume(c.var.services, dockerCaller(c), host, name);
    } catch (err) {
      return await volumesPage(c, host, { error: pageError(err) });
    }
    return seeOther(c, withFlash(`${orgBase(c)}/volumes?host=${host}`, "volume_removed"));
  });
}
