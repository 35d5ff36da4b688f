import type { Db } from "../db/mod.ts";
import type { OrganizationsTable, OrgRole } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { Conflict, NotFound } from "../errors.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { Users } from "../auth/users.ts";

export type Organization = OrganizationsTable;
export interface Member {
  user_id: string;
  email: string;
  name: string;
  role: OrgRole;
  created_at: number;
}

/**
 * Organizations and their members. Every change is audited; an organization always keeps an owner.
 * `onAccessChanged` hears of every role change or removal, so the member's open sockets are
 * re-checked (realtime).
 */
export function createOrgs(
  db: Db,
  clock: Clock,
  audit: AuditLog,
  users: Users,
  onAccessChanged: (userId: string) => void = () => {},
) {
  async function ownerCount(orgId: string): Promise<number> {
    const r = await db.selectFrom("memberships").select((eb) => eb.fn.countAll<number>().as("n"))
      .where("org_id", "=", orgId).where("role", "=", "owner").executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async function membership(orgId: string, userId: string) {
    return await db.selectFrom("memberships").innerJoin("users", "users.id", "memberships.user_id")
      .select([
        "memberships.user_id",
        "users.email",
        "users.name",
        "memberships.role",
        "memberships.created_at",
      ])
      .where("memberships.org_id", "=", orgId).where("memberships.user_id", "=", userId)
      .executeTakeFirst();
  }

  const self = {
    async bySlug(slug: string): Promise<Organization | undefined> {
      return await db.selectFrom("organizations").selectAll().where("slug", "=", slug)
        .executeTakeFirst();
    },

    async byId(id: string): Promise<Organization | undefined> {
      return await db.selectFrom("organizations").selectAll().where("id", "=", id)
        .executeTakeFirst();
    },

    /** Creates an organization, optionally with a first owner. 409 when the slug is taken. */
    async create(
      ctx: ActionContext,
      input: { slug: string; name: string; ownerId?: string },
    ): Promise<Organization> {
      return await audit.run(ctx, "org.created", {
        target: { type: "organization", name: input.slug },
        after: (org) => ({
          orgId: org.id,
          target: { type: "organization", id: org.id, name: org.slug },
        }),
      }, async () => {
        if (await self.bySlug(input.slug)) {
          throw new Conflict(`Cannot create organization "${input.slug}": slug is already in use`);
        }
        const org: Organization = {
          id: uuidv7(clock.now()),
          slug: input.slug,
          name: input.name,
          created_at: clock.now(),
        };
        await db.transaction().execute(async (tx) => {
          await tx.insertInto("organizations").values(org).execute();
          if (input.ownerId) {
            await tx.insertInto("memberships").values({
              org_id: org.id,
              user_id: input.ownerId,
              role: "owner",
              created_at: clock.now(),
            }).execute();
          }
        });
        return org;
      });
    },

    /** Organizations a user belongs to with their role; platform admins see every organization as owner. */
    async listForUser(
      userId: string,
      isAdmin: boolean,
    ): Promise<(Organization & { role: OrgRole })[]> {
      if (isAdmin) {
        const all = await db.selectFrom("organizations").selectAll().orderBy("slug").limit(1000)
          .execute();
        return all.map((o) => ({ ...o, role: "owner" as const }));
      }
      return await db.selectFrom("organizations").innerJoin(
        "memberships",
        "memberships.org_id",
        "organizations.id",
      )
        .selectAll("organizations").select("memberships.role").where(
          "memberships.user_id",
          "=",
          userId,
        )
        .orderBy("organizations.slug").limit(1000).execute();
    },

    /** The user's role in an organization, or undefined when not a member. */
    async roleOf(orgId: string, userId: string): Promise<OrgRole | undefined> {
      const r = await db.selectFrom("memberships").select("role").where("org_id", "=", orgId)
        .where("user_id", "=", userId).executeTakeFirst();
      return r?.role;
    },

    async members(orgId: string, limit = 200, offset = 0): Promise<Member[]> {
      return await db.selectFrom("memberships").innerJoin(
        "users",
        "users.id",
        "memberships.user_id",
      )
        .select([
          "memberships.user_id",
          "users.email",
          "users.name",
          "memberships.role",
          "memberships.created_at",
        ])
        .where("memberships.org_id", "=", orgId).orderBy("users.email").limit(limit).offset(offset)
        .execute();
    },

    /** Adds an existing user by email. 404 when no such user, 409 when already a member. */
    async addMember(
      ctx: ActionContext,
      org: Organization,
      input: { email: string; role: OrgRole },
    ): Promise<Member> {
      return await audit.run(ctx, "member.added", {
        orgId: org.id,
        target: { type: "user", name: input.email },
        metadata: { role: input.role },
      }, async () => {
        const user = await users.byEmail(input.email);
        if (!user) {
          throw new NotFound(`No user with email "${input.email}"; create the account first`);
        }
        if (await self.roleOf(org.id, user.id)) {
          throw new Conflict(`Cannot add "${input.email}": already a member of ${org.slug}`);
        }
        const created_at = clock.now();
        await db.insertInto("memberships").values({
          org_id: org.id,
          user_id: user.id,
          role: input.role,
          created_at,
        })
          .execute();
        return {
          user_id: user.id,
          email: user.email,
          name: user.name,
          role: input.role,
          created_at,
        };
      });
    },

    /** Changes a member's role; the last owner cannot be demoted. */
    async changeRole(
      ctx: ActionContext,
      org: Organization,
      userId: string,
      role: OrgRole,
    ): Promise<Member> {
      const m = await membership(org.id, userId);
      return await audit.run(ctx, "member.role_changed", {
        orgId: org.id,
        target: { type: "user", id: userId, name: m?.email },
        metadata: { from: m?.role, to: role },
      }, async () => {
        if (!m) throw new NotFound("member not found");
        if (m.role === "owner" && role !== "owner" && await ownerCount(org.id) <= 1) {
          throw new Conflict(
            `Cannot change the role of "${m.email}": an organization needs at least one owner`,
          );
        }
        await db.updateTable("memberships").set({ role }).where("org_id", "=", org.id).where(
          "user_id",
          "=",
          userId,
        )
          .execute();
        onAccessChanged(userId);
        return { ...m, role };
      });
    },

    /** Removes a member; the last owner cannot be removed. */
    async removeMember(ctx: ActionContext, org: Organization, userId: string): Promise<void> {
      const m = await membership(org.id, userId);
      await audit.run(ctx, "member.removed", {
        orgId: org.id,
        target: { type: "user", id: userId, name: m?.email },
        metadata: { role: m?.role },
      }, async () => {
        if (!m) throw new NotFound("member not found");
        if (m.role === "owner" && await ownerCount(org.id) <= 1) {
          throw new Conflict(
            `Cannot remove "${m.email}": an organization needs at least one owner`,
          );
        }
        await db.deleteFrom("memberships").where("org_id", "=", org.id).where(
          "user_id",
          "=",
          userId,
        ).execute();
        // A removed member's tokens for this organization stop working with the membership.
        await db.updateTable("api_tokens").set({ revoked_at: clock.now() }).where(
          "org_id",
          "=",
          org.id,
        )
          .where("user_id", "=", userId).where("revoked_at", "is", null).execute();
        onAccessChanged(userId);
      });
    },
  };
  return self;
}

export type Orgs = ReturnType<typeof createOrgs>;
