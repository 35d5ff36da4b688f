/**
 * Deny by default: walks every route the app registered and checks its policy from the outside —
 * 401 (or a redirect to sign-in) without credentials, 403 for a role below the policy, 404 for
 * another organization's resources. A route registered without a declared policy fails here.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { declaredRoutes, type Policy } from "../lib/http/policy.ts";
import type { OrgRole } from "../lib/db/schema.ts";

const BELOW: Record<OrgRole, OrgRole | undefined> = {
  owner: "admin",
  admin: "member",
  member: "viewer",
  viewer: undefined,
};
const SOME_ID = "01900000-0000-7000-8000-000000000000";

function fill(path: string, org: string): string {
  return path.replace(/:org\b/g, org).replace(
    /:(\w+)(\{[^}]*\})?/g,
    (_, name) => (name === "path" ? "x.js" : SOME_ID),
  );
}

dbTest("[e2e] route walk: every route declares a policy and enforces it", async (h) => {
  const t = testApp(h);
  const registered = t.app.routes.filter((r) => r.method !== "ALL").map((r) =>
    `${r.method} ${r.path}`
  );
  const declared = declaredRoutes.map((r) => `${r.method} ${r.path}`);
  const undeclared = [...new Set(registered)].filter((r) => !declared.includes(r));
  assert.deepEqual(undeclared, [], "routes registered without a policy");
  assert.ok(declared.length >= 20, `expected the full app, saw ${declared.length} routes`);
  // Modules' routes are walked like any other; these must be among them (issue 19's NAS status).
  for (
    const r of [
      "GET /api/v1/orgs/:org/storage/nas",
      "POST /api/v1/orgs/:org/storage/nas",
      "PATCH /api/v1/orgs/:org/storage/nas/:id",
      "DELETE /api/v1/orgs/:org/storage/nas/:id",
      "POST /api/v1/orgs/:org/storage/nas/:id/check",
      "GET /o/:org/storage/nas",
      "POST /o/:org/storage/nas/:id/delete",
      // Issue 21's billing: members read, platform admins set prices and move money.
      "GET /api/v1/orgs/:org/billing/balance",
      "GET /api/v1/orgs/:org/billing/ledger",
      "GET /api/v1/orgs/:org/billing/cycles",
      "GET /api/v1/orgs/:org/billing/export.csv",
      "GET /api/v1/orgs/:org/billing/projection",
      "GET /api/v1/orgs/:org/billing/plan",
      "POST /api/v1/orgs/:org/billing/estimate",
      "PUT /api/v1/billing/plans/default",
      "PUT /api/v1/billing/orgs/:org/plan",
      "DELETE /api/v1/billing/orgs/:org/plan",
      "POST /api/v1/billing/orgs/:org/entries",
      "GET /o/:org/billing",
      "POST /o/:org/billing/entries",
      "POST /o/:org/billing/plan",
      "POST /o/:org/billing/plan/clear",
      "GET /admin/billing",
      "POST /admin/billing",
      // Issue 21's PayPal top-ups: org admins start and capture, members list; PayPal's webhook
      // is public (verified through PayPal's API), so the walk skips it like the Git hooks.
      "GET /api/v1/orgs/:org/billing/payments",
      "POST /api/v1/orgs/:org/billing/payments",
      "POST /api/v1/orgs/:org/billing/payments/:id/capture",
      "POST /api/v1/billing/paypal/webhook",
      "POST /o/:org/billing/payments",
      "GET /o/:org/billing/payments/:id/return",
      "GET /o/:org/billing/payments/:id/cancel",
      // Issue 21's quotas: members read their org's, platform admins set them.
      "GET /api/v1/orgs/:org/quotas",
      "GET /api/v1/quotas/orgs/:org",
      "GET /api/v1/quotas/overview",
      "GET /admin/quotas/usage",
      "GET /api/v1/quotas/defaults",
      "PUT /api/v1/quotas/defaults",
      "PUT /api/v1/quotas/orgs/:org/overrides/:resource",
      "DELETE /api/v1/quotas/orgs/:org/overrides/:resource",
      // Issue 22's topology: members read their org's graph (admins: the whole install).
      "GET /api/v1/topology",
    ]
  ) assert.ok(declared.includes(r), `${r} is not declared`);

  const users: Partial<Record<OrgRole, string>> = {};
  for (const role of ["owner", "admin", "member", "viewer"] as const) {
    users[role] = (await t.user(`${role}@acme.io`, { org: "acme", role })).cookie;
  }
  const outsider = (await t.user("owner@globex.io", { org: "globex", role: "owner" })).cookie;

  const problems: string[] = [];
  const check = (
    route: string,
    what: string,
    got: number,
    ok: (s: number) => boolean,
    want: string,
  ) => {
    if (!ok(got)) problems.push(`${route}: ${what} → ${got}, want ${want}`);
  };

  for (const r of declaredRoutes) {
    if (r.policy === "public") continue;
    const name = `${r.method} ${r.path} [${r.policy}]`;
    const usesOrgQuery = r.policy.startsWith("org:") && !r.path.includes(":org");
    const path = fill(r.path, "acme") + (usesOrgQuery ? "?org=acme" : "");
    const send = (cookie?: string) =>
      t.request(path, { method: r.method, cookie, ...(r.method === "GET" ? {} : { json: {} }) });

    const anon = await send();
    await anon.body?.cancel();
    if (r.kind === "page" && r.method === "GET") {
      check(
        name,
        "anonymous",
        anon.status,
        (s) => s === 303 && anon.headers.get("location")!.startsWith("/login"),
        "303 → /login",
      );
    } else check(name, "anonymous", anon.status, (s) => s === 401, "401");

    const policy: Policy = r.policy;
    let lower: string | undefined;
    if (policy === "platform_admin") lower = users.owner;
    else if (policy.startsWith("org:")) {
      const below = BELOW[policy.slice(4) as OrgRole];
      lower = below && users[below];
    }
    if (lower) {
      const res = await send(lower);
      await res.body?.cancel();
      check(name, "role below policy", res.status, (s) => s === 403, "403");
    }
    if (policy.startsWith("org:")) {
      const res = await send(outsider);
      await res.body?.cancel();
      check(name, "another organization", res.status, (s) => s === 404, "404");
    }
  }
  assert.deepEqual(problems, []);
});
