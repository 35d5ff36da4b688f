import type { Hono } from "hono";
import { z } from "zod";
import type { AppContext, AppEnv } from "../../../lib/http/context.ts";
import { dockerCaller } from "../../../lib/http/callers.ts";
import { page } from "../../../lib/http/pages.ts";
import { validationError } from "../../../lib/http/errors.ts";
import { VolumeName } from "../../../lib/protocol/ops.ts";
import { createVolume, listVolumes, removeVolume } from "../../../lib/hosts/docker_actions.ts";
import { HostId } from "../../_schemas/docker.ts";
import { VolumesTable } from "../../../components/VolumesTable.tsx";
import { ConfirmForm } from "../../../components/ConfirmForm.tsx";
import { EmptyState } from "../../../components/EmptyState.tsx";
import { FormAlert, TextField } from "../../../components/Field.tsx";
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

/** The volumes page of one host: table (sizes on request) and create form. */
async function volumesPage(c: AppContext, hostId?: string, state: ResourcePageState = {}) {
  const can = abilities(c);
  const sizes = c.req.method === "GET" && c.req.query("sizes") === "1";
  const common = { values: state.create?.values, errors: state.create?.errors, idPrefix: "v" };
  return await resourcePage(c, hostId, state, {
    segment: "volumes",
    title: "Volumes",
    list: (caller, id) => listVolumes(c.var.services, caller, id, sizes),
    sub: (volumes) => count(volumes.length, "volume"),
    pickerHidden: sizes ? { sizes: "1" } : {},
    actions: (res, path) => {
      if (!res.items) return undefined;
      const here = res.host ? `${path}?host=${res.host.id}` : path;
      return sizes
        ? <a class="btn btn-small" href={here}>Hide sizes</a>
        : <a class="btn btn-small" href={`${here}&sizes=1`}>Show sizes</a>;
    },
  }, (host, volumes, path) => (
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
  ));
}

const CreateForm = z.object({ host: HostId, name: VolumeName });
const RemoveInput = z.object({ host: HostId, name: VolumeName });

/** Volumes pages: list (viewers), create (members), remove with confirmation (admins). */
export function register(app: Hono<AppEnv>, _kit: PageKit): void {
  page(app, "GET", "/o/:org/volumes", "org:viewer", (c) => volumesPage(c));

  page(
    app,
    "POST",
    "/o/:org/volumes",
    "org:member",
    createFormHandler({
      segment: "volumes",
      form: CreateForm,
      flash: "volume_created",
      create: (c, { host, name }) => createVolume(c.var.services, dockerCaller(c), host, { name }),
      page: volumesPage,
    }),
  );

  page(app, "GET", "/o/:org/volumes/remove", "org:admin", async (c) => {
    const query = { host: c.req.query("host"), name: c.req.query("name") };
    const { data: { name }, host } = await resourceTarget(c, RemoveInput, query);
    return render(
      c,
      <ConfirmForm
        title={`Remove volume ${name}?`}
        action={`${orgBase(c)}/volumes/remove`}
        confirm="Remove volume and its data"
        cancelHref={`${orgBase(c)}/volumes?host=${host.id}`}
        hidden={{ host: host.id, name }}
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
    return await resourceAction(
      c,
      "volumes",
      host,
      "volume_removed",
      () => removeVolume(c.var.services, dockerCaller(c), host, name),
      (error) => volumesPage(c, host, { error }),
    );
  });
}
