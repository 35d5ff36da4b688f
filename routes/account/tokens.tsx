import type { Hono } from "hono";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  principalOf,
} from "../../lib/http/context.ts";
import { page } from "../../lib/http/pages.ts";
import { notFound } from "../../lib/http/errors.ts";
import { island } from "../../lib/islands/island.tsx";
import { createTokenFor } from "../../lib/auth/use_cases.ts";
import { CreateTokenInput } from "../_schemas/account.ts";
import CopyButton from "../../islands/CopyButton.tsx";
import { PageHeader } from "../../components/PageHeader.tsx";
import { TokenTable } from "../../components/TokenTable.tsx";
import { TokenForm } from "../../components/TokenForm.tsx";
import { NewToken } from "../../components/NewToken.tsx";
import { EmptyState } from "../../components/EmptyState.tsx";
import { Alert } from "../../components/Alert.tsx";
import { ConfirmAction } from "../../components/ConfirmAction.tsx";
import type { FormState } from "../../components/Field.tsx";
import { errorsOf, formError, parseForm, readForm } from "../_forms.ts";
import { hasIsland, type PageKit, render, seeOther } from "../_render.tsx";
import { stashReveal, takeReveal } from "../_reveal.ts";

const CopyButtonIsland = island("CopyButton", CopyButton);

const PATH = "/account/tokens";

/**
 * The tokens page; `created` is the one response that carries a new token's value, `revealed`
 * says this is the page a creation redirected to (with the value or, on a reload, without it).
 */
async function tokensPage(
  c: AppContext,
  kit: PageKit,
  state: { form?: FormState; created?: { name: string; token: string }; revealed?: boolean } = {},
  status = 200,
) {
  const p = principalOf(c);
  const { tokens, orgs, clock } = c.var.services;
  const list = await tokens.listForUser(p.userId);
  const mine = await orgs.listForUser(p.userId, p.isAdmin);
  const slugs = new Map(mine.map((o) => [o.id, o.slug]));
  for (const t of list) {
    if (!slugs.has(t.org_id)) {
      const o = await orgs.byId(t.org_id);
      if (o) slugs.set(o.id, o.slug);
    }
  }
  const created = state.created;
  return render(
    c,
    <>
      <PageHeader
        title="API tokens"
        sub="Tokens let scripts call the API as you, in one organization, with read or write scope."
      />
      {created && (
        <NewToken
          name={created.name}
          token={created.token}
          copy={hasIsland(kit.manifest, "CopyButton") && (
            <CopyButtonIsland target="new-token-value" label="Copy token" />
          )}
        />
      )}
      {state.revealed && !created && (
        <Alert kind="info">
          A new token is shown only once, on the page its creation led to. If you did not copy it,
          revoke it below and create another.
        </Alert>
      )}
      {list.length > 0
        ? <TokenTable tokens={list} orgSlugs={slugs} now={clock.now()} />
        : (
          <EmptyState title="No tokens yet">
            <p>
              Create one below; see the <a href="/docs/api">API reference</a> for what it can do.
            </p>
          </EmptyState>
        )}
      {mine.length > 0
        ? <TokenForm orgs={mine} values={state.form?.values} errors={state.form?.errors} />
        : <p class="muted">You need to be a member of an organization to create a token.</p>}
    </>,
    {
      title: "API tokens",
      active: "tokens",
      status,
      noStore: Boolean(state.revealed),
      manifest: created ? kit.manifest : null,
    },
  );
}

/** Tokens pages: list, create (value shown once), revoke with confirmation. */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", PATH, "user", async (c) => {
    if (c.req.query("created") === undefined) return await tokensPage(c, kit);
    const r = await takeReveal(c, PATH);
    const created = typeof r?.name === "string" && typeof r?.token === "string"
      ? { name: r.name, token: r.token }
      : undefined;
    return await tokensPage(c, kit, { created, revealed: true });
  });

  page(app, "POST", "/account/tokens", "user", async (c) => {
    const values = await readForm(c);
    const parsed = parseForm(CreateTokenInput, values);
    if (!parsed.ok) return tokensPage(c, kit, { form: { values, errors: parsed.errors } }, 400);
    try {
      const { token, record } = await createTokenFor(
        c.var.services,
        principalOf(c),
        actionContext(c),
        parsed.data,
      );
      // POST → redirect → GET, the value in an encrypted one-time cookie (never in the URL), so a
      // reload of the page that shows it cannot mint a second token.
      await stashReveal(c, PATH, { name: record.name, token });
      return seeOther(c, `${PATH}?created=1`);
    } catch (err) {
      const e = formError(err);
      return tokensPage(c, kit, { form: { values, errors: errorsOf(e, "org") } }, e.status);
    }
  });

  page(app, "GET", "/account/tokens/:id/revoke", "user", async (c) => {
    const p = principalOf(c);
    const t = await c.var.services.tokens.byIdForUser(c.req.param("id") ?? "", p.userId);
    if (!t) throw notFound("token");
    return render(
      c,
      <ConfirmAction
        title={`Revoke token “${t.name}”?`}
        action={`/account/tokens/${encodeURIComponent(t.id)}/revoke`}
        confirm="Revoke"
        cancelHref="/account/tokens"
      >
        <p>
          Scripts using <code>{t.prefix}…</code>{" "}
          get 401 from then on. This cannot be undone; create a new token instead.
        </p>
      </ConfirmAction>,
      { title: "Revoke token", active: "tokens" },
    );
  });

  page(app, "POST", "/account/tokens/:id/revoke", "user", async (c) => {
    const p = principalOf(c);
    await c.var.services.accounts.revokeToken(actionContext(c), p.userId, c.req.param("id") ?? "");
    return seeOther(c, "/account/tokens?ok=token_revoked");
  });
}
