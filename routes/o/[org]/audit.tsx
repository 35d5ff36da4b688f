import type { Hono } from "hono";
import { type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import type { AuditRow } from "../../../lib/audit/service.ts";
import { island } from "../../../lib/islands/island.tsx";
import { AuditQuery } from "../../_schemas/audit.ts";
import LiveAudit from "../../../islands/LiveAudit.tsx";
import { PageHeader } from "../../../components/PageHeader.tsx";
import { AuditFilters } from "../../../components/AuditFilters.tsx";
import { AuditTable } from "../../../components/AuditTable.tsx";
import { EmptyState } from "../../../components/EmptyState.tsx";
import { Alert } from "../../../components/Alert.tsx";
import { type FieldErrors, filterLinks, localTime, parseForm, queryValues } from "../../_forms.ts";
import { hasIsland, type PageKit, render } from "../../_render.tsx";
import { topics } from "../../../lib/realtime/topics.ts";

const LiveAuditIsland = island("LiveAudit", LiveAudit);
const PAGE_SIZE = 50;

/** The API's filters, with browser-friendly times in place of milliseconds. */
const AuditPageQuery = AuditQuery.pick({
  actor: true,
  action: true,
  target: true,
  status: true,
  before: true,
}).extend({ from: localTime.optional(), to: localTime.optional() });

const FILTER_NAMES = ["actor", "action", "target", "status", "from", "to"] as const;

/** `GET /o/:org/audit`: the audit log with filters, cursor pagination and a live "new events" notice. */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", "/o/:org/audit", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const values = queryValues(c);
    const path = `/o/${encodeURIComponent(org.slug)}/audit`;
    const { href: withFilters, active: filtered } = filterLinks(path, values, FILTER_NAMES);

    const parsed = parseForm(AuditPageQuery, values);
    let errors: FieldErrors | undefined;
    let result: { rows: AuditRow[]; nextBefore: string | null } = { rows: [], nextBefore: null };
    if (parsed.ok) {
      const q = parsed.data;
      result = await c.var.services.audit.list({
        orgId: org.id,
        actor: q.actor,
        action: q.action,
        target: q.target,
        status: q.status,
        from: q.from?.ms,
        // A minute-precision "to" means the whole of that minute.
        to: q.to ? q.to.ms + (q.to.minutePrecision ? 59_999 : 0) : undefined,
        before: q.before,
        limit: PAGE_SIZE,
      });
    } else errors = parsed.errors;

    return render(
      c,
      <>
        <PageHeader title="Audit log" sub={<>{org.name} · every change, newest first</>}>
          {hasIsland(kit.manifest, "LiveAudit") && (
            <LiveAuditIsland topic={topics.audit(org.id)} refreshHref={withFilters()} />
          )}
        </PageHeader>
        <AuditFilters action={path} values={values} errors={errors} />
        {errors && <Alert kind="error">Fix the filters marked above.</Alert>}
        {result.rows.length > 0 ? <AuditTable rows={result.rows} /> : (
          !errors && (
            <EmptyState title={filtered ? "No events match these filters" : "No audit events yet"}>
              <p>
                {filtered
                  ? "Widen the time range or clear a filter."
                  : "Every change in this organization (members, tokens, and later hosts and containers) is recorded here."}
              </p>
            </EmptyState>
          )
        )}
        <nav class="pager" aria-label="Pages">
          {values.before && <a class="btn" href={withFilters()}>← Newest</a>}
          {result.nextBefore && (
            <a class="btn" rel="next" href={withFilters({ before: result.nextBefore })}>Older →</a>
          )}
        </nav>
      </>,
      {
        title: `Audit log · ${org.name}`,
        active: "audit",
        status: errors ? 400 : 200,
        manifest: kit.manifest,
      },
    );
  });
}
