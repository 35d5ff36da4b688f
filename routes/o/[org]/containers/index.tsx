import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import type { HttpError } from "../../../../lib/http/errors.ts";
import { page } from "../../../../lib/http/pages.ts";
import { island } from "../../../../lib/islands/island.tsx";
import type { CachedContainer } from "../../../../lib/hosts/container_list.ts";
import { listContainers } from "../../../../lib/hosts/container_use_cases.ts";
import ContainersLive from "../../../../islands/ContainersLive.tsx";
import { ContainerListQuery } from "../../../_schemas/docker.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { ContainerFilters } from "../../../../components/ContainerFilters.tsx";
import { ContainersTable } from "../../../../components/ContainersTable.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { Alert } from "../../../../components/Alert.tsx";
import { type FieldErrors, parseForm, queryValues } from "../../../_forms.ts";
import { hasIsland, type PageKit, render } from "../../../_render.tsx";
import { abilities, DockerFlash, hostChoices, NoHostsYet, orgBase } from "../_docker.tsx";
import { topics } from "../../../../lib/realtime/topics.ts";

const ContainersLiveIsland = island("ContainersLive", ContainersLive);
const PAGE_SIZE = 50;
const FILTERS = ["host", "state", "q", "label"] as const;

/** The list page, optionally with an error from an action that was posted to it. */
export async function listPage(c: AppContext, kit: PageKit, error?: HttpError) {
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
    result = await listContainers(c.var.services, org.id, {
      hostId: parsed.data.host,
      state: parsed.data.state,
      q: parsed.data.q || undefined,
      label: parsed.data.label,
      limit: PAGE_SIZE,
      offset,
    });
  } else errors = parsed.errors;
  // The snapshots' sync state of the listed containers that mount snapshotted volumes.
  const sync = await c.var.services.volumeCards.containerSync(org.id, result.items);
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
          <ContainersLiveIsland
            topic={topics.containers(org.id)}
            refreshHref={href(offset)}
            filtersOnState={Boolean(parsed.ok && (parsed.data.state || parsed.data.q))}
          />
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
                sync={sync}
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

/** `GET /o/:org/containers`: every host's containers (viewers); actions live beside each container. */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", "/o/:org/containers", "org:viewer", (c) => listPage(c, kit));
}
