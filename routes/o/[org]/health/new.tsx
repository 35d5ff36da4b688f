import type { Hono } from "hono";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { notFound } from "../../../../lib/http/errors.ts";
import { toHttpError } from "../../../../lib/http/error_handler.ts";
import { execRole, mayExec } from "../../../../lib/hosts/exec_policy.ts";
import { CHECK_KINDS, type CheckKind } from "../../../../lib/health/schema.ts";
import type { HealthCheckView } from "../../../../lib/health/rows.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { HealthCheckForm } from "../../../../components/HealthCheckForm.tsx";
import { KIND_LABELS } from "../../../../components/HealthBadge.tsx";
import type { FormState } from "../../../../components/Field.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import {
  errorsOf,
  type FieldErrors,
  formError,
  type FormValues,
  queryValues,
  readForm,
} from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";
import {
  checkValues,
  createInput,
  defaultValues,
  formErrors,
  kindOf,
  updateInput,
} from "./_form.ts";

const HOST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CONTAINER_REF = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;

const baseOf = (slug: string) => `/o/${encodeURIComponent(slug)}`;

/** The container a new check is for, from the hub's cache: host, id, name, first TCP port. */
async function containerOf(c: AppContext, hostId: string | undefined, ref: string | undefined) {
  const { org } = orgScopeOf(c);
  if (!hostId || !HOST_ID.test(hostId) || !ref || !CONTAINER_REF.test(ref)) {
    throw notFound("Container");
  }
  const host = await c.var.services.hosts.get(org.id, hostId);
  const row = await c.var.services.db.selectFrom("containers").select(["id", "name", "ports"])
    .where("org_id", "=", org.id).where("host_id", "=", host.id)
    .where((eb) => eb.or([eb("id", "=", ref), eb("name", "=", ref), eb("name", "=", `/${ref}`)]))
    .executeTakeFirst();
  if (!row) throw notFound(`Container "${ref}"`);
  const ports = JSON.parse(row.ports) as { private_port: number; type: string }[];
  return {
    host,
    id: row.id,
    name: row.name.replace(/^\//, ""),
    port: ports.find((p) => p.type === "tcp")?.private_port ?? null,
  };
}

type Ctr = Awaited<ReturnType<typeof containerOf>>;

/** The new-check form for a container. */
async function newPage(
  c: AppContext,
  ctr: Ctr,
  kind: CheckKind,
  state: FormState,
  status = 200,
) {
  const { org, role } = orgScopeOf(c);
  const execRight = kind !== "command" ||
    mayExec({ role }, await execRole(c.var.services.db, org.id));
  const base = baseOf(org.slug);
  const ctrHref = `${base}/containers/${ctr.host.id}/${ctr.id}`;
  const q = (k: CheckKind) =>
    `${base}/health/new?${new URLSearchParams({ host: ctr.host.id, container: ctr.id, kind: k })}`;
  const kindHrefs = Object.fromEntries(CHECK_KINDS.map((k) => [k, q(k)])) as Record<
    CheckKind,
    string
  >;
  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={`${base}/health`}>Health</a> <span aria-hidden="true">/</span>{" "}
        <a href={ctrHref}>{ctr.name}</a>
      </nav>
      <PageHeader
        title={`Add ${KIND_LABELS[kind]} check`}
        sub={
          <>
            for <a href={ctrHref}>{ctr.name}</a> on{" "}
            {ctr.host.name}; the host's agent runs it next to the container
          </>
        }
      />
      {!execRight && (
        <Alert kind="warn">
          A command check runs its command inside the container, so in this organization only admins
          and owners may add one (an admin can let members do it in{" "}
          <a href={`${base}/settings/containers`}>Settings → Containers</a>). HTTP, TCP and Docker
          health checks need no such right.
        </Alert>
      )}
      <HealthCheckForm
        action={`${base}/health/new`}
        kind={kind}
        kindHrefs={kindHrefs}
        hidden={{ host_id: ctr.host.id, container: ctr.id }}
        values={state.values}
        errors={state.errors}
        submit="Start monitoring"
        cancelHref={ctrHref}
      />
    </>,
    { title: `Add check · ${ctr.name}`, active: "health", status },
  );
}

/** The note a check declared by labels gets instead of a form (`error`: a refused change). */
function LabelNote({ check, error }: { check: HealthCheckView; error?: string }) {
  return (
    <Alert kind={error ? "error" : "info"}>
      {error ?? (
        <>
          This check is declared by the labels of {check.container_name}{" "}
          (<code>capstan.health.*</code>): change the labels to change it.
        </>
      )} Here it can only be enabled or disabled.
    </Alert>
  );
}

/** The edit form of a check; a label check shows why it cannot be edited here. */
function editPage(
  c: AppContext,
  check: HealthCheckView,
  state: FormState & { labelError?: string },
  status = 200,
) {
  const { org } = orgScopeOf(c);
  const base = baseOf(org.slug);
  const detail = `${base}/health/${check.id}`;
  return render(
    c,
    <>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={`${base}/health`}>Health</a> <span aria-hidden="true">/</span>{" "}
        <a href={detail}>{check.name}</a>
      </nav>
      <PageHeader
        title={`Edit "${check.name}"`}
        sub={<>{KIND_LABELS[check.kind]} check of {check.container_name} on {check.host_name}</>}
      />
      {check.source === "label"
        ? (
          <>
            <LabelNote check={check} error={state.labelError} />
            <form method="post" action={`${detail}/${check.enabled ? "disable" : "enable"}`}>
              <button class="btn" type="submit">{check.enabled ? "Disable" : "Enable"}</button>{" "}
              <a class="btn btn-ghost" href={detail}>Back</a>
            </form>
          </>
        )
        : (
          <HealthCheckForm
            action={`${detail}/edit`}
            kind={check.kind}
            values={state.values}
            errors={state.errors}
            submit="Save check"
            cancelHref={detail}
          />
        )}
    </>,
    { title: `Edit ${check.name}`, active: "health", status },
  );
}

/** A service error as form messages, fields mapped onto the form's. */
function serviceErrors(err: unknown): { errors: FieldErrors; status: number } {
  const e = formError(err);
  const errors = e.fields && Object.keys(e.fields).length ? formErrors(e.fields) : errorsOf(e);
  return { errors, status: e.status };
}

/** New and edit forms of health checks (members, like the API). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/health/new", "org:member", async (c) => {
    const q = queryValues(c);
    const ctr = await containerOf(c, q.host, q.container);
    return newPage(c, ctr, kindOf(q.kind), { values: defaultValues(ctr.port) });
  });

  page(app, "POST", "/o/:org/health/new", "org:member", async (c) => {
    const { org } = orgScopeOf(c);
    const values: FormValues = await readForm(c);
    const ctr = await containerOf(c, values.host_id, values.container);
    const kind = kindOf(values.kind);
    const parsed = createInput({ ...values, host_id: ctr.host.id, container: ctr.id });
    if (!parsed.ok) return newPage(c, ctr, kind, { values, errors: parsed.errors }, 400);
    try {
      const check = await c.var.services.health.service.create(
        actionContext(c),
        org.id,
        parsed.data,
        { role: orgScopeOf(c).role },
      );
      return seeOther(c, `${baseOf(org.slug)}/health/${check.id}?done=created`);
    } catch (err) {
      const { errors, status } = serviceErrors(err);
      return newPage(c, ctr, kind, { values, errors }, status);
    }
  });

  page(app, "GET", "/o/:org/health/:id/edit", "org:member", async (c) => {
    const { org } = orgScopeOf(c);
    const check = await c.var.services.health.service.get(org.id, c.req.param("id") ?? "");
    return editPage(c, check, { values: checkValues(check) });
  });

  page(app, "POST", "/o/:org/health/:id/edit", "org:member", async (c) => {
    const { org } = orgScopeOf(c);
    const check = await c.var.services.health.service.get(org.id, c.req.param("id") ?? "");
    const values = await readForm(c);
    const parsed = updateInput(check.kind, values);
    if (!parsed.ok) return editPage(c, check, { values, errors: parsed.errors }, 400);
    try {
      await c.var.services.health.service.update(
        actionContext(c),
        org.id,
        check.id,
        parsed.data,
        { role: orgScopeOf(c).role },
      );
    } catch (err) {
      if (err instanceof Error && toHttpError(err).status === 409) {
        return editPage(c, check, { values, labelError: err.message }, 409);
      }
      const { errors, status } = serviceErrors(err);
      return editPage(c, check, { values, errors }, status);
    }
    return seeOther(c, `${baseOf(org.slug)}/health/${check.id}?done=saved`);
  });
}
