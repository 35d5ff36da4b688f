import type { Hono } from "hono";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { SecretName } from "../../../../lib/secrets/service.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { EmptyState } from "../../../../components/EmptyState.tsx";
import { FilterForm } from "../../../../components/FilterForm.tsx";
import { TextField } from "../../../../components/Field.tsx";
import { type SecretRow, SecretsTable } from "../../../../components/SecretsTable.tsx";
import { filterLinks, queryValues } from "../../../_forms.ts";
import { render } from "../../../_render.tsx";
import {
  mayChange,
  newSecretHref,
  SecretFlash,
  secretHref,
  secretsBase,
  UseList,
  userNames,
} from "./_secret.tsx";

const PAGE_SIZE = 25;

/** The organization's secrets by name, searched, a page at a time (`after`: the last name seen). */
async function listPage(c: AppContext) {
  const { org } = orgScopeOf(c);
  const base = secretsBase(c);
  const values = queryValues(c);
  const q = (values.q ?? "").trim().slice(0, 64);
  const after = SecretName.safeParse(values.after).success ? values.after : undefined;
  const links = filterLinks(base, values, ["q"]);
  // One more than a page says whether there is a next one.
  const found = await c.var.services.secrets.list(org.id, {
    search: q || undefined,
    after,
    limit: PAGE_SIZE + 1,
  });
  const secrets = found.slice(0, PAGE_SIZE);
  const nameOf = await userNames(c, secrets.map((s) => s.updated_by));
  const change = mayChange(c);
  const rows: SecretRow[] = secrets.map((s) => ({
    secret: s,
    href: secretHref(c, s.name),
    updatedBy: nameOf(s.updated_by),
    usedBy: <UseList c={c} uses={s.used_by} />,
  }));
  const filtered = links.active || Boolean(after);
  const create = change && <a class="btn btn-primary" href={newSecretHref(c)}>New secret</a>;

  return render(
    c,
    <>
      <PageHeader
        title="Secrets"
        sub={<>{org.name} · passwords, keys and certificates your apps get, encrypted at rest</>}
      >
        {create}
      </PageHeader>
      <SecretFlash c={c} />
      {(secrets.length > 0 || filtered) && (
        <FilterForm action={base}>
          <TextField
            name="q"
            label="Search"
            type="search"
            placeholder="Part of a name"
            values={{ q }}
            idPrefix="sf"
          />
        </FilterForm>
      )}
      {rows.length > 0
        ? <SecretsTable rows={rows} />
        : (
          <EmptyState title={filtered ? "No secrets match this search" : "No secrets yet"}>
            {filtered ? <p>Search for another part of a name, or reset the search.</p> : (
              <>
                <p>
                  A secret is a value your apps need but nobody should read: a database password, an
                  API key, a TLS key. Its value goes in once, is stored encrypted and is never shown
                  again; apps get it as a file (recommended) or an environment variable, and a new
                  version restarts them without downtime.
                </p>
                <p class="muted">
                  {change
                    ? "Attach a secret to an app in the app's settings (Edit → Secrets)."
                    : "Organization admins and owners create secrets; members attach them to apps."}
                </p>
                {create && <p>{create}</p>}
              </>
            )}
          </EmptyState>
        )}
      {(after || found.length > PAGE_SIZE) && (
        <nav class="pager" aria-label="Pages">
          {after && <a class="btn" href={links.href()}>First page</a>}
          {found.length > PAGE_SIZE && (
            <a class="btn" rel="next" href={links.href({ after: secrets.at(-1)!.name })}>
              Next page →
            </a>
          )}
        </nav>
      )}
    </>,
    { title: `Secrets · ${org.name}`, active: "secrets" },
  );
}

/** `GET /o/:org/secrets`: the organization's secrets, never their values (viewers). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/secrets", "org:viewer", (c) => listPage(c));
}
