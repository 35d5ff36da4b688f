/**
 * Invitations: how org admins add members by email without learning whether an account exists.
 * Inviting answers the same for any email (only a current member, whom admins see anyway, is a
 * 409); the invitation waits until the account with that email accepts it after signing in, so
 * the members list changes only by the invitee's own act.
 */
import type { Db } from "../db/mod.ts";
import type { OrgInvitationsTable, OrgRole } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import { Conflict, NotFound } from "../errors.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { Member, Organization, Orgs } from "./service.ts";

export type Invitation = OrgInvitationsTable;
/** An invitation as its invitee sees it: with the organization's slug and name. */
export type IncomingInvitation = Invitation & { org_slug: string; org_name: string };

/** How long an invitation waits for its invitee. */
export const INVITATION_TTL_MS = 14 * 24 * 3600_000;

/** Invitations to organizations (see the module comment); every change is audited. */
export function createInvitations(deps: { db: Db; clock: Clock; audit: AuditLog; orgs: Orgs }) {
  const { db, clock, audit, orgs } = deps;

  async function pending(orgId: string, email: string): Promise<Invitation | undefined> {
    return await db.selectFrom("org_invitations").selectAll().where("org_id", "=", orgId)
      .where("email", "=", email).where("expires_at", ">", clock.now()).executeTakeFirst();
  }

  return {
    /** Invites `email` with `role` (re-inviting renews it); 409 only when already a member. */
    async invite(
      ctx: ActionContext,
      org: Organization,
      input: { email: string; role: OrgRole },
    ): Promise<Invitation> {
      return await audit.run(ctx, "member.invited", {
        orgId: org.id,
        target: { type: "user", name: input.email },
        metadata: { role: input.role },
      }, async () => {
        const member = await db.selectFrom("memberships")
          .innerJoin("users", "users.id", "memberships.user_id").select("memberships.user_id")
          .where("memberships.org_id", "=", org.id).where("users.email", "=", input.email)
          .executeTakeFirst();
        if (member) {
          throw new Conflict(`Cannot invite "${input.email}": already a member of ${org.slug}`);
        }
        const now = clock.now();
        const row: Invitation = {
          org_id: org.id,
          email: input.email,
          role: input.role,
          invited_by: ctx.actor.id ?? null,
          created_at: now,
          expires_at: now + INVITATION_TTL_MS,
        };
        await db.insertInto("org_invitations").values(row).onConflict((oc) =>
          oc.columns(["org_id", "email"]).doUpdateSet({
            role: row.role,
            invited_by: row.invited_by,
            created_at: row.created_at,
            expires_at: row.expires_at,
          })
        ).execute();
        return row;
      });
    },

    /** An organization's pending invitations, newest first. */
    async listForOrg(orgId: string, limit = 200): Promise<Invitation[]> {
      return await db.selectFrom("org_invitations").selectAll().where("org_id", "=", orgId)
        .where("expires_at", ">", clock.now()).orderBy("created_at", "desc").limit(limit)
        .execute();
    },

    /** Withdraws a pending invitation; 404 when there is none. */
    async cancel(ctx: ActionContext, org: Organization, email: string): Promise<void> {
      await audit.run(ctx, "member.invitation_cancelled", {
        orgId: org.id,
        target: { type: "user", name: email },
      }, async () => {
        const r = await db.deleteFrom("org_invitations").where("org_id", "=", org.id)
          .where("email", "=", email).executeTakeFirst();
        if (Number(r.numDeletedRows ?? 0) === 0) throw new NotFound("invitation not found");
      });
    },

    /** The pending invitations addressed to `email`. */
    async listForEmail(email: string): Promise<IncomingInvitation[]> {
      return await db.selectFrom("org_invitations")
        .innerJoin("organizations", "organizations.id", "org_invitations.org_id")
        .selectAll("org_invitations")
        .select(["organizations.slug as org_slug", "organizations.name as org_name"])
        .where("org_invitations.email", "=", email)
        .where("org_invitations.expires_at", ">", clock.now())
        .orderBy("org_invitations.created_at", "desc").limit(100).execute();
    },

    /** The invitee joins with the invited role; 404 when no pending invitation is addressed to them. */
    async accept(
      ctx: ActionContext,
      user: { id: string; email: string },
      orgSlug: string,
    ): Promise<Member> {
      const org = await orgs.bySlug(orgSlug);
      const inv = org && await pending(org.id, user.email);
      if (!org || !inv) throw new NotFound("invitation not found");
      const member = await orgs.addMember(ctx, org, { email: user.email, role: inv.role });
      await db.deleteFrom("org_invitations").where("org_id", "=", org.id)
        .where("email", "=", user.email).execute();
      return member;
    },

    /** The invitee turns an invitation down; 404 when there is none. */
    async decline(ctx: ActionContext, user: { email: string }, orgSlug: string): Promise<void> {
      const org = await orgs.bySlug(orgSlug);
      await audit.run(ctx, "member.invitation_declined", {
        orgId: org?.id,
        target: { type: "user", name: user.email },
      }, async () => {
        const r = org &&
          await db.deleteFrom("org_invitations").where("org_id", "=", org.id)
            .where("email", "=", user.email).executeTakeFirst();
        if (!r || Number(r.numDeletedRows ?? 0) === 0) throw new NotFound("invitation not found");
      });
    },
  };
}

export type Invitations = ReturnType<typeof createInvitations>;
