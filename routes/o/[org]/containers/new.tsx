import type { Hono } from "hono";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import {
  ADVANCED_FIELDS,
  CREATE_FIELDS,
  specFromForm,
} from "../../../../lib/hosts/container_form.ts";
import { createContainer } from "../../../../lib/hosts/docker_actions.ts";
import { waitForContainer } from "../../../../lib/hosts/container_use_cases.ts";
import { dockerCaller } from "../../../../lib/http/callers.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { ContainerCreateForm } from "../../../../components/ContainerCreateForm.tsx";
import type { FormState } from "../../../../components/Field.tsx";
import { errorsOf, readForm } from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";
import { abilities, hostChoices, NoHostsYet, orgBase, pageError, pickHost } from "../_docker.tsx";

const PATH = "/o/:org/containers/new";

/** The create form, blank (with defaults) or with the submitted input and its errors. */
async function formPage(c: AppContext, form: FormState = {}, status = 200) {
  const { org } = orgScopeOf(c);
  const base = orgBase(c);
  const hosts = await hostChoices(c);
  const admin = abilities(c).admin;
  const first = pickHost(hosts.filter((h) => h.online), c.req.query("host"));
  const values = form.values ??
    { host: first?.id ?? "", restart_policy: "no", start: "on" };
  const snapshots = await c.var.services.snapshotStore.snapshots(org.id, {
    status: "complete",
    limit: 50,
  });
  // Messages about fields a member does not see belong at the top of the form.
  const errors = { ...form.errors };
  if (!admin) {
    for (const f of ADVANCED_FIELDS) {
      if (errors[f]) {
        errors._form ??= errors[f];
        delete errors[f];
      }
    }
  }
  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={`${base}/containers`}>Containers</a>
      </nav>
      <PageHeader
        title="New container"
        sub={<>Runs on one host of {org.name}. The image must already be on that host.</>}
      />
      {hosts.length === 0 ? <NoHostsYet base={base} what="Containers" /> : (
        <ContainerCreateForm
          action={`${base}/containers/new`}
          hosts={hosts}
          admin={admin}
          values={values}
          errors={errors}
          snapshots={snapshots.map((x) => ({
            id: x.id,
            label: `${x.volume} · ${
              new Date(x.started_at).toISOString().slice(0, 16).replace("T", " ")
            } UTC`,
          }))}
        />
      )}
    </>,
    { title: "New container", active: "containers", status },
  );
}

/** How long a container's creation waits for its volume's restore. */
const RESTORE_WAIT_MS = 30 * 60_000;

/**
 * "Restore from snapshot": the snapshot goes into the first named volume of the form, a new
 * volume on the chosen host, before the container is made. Answers the form's errors, if any.
 */
async function restoreFirst(
  c: AppContext,
  hostId: string,
  volumes: { name: string }[] | undefined,
  snapshotId: string,
): Promise<Record<string, string> | undefined> {
  const volume = volumes?.[0]?.name;
  if (!volume) return { volumes: "name the volume the snapshot is restored into" };
  try {
    const { done } = await c.var.services.snapshotRuns.restore(
      actionContext(c),
      orgScopeOf(c).org.id,
      snapshotId,
      { kind: "new", volume, host_id: hostId },
    );
    const ended = await Promise.race([
      done,
      new Promise<undefined>((r) => setTimeout(r, RESTORE_WAIT_MS)),
    ]);
    if (!ended) return { restore_snapshot: "the restore is still running: see the Storage page" };
    if (ended.status !== "complete") {
      return { restore_snapshot: `the restore failed: ${ended.error ?? "unknown error"}` };
    }
  } catch (err) {
    return errorsOf(pageError(err), "restore_snapshot");
  }
}

/** `GET/POST /o/:org/containers/new`: create a container (members; powerful options for admins). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", PATH, "org:member", (c) => formPage(c));

  page(app, "POST", PATH, "org:member", async (c) => {
    const all = await readForm(c);
    const values: Record<string, string> = {};
    for (const f of CREATE_FIELDS) if (all[f] !== undefined) values[f] = all[f];
    const parsed = specFromForm(values);
    if (!parsed.ok) return await formPage(c, { values, errors: parsed.errors }, 400);
    const { org } = orgScopeOf(c);
    if (all.restore_snapshot) {
      values.restore_snapshot = all.restore_snapshot;
      const failed = await restoreFirst(
        c,
        parsed.hostId,
        parsed.spec.volumes,
        all.restore_snapshot,
      );
      if (failed) return await formPage(c, { values, errors: failed }, 400);
    }
    let id: string;
    try {
      ({ id } = await createContainer(
        c.var.services,
        dockerCaller(c),
        parsed.hostId,
        parsed.spec,
        parsed.start,
      ));
    } catch (err) {
      const e = pageError(err);
      // "No such image" is about the image field, the most common mistake here.
      const field = e.status === 404 && /image/i.test(e.message) ? "image" : undefined;
      const errors = errorsOf(e, field);
      // A refusal names the options; say it in one sentence too, above the form.
      if (e.status === 403) errors._form = e.message;
      return await formPage(c, { values, errors }, e.status);
    }
    // The container page reads the cache when it must; let the create event land first.
    await waitForContainer(c.var.services, org.id, parsed.hostId, id, (x) => x !== undefined);
    return seeOther(c, `${orgBase(c)}/containers/${encodeURIComponent(parsed.hostId)}/${id}`);
  });
}
