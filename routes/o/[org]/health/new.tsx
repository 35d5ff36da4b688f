import type { Hono } from "hono";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
} from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { notFound } from "../../../../lib/http/errors.ts";
import { mayExec } from "../../../../lib/hosts/exec_policy.ts";
import {
  cachedContainerForCheck,
  containerExecRole,
} from "../../../../lib/hosts/container_use_cases.ts";
import { CHECK_KINDS, type CheckKind } from "../../../../lib/health/schema.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { HealthCheckForm } from "../../../../components/HealthCheckForm.tsx";
import { KIND_LABELS } from "../../../../components/HealthBadge.tsx";
import type { FormState } from "../../../../components/Field.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { type FormValues, queryValues, readForm } from "../../../_forms.ts";
import { render, seeOther } from "../../../_render.tsx";
import { createInput, defaultValues, kindOf, serviceErrors } from "./_form.ts";

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
  const ctr = await cachedContainerForCheck(c.var.services, org.id, host.id, ref);
  if (!ctr) throw notFound(`Container "${ref}"`);
  return {
    host,
    id: ctr.id,
    name: ctr.name,
    port: ctr.ports.find((p) => p.type === "tcp")?.private_port ?? null,
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
    mayExec({ role }, await containerExecRole(c.var.services, org.id));
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

/** The new-check form of a container (members, like the API). */
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
}
