import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import type { CatalogEntry } from "../../../../lib/templates/service.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { FilterForm } from "../../../../components/FilterForm.tsx";
import { SelectField, TextField } from "../../../../components/Field.tsx";
import { Badge } from "../../../../components/Badge.tsx";
import { filterLinks, queryValues } from "../../../_forms.ts";
import { render } from "../../../_render.tsx";
import {
  mayDeploy,
  mayEdit,
  TemplateFlash,
  templateHref,
  TemplateIcon,
  templatesBase,
  usedText,
} from "./_template.tsx";

/** Templates in each of the Popular and Recently used strips. */
const STRIP = 4;

/** A template of the library grid: icon, name, category, description, how often used. */
function TemplateCard({ entry: e, href }: { entry: CatalogEntry; href: string }) {
  return (
    <li class="card template-card" data-template={e.id}>
      <div class="template-card-head">
        <TemplateIcon icon={e.icon} name={e.name} />
        <div class="template-card-title">
          <h3>
            <a href={href}>{e.name}</a>
          </h3>
          <div class="template-card-meta small">
            <Badge>{e.category}</Badge>
            {e.source === "org" && <Badge tone="accent">organization</Badge>}
            <span class="muted">v{e.version}</span>
          </div>
        </div>
      </div>
      <p class="template-card-description">{e.description || <span class="muted">—</span>}</p>
      <p class="template-card-foot small muted" data-used={e.used}>{usedText(e.used)}</p>
    </li>
  );
}

/** A strip of links to templates (Popular, Recently used). */
function Strip(
  { title, id, entries, hrefOf, note }: {
    title: string;
    id: string;
    entries: CatalogEntry[];
    hrefOf: (id: string) => string;
    note: (e: CatalogEntry) => string;
  },
) {
  if (!entries.length) return null;
  return (
    <section class="template-strip" aria-labelledby={`${id}-title`} data-strip={id}>
      <h2 id={`${id}-title`} class="section-title">{title}</h2>
      <ul>
        {entries.map((e) => (
          <li key={e.id}>
            <a href={hrefOf(e.id)}>
              <TemplateIcon icon={e.icon} name={e.name} />
              <span class="template-strip-name">{e.name}</span>
              <span class="muted small">{note(e)}</span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** `2026-01-31`, the day a template was last deployed. */
const day = (ms: number | null) => (ms ? new Date(ms).toISOString().slice(0, 10) : "");

/** The library: a grid of templates, filtered by category and search, with what is used most. */
async function libraryPage(c: AppContext) {
  const { org } = orgScopeOf(c);
  const base = templatesBase(c);
  const values = queryValues(c);
  const q = (values.q ?? "").trim().slice(0, 100);
  const all = await c.var.services.templates.catalog(org.id);
  const categories = [...new Set(all.map((e) => e.category))].sort();
  const category = categories.includes(values.category ?? "") ? values.category : undefined;
  const links = filterLinks(base, { q, category: category ?? "" }, ["q", "category"]);
  const shown = links.active
    ? await c.var.services.templates.catalog(org.id, { category, search: q || undefined })
    : all;
  const used = all.filter((e) => e.used > 0);
  const popular = [...used].sort((a, b) => b.used - a.used || a.name.localeCompare(b.name))
    .slice(0, STRIP);
  const recent = [...used].sort((a, b) => (b.last_used ?? 0) - (a.last_used ?? 0)).slice(0, STRIP);
  const hrefOf = (id: string) => templateHref(c, id);
  const edit = mayEdit(c);

  return render(
    c,
    <>
      <PageHeader
        title="Templates"
        sub={
          <>
            {org.name} · {all.length} {all.length === 1 ? "template" : "templates"}{" "}
            · ready-made apps: pick one, give it a name and a domain, and it is deployed
          </>
        }
      >
        {mayDeploy(c) && <a class="btn" href={`${base}/import`}>Import Compose file</a>}
        {edit && <a class="btn btn-primary" href={`${base}/new`}>New template</a>}
      </PageHeader>
      <TemplateFlash c={c} />
      {!links.active && (popular.length > 0 || recent.length > 0) && (
        <div class="template-strips">
          <Strip
            title="Popular"
            id="popular"
            entries={popular}
            hrefOf={hrefOf}
            note={(e) => usedText(e.used)}
          />
          <Strip
            title="Recently used"
            id="recent"
            entries={recent}
            hrefOf={hrefOf}
            note={(e) => day(e.last_used)}
          />
        </div>
      )}
      <FilterForm action={base}>
        <TextField
          name="q"
          label="Search"
          type="search"
          placeholder="Name, description or tag"
          values={{ q }}
          idPrefix="tf"
        />
        <SelectField
          name="category"
          label="Category"
          options={[
            { value: "", label: "All categories" },
            ...categories.map((x) => ({ value: x, label: x })),
          ]}
          value={category ?? ""}
          idPrefix="tf"
        />
      </FilterForm>
      {shown.length > 0
        ? (
          <ul class="template-cards" aria-label="Templates">
            {shown.map((e) => <TemplateCard key={e.id} entry={e} href={hrefOf(e.id)} />)}
          </ul>
        )
        : (
          <EmptyState
            title={links.active ? "No templates match" : "No templates yet"}
          >
            <p>
              {links.active
                ? "Search for another word or pick another category, or reset the filters."
                : "A template describes an app of one or more services, the variables it asks for and the domain it serves."}
            </p>
            {edit && !links.active && (
              <p>
                <a class="btn btn-primary" href={`${base}/new`}>New template</a>
              </p>
            )}
          </EmptyState>
        )}
    </>,
    { title: `Templates · ${org.name}`, active: "templates" },
  );
}

/** `GET /o/:org/templates`: the template library (viewers); deploying needs a member. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/templates", "org:viewer", (c) => libraryPage(c));
}
