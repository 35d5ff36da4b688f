import type { Hono } from "hono";
import { z } from "zod";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  orgScopeOf,
  principalOf,
} from "../../../lib/http/context.ts";
import { page } from "../../../lib/http/pages.ts";
import { notFound } from "../../../lib/http/errors.ts";
import { roleAtLeast } from "../../../lib/auth/principal.ts";
import { emailSchema, orgRoleSchema } from "../../../lib/auth/schema.ts";
import { assertMayAssign } from "../../../lib/orgs/use_cases.ts";
import { Alert } from "../../../components/Alert.tsx";
import { PageHeader } from "../../../components/PageHeader.tsx";
import { MembersTable } from "../../../components/MembersTable.tsx";
import { AddMemberForm } from "../../../components/AddMemberForm.tsx";
import { InvitationsTable } from "../../../components/InvitationsTable.tsx";
import { ConfirmAction } from "../../../components/ConfirmAction.tsx";
import type { FormState } from "../../../components/Field.tsx";
import { errorsOf, formError, parseForm, readForm } from "../../_forms.ts";
import { render, seeOther } from "../../_render.tsx";

const AddInput = z.object({ email: emailSchema, role: orgRoleSchema });
const RoleInput = z.object({ role: orgRoleSchema });
const LIMIT = 500;

const base = (slug: string) => `/o/${encodeURIComponent(slug)}`;

/** The members page, optionally with the add form's input and errors or a page-level error. */
export async function membersPage(
  c: AppContext,
  state: { add?: FormState; error?: string } = {},
  status = 200,
) {
  const { org, role } = orgScopeOf(c);
  const p = principalOf(c);
  const members = await c.var.services.orgs.members(org.id, LIMIT);
  const isAdmin = roleAtLeast(role, "admin");
  const invitations = isAdmin ? await c.var.services.invitations.listForOrg(org.id) : [];
  return render(
    c,
    <>
      <PageHeader
        title="Members"
        sub={<>{org.name} · {members.length} {members.length === 1 ? "member" : "members"}</>}
      />
      {state.error && <Alert kind="error">{state.error}</Alert>}
      <MembersTable members={members} base={base(org.slug)} actorRole={role} actorId={p.userId} />
      {isAdmin && (
        <InvitationsTable
          invitations={invitations}
          action={`${base(org.slug)}/invitations/withdraw`}
        />
      )}
      {isAdmin && (
        <AddMemberForm
          action={`${base(org.slug)}/members`}
          actorRole={role}
          isPlatformAdmin={p.isAdmin}
          values={state.add?.values}
          errors={state.add?.errors}
        />
      )}
    </>,
    { title: `Members · ${org.name}`, active: "members", status },
  );
}

/** The member named by `:userId`, or 404 (also for members of other organizations). */
async function memberOf(c: AppContext) {
  const { org } = orgScopeOf(c);
  const userId = c.req.param("userId") ?? "";
  const { orgs, users } = c.var.services;
  const role = await orgs.roleOf(org.id, userId);
  const user = role && await users.byId(userId);
  if (!role || !user) throw notFound("member");
  return { user, role };
}

/**
 * Members pages: list (viewers), invite, change role and remove (admins;
 * owners for owner changes).
 */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/o/:org/members", "org:viewer", (c) => membersPage(c));

  page(app, "POST", "/o/:org/members", "org:admin", async (c) => {
    const { org, role } = orgScopeOf(c);
    const values = await readForm(c);
    const parsed = parseForm(AddInput, values);
    if (!parsed.ok) return membersPage(c, { add: { values, errors: parsed.errors } }, 400);
    try {
      assertMayAssign(role, parsed.data.role);
      // An invitation, whether or not an account exists: the answer must not tell (README).
      await c.var.services.invitations.invite(actionContext(c), org, parsed.data);
    } catch (err) {
      const e = formError(err);
      const field = e.status === 403 ? "role" : "email";
      return membersPage(c, { add: { values, errors: errorsOf(e, field) } }, e.status);
    }
    return seeOther(c, `${base(org.slug)}/members?ok=member_invited`);
  });

  page(app, "POST", "/o/:org/members/:userId/role", "org:admin", async (c) => {
    const { org, role } = orgScopeOf(c);
    const parsed = parseForm(RoleInput, await readForm(c));
    if (!parsed.ok) return membersPage(c, { error: "Choose one of the listed roles." }, 400);
    try {
      const member = await memberOf(c);
      assertMayAssign(role, parsed.data.role, member.role);
      await c.var.services.orgs.changeRole(
        actionContext(c),
        org,
        member.user.id,
        parsed.data.role,
      );
    } catch (err) {
      const e = formError(err);
      return membersPage(c, { error: e.message }, e.status);
    }
    return seeOther(c, `${base(org.slug)}/members?ok=role_changed`);
  });

  page(app, "GET", "/o/:org/members/:userId/remove", "org:admin", async (c) => {
    const { org } = orgScopeOf(c);
    const { user } = await memberOf(c);
    const list = `${base(org.slug)}/members`;
    return render(
      c,
      <ConfirmAction
        title={`Remove ${user.email} from ${org.name}?`}
        action={`${list}/${encodeURIComponent(user.id)}/remove`}
        confirm="Remove"
        cancelHref={list}
      >
        <p>
          {user.name} loses access to {org.name}{" "}
          at once, and their API tokens for it are revoked. They can be added again later.
        </p>
      </ConfirmAction>,
      { title: "Remove member", active: "members" },
    );
  });

  page(app, "POST", "/o/:org/members/:userId/remove", "org:admin", async (c) => {
    const { org, role } = orgScopeOf(c);
    const p = principalOf(c);
    let userId: string;
    try {
      const member = await memberOf(c);
      userId = member.user.id;
      assertMayAssign(role, member.role, member.role);
      await c.var.services.orgs.removeMember(actionContext(c), org, userId);
    } catch (err) {
      const e = formError(err);
      return membersPage(c, { error: e.message }, e.status);
    }
    // Someone who removed themselves can no longer see this organization's pages.
    if (userId === p.userId && !p.isAdmin) return seeOther(c, "/?ok=member_removed");
    return seeOther(c, `${base(org.slug)}/members?ok=member_removed`);
  });
}
