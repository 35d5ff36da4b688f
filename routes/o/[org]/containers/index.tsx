import type { Hono } from "hono";
import { z } from "zod";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { HttpError, validationError } from "../../../../lib/http/errors.ts";
import { island } from "../../../../lib/islands/island.tsx";
import { ContainerRef } from "../../../../lib/protocol/ops.ts";
import {
  type CachedContainer,
  findCachedContainer,
  listCachedContainers,
  waitForCache,
} from "../../../../lib/hosts/container_list.ts";
import { type ContainerAction, containerAction } from "../../../../lib/hosts/docker_actions.ts";
import type { HealthCheckView } from "../../../../lib/health/rows.ts";
import ContainersLive from "../../../../islands/ContainersLive.tsx";
import {
  CHECKS_ON_REMOVE,
  ContainerListQuery,
  removeWithChecks,
} from "../../../api/v1/containers.ts";
import { HealthBadge, KIND_LABELS } from "../../../../components/HealthBadge.tsx";
import { dockerCaller, HostId } from "../../../api/v1/docker_schemas.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { ContainerFilters } from "../../../../components/ContainerFilters.tsx";
import { ContainersTable } from "../../../../components/ContainersTable.tsx";
import { ConfirmForm } from "../../../../components/ConfirmForm.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { CheckboxField, SelectField } from "../../../../components/Field.tsx";
import { type FieldErrors, parseForm, queryValues, readForm } from "../../../_forms.ts";
import { hasIsland, type PageKit, render, seeOther } from "../../../_render.tsx";
import {
  abilities,
  backTo,
  DockerFlash,
  hostChoices,
  NoHostsYet,
  orgBase,
  pageError,
  withFlash,
} from "../_docker.tsx";

const ContainersLiveIsland = island("ContainersLive", ContainersLive);
const PAGE_SIZE = 50;
const FILTERS = ["host", "state", "q", "label"] as const;
const ITEM = "/o/:org/containers/:hostId/:containerId";

const PAST: Record<ContainerAction, string> = {
  start: "started",
  stop: "stopped",
  restart: "restarted",
  kill: "killed",
};

/** The list page, optionally with an error from an action that was posted to it. */
async function listPage(c: AppContext, kit: PageKit, error?: HttpError) {
  const { org } = orgScopeOf(c);
  const base = orgBase(c);
  const path = `${base}/containers`;
  const values = queryValues(c);
  const filters = new URLSearchParams();
  for (const k of FILTERS) if (values[k]?.trim()) filters.set(k, values[k].trim());
  const href = (offset = 0) => {
    const q = new URLSearchParams(filters);
    if (offset) q.set("offset", String(offset));
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  };

  const hosts = await hostChoices(c);
  const parsed = parseForm(ContainerListQuery.omit({ limit: true }), values);
  let errors: FieldErrors | undefined;
  let result: { items: CachedContainer[]; total: number } = { items: [], total: 0 };
  let offset = 0;
  if (parsed.ok) {
    offset = parsed.data.offset;
    const { db, dbh, clock } = c.var.services;
    result = await listCachedContainers(db, dbh.dialect, org.id, {
      hostId: parsed.data.host,
      state: parsed.data.state,
      q: parsed.data.q || undefined,
      label: parsed.data.label,
      limit: PAGE_SIZE,
      offset,
    }, clock.now());
  } else errors = parsed.errors;
  const can = abilities(c);
  const online = Object.fromEntries(hosts.map((h) => [h.id, h.online]));
  const filtered = filters.size > 0;
  const from = result.total ? offset + 1 : 0;
  const to = offset + result.items.length;

  return render(
    c,
    <>
      <PageHeader
        title="Containers"
        sub={<>{org.name} · every host · {result.total} {filtered ? "matching" : "in all"}</>}
      >
        {hasIsland(kit.manifest, "ContainersLive") && (
          <ContainersLiveIsland topic={`org:${org.id}:containers`} refreshHref={href(offset)} />
        )}
        {can.operate && hosts.length > 0 && (
          <a class="btn btn-primary" href={`${path}/new`}>New container</a>
        )}
      </PageHeader>
      <DockerFlash c={c} />
      {error && <Alert kind="error">{error.message}</Alert>}
      {hosts.length === 0 ? <NoHostsYet base={base} what="Containers" /> : (
        <>
          <ContainerFilters action={path} hosts={hosts} values={values} errors={errors} />
          {errors && <Alert kind="error">Fix the filters marked above.</Alert>}
          {result.items.length > 0
            ? (
              <ContainersTable
                containers={result.items}
                base={base}
                apiBase={`/api/v1/orgs/${encodeURIComponent(org.slug)}`}
                online={online}
                operate={can.operate}
                back={href(offset)}
              />
            )
            : !errors && (
              <EmptyState
                title={filtered ? "No containers match these filters" : "No containers yet"}
              >
                <p>
                  {filtered
                    ? "Clear a filter or search for part of the name or image."
                    : can.operate
                    ? (
                      <>
                        Create one with <a href={`${path}/new`}>New container</a>.
                      </>
                    )
                    : "Containers appear here as soon as a host runs one."}
                </p>
              </EmptyState>
            )}
          {result.total > 0 && (
            <nav class="pager" aria-label="Pages">
              <span class="muted small pager-count">
                {from}–{to} of {result.total}
              </span>
              {offset > 0 && (
                <a class="btn" rel="prev" href={href(Math.max(0, offset - PAGE_SIZE))}>
                  ← Previous
                </a>
              )}
              {to < result.total && (
                <a class="btn" rel="next" href={href(offset + PAGE_SIZE)}>Next →</a>
              )}
            </nav>
          )}
        </>
      )}
    </>,
    {
      title: `Containers · ${org.name}`,
      active: "containers",
      status: error ? error.status : errors ? 400 : 200,
      manifest: kit.manifest,
    },
  );
}

/** The host and container of an item route, validated like the API (400 naming the field). */
async function itemOf(c: AppContext) {
  const parsed = z.object({ hostId: HostId, id: ContainerRef }).safeParse({
    hostId: c.req.param("hostId"),
    id: c.req.param("containerId"),
  });
  if (!parsed.success) throw validationError(parsed.error);
  const { org } = orgScopeOf(c);
  const host = await c.var.services.hosts.get(org.id, parsed.data.hostId);
  const cached = await findCachedContainer(c.var.services.db, org.id, host.id, parsed.data.id);
  return { host, id: parsed.data.id, name: cached?.name ?? parsed.data.id, cached };
}

const RemoveChecksInput = z.object({ checks: z.enum(CHECKS_ON_REMOVE).default("pause") });

/** The remove confirmation's part about the container's health checks: which, and pause or delete. */
function RemoveChecks({ checks, base }: { checks: HealthCheckView[]; base: string }) {
  const manual = checks.filter((k) => k.source === "manual");
  return (
    <fieldset class="remove-checks">
      <legend>
        Its health checks ({checks.length})
      </legend>
      <ul class="plain facts-list">
        {checks.map((k) => (
          <li key={k.id}>
            <HealthBadge id={k.id} state={k.state} enabled={k.enabled} />{" "}
            <a href={`${base}/health/${k.id}`}>{k.name}</a>{" "}
            <span class="muted small">
              {KIND_LABELS[k.kind]}
              {k.source === "label" && " · declared by its labels: goes with the container"}
            </span>
          </li>
        ))}
      </ul>
      {manual.length > 0 && (
        <>
          <div class="field field-check">
            <input id="checks-pause" type="radio" name="checks" value="pause" checked />
            <label for="checks-pause">
              Pause them: keep them and their history, stopped, to enable again if a container of
              this name comes back
            </label>
          </div>
          <div class="field field-check">
            <input id="checks-delete" type="radio" name="checks" value="delete" />
            <label for="checks-delete">Delete them and their history</label>
          </div>
        </>
      )}
    </fieldset>
  );
}

const KillInput = z.object({
  signal: z.enum(["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"])
    .default("SIGKILL"),
  next: z.string().max(2000).optional(),
});

/** Containers pages: the list (viewers), lifecycle actions and confirmations (members). */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", "/o/:org/containers", "org:viewer", (c) => listPage(c, kit));

  for (const action of ["start", "stop", "restart"] as const) {
    page(app, "POST", `${ITEM}/${action}`, "org:member", async (c) => {
      const values = await readForm(c);
      return await act(c, kit, action, values.next, {});
    });
  }

  page(app, "GET", `${ITEM}/kill`, "org:member", async (c) => {
    const { host, name } = await itemOf(c);
    const base = orgBase(c);
    const back = backTo(c, c.req.query("next"), `${base}/containers`);
    return render(
      c,
      <ConfirmForm
        title={`Kill ${name}?`}
        action={c.req.path}
        confirm="Kill"
        cancelHref={back}
        hidden={{ next: back }}
        options={
          <SelectField
            name="signal"
            label="Signal"
            value="SIGKILL"
            options={KillInput.shape.signal.unwrap().options.map((s) => ({ value: s, label: s }))}
          />
        }
      >
        <p>
          The container on <strong>{host.name}</strong>{" "}
          gets the signal at once, without the grace period a stop allows. SIGKILL cannot be caught:
          unsaved work in it is lost.
        </p>
      </ConfirmForm>,
      { title: "Kill container", active: "containers" },
    );
  });

  page(app, "POST", `${ITEM}/kill`, "org:member", async (c) => {
    const parsed = parseForm(KillInput, await readForm(c));
    if (!parsed.ok) throw new HttpError(400, "validation", "Choose one of the listed signals");
    return await act(c, kit, "kill", parsed.data.next, { signal: parsed.data.signal });
  });

  page(app, "GET", `${ITEM}/remove`, "org:member", async (c) => {
    const { host, name, cached } = await itemOf(c);
    const { org } = orgScopeOf(c);
    const base = orgBase(c);
    const list = `${base}/containers`;
    const running = cached?.state === "running" || cached?.state === "restarting";
    const checks = cached
      ? (await c.var.services.health.service.list(org.id, {
        hostId: host.id,
        containerId: cached.id,
        limit: 50,
      })).items.filter((k) => k.container_id === cached.id)
      : [];
    return render(
      c,
      <ConfirmForm
        title={`Remove ${name}?`}
        action={c.req.path}
        confirm="Remove"
        cancelHref={backTo(c, c.req.query("next"), list)}
        options={
          <>
            <CheckboxField
              name="volumes"
              label="Also remove its anonymous volumes"
              hint="Named volumes are kept either way; remove those on the Volumes page."
            />
            {running && (
              <CheckboxField
                name="force"
                label="It is running: kill it first"
                values={{ force: "on" }}
              />
            )}
            {checks.length > 0 && <RemoveChecks checks={checks} base={base} />}
          </>
        }
      >
        <p>
          The container is deleted from <strong>{host.name}</strong>{" "}
          with its writable layer. This cannot be undone.
        </p>
      </ConfirmForm>,
      { title: "Remove container", active: "containers" },
    );
  });

  page(app, "POST", `${ITEM}/remove`, "org:member", async (c) => {
    const values = await readForm(c);
    const { host, id } = await itemOf(c);
    const { org } = orgScopeOf(c);
    const { db } = c.var.services;
    const checks = parseForm(RemoveChecksInput, values);
    if (!checks.ok) {
      throw new HttpError(400, "validation", "Choose whether to pause or delete its health checks");
    }
    try {
      await removeWithChecks(c, host.id, id, {
        force: values.force === "on",
        volumes: values.volumes === "on",
        checks: checks.data.checks,
      });
    } catch (err) {
      return await listPage(c, kit, pageError(err));
    }
    await waitForCache(db, org.id, host.id, id, (x) => x === undefined);
    // Back to the list: the page the removal came from may have been the container's own.
    return seeOther(c, withFlash(`${orgBase(c)}/containers`, "container_removed"));
  });
}

/** Runs a lifecycle action, waits briefly for its event to reach the cache, then goes back. */
async function act(
  c: AppContext,
  kit: PageKit,
  action: ContainerAction,
  next: string | undefined,
  opts: { signal?: string },
): Promise<Response> {
  const { host, id, cached } = await itemOf(c);
  const { org } = orgScopeOf(c);
  const { db, clock } = c.var.services;
  const since = clock.now();
  try {
    await containerAction(c.var.services, dockerCaller(c), host.id, id, action, opts);
  } catch (err) {
    return await listPage(c, kit, pageError(err));
  }
  // The answer can arrive before the event that updates the cache: wait for the state it implies.
  const running = action === "start" || action === "restart";
  if (cached) {
    await waitForCache(
      db,
      org.id,
      host.id,
      id,
      (x) => !x || (x.updated_at >= since && (x.state === "running") === running),
    );
  }
  const back = backTo(c, next, `${orgBase(c)}/containers`);
  return seeOther(c, withFlash(back, `container_${PAST[action]}`));
}
