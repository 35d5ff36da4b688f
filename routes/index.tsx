import type { Hono } from "hono";
import { type AppEnv, principalOf } from "../lib/http/context.ts";
import { page } from "../lib/http/pages.ts";
import { notFound } from "../lib/http/errors.ts";
import { PageHeader } from "../components/PageHeader.tsx";
import { EmptyState } from "../components/EmptyState.tsx";
import { render, seeOther } from "./_render.tsx";

/** `GET /`: the first organization's dashboard, the org switcher's target, or what to do without one. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/", "user", async (c) => {
    const p = principalOf(c);
    const orgs = await c.var.services.orgs.listForUser(p.userId, p.isAdmin);
    const wanted = c.req.query("org");
    if (wanted !== undefined) {
      const org = orgs.find((o) => o.slug === wanted);
      if (!org) throw notFound("organization");
      return seeOther(c, `/o/${encodeURIComponent(org.slug)}`);
    }
    if (orgs.length > 0) return seeOther(c, `/o/${encodeURIComponent(orgs[0].slug)}`);
    return render(
      c,
      <>
        <PageHeader title="Welcome to Capstan" />
        <EmptyState title="You are not in any organization yet">
          {p.isAdmin
            ? (
              <>
                <p>
                  Hosts, members and API tokens all belong to an organization. As a platform admin
                  you can create one and become its owner.
                </p>
                <p>
                  <a class="btn btn-primary" href="/admin/orgs">Create an organization</a>
                </p>
              </>
            )
            : (
              <p>
                Ask an owner or admin of an organization to invite{" "}
                <strong>{p.email}</strong>. Invitations wait for you on your{" "}
                <a href="/account">Account</a> page.
              </p>
            )}
        </EmptyState>
      </>,
      { title: "Welcome", active: "home" },
    );
  });
}
