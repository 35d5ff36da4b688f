/**
 * How an agent gets and keeps its credential: a single-use enrollment token valid one hour,
 * exchanged once for a long-lived host token bound to the machine id; tokens are random, shown
 * once and stored as SHA-256 hashes (DESIGN §5.5).
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import { randomToken, uuidv7 } from "../util/ids.ts";
import { tokenHash } from "../util/token_hash.ts";
import { Conflict, Unauthenticated } from "../errors.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import { type Host, HOST_COLUMNS, hostView } from "./rows.ts";

/** Enrollment tokens are valid for one hour and one use. */
export const ENROLLMENT_TTL_MS = 3600_000;
export const HOST_TOKEN_PATTERN = /^caph_[\w-]{43}$/;
export const ENROLLMENT_TOKEN_PATTERN = /^cape_[\w-]{43}$/;

const invalidEnrollment = () =>
  new Unauthenticated("The enrollment token is invalid, used or expired", "invalid_enrollment");

/** What enrollment needs: storage, time, the audit log and the host look-ups of the service. */
export interface EnrollmentDeps {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  get(orgId: string, hostId: string): Promise<Host>;
  byId(hostId: string): Promise<Host | undefined>;
}

/** Enrollment and host tokens; see the module comment. */
export function createEnrollment(deps: EnrollmentDeps) {
  const { db, clock, audit } = deps;

  const self = {
    /** A new enrollment token for a host (stored hashed; the token is returned once). */
    async issue(orgId: string, hostId: string, createdBy: string | null) {
      const token = randomToken("cape_", 32);
      const now = clock.now();
      await db.insertInto("host_enrollments").values({
        id: uuidv7(now),
        org_id: orgId,
        host_id: hostId,
        token_hash: await tokenHash(token),
        created_by: createdBy,
        created_at: now,
        expires_at: now + ENROLLMENT_TTL_MS,
        used_at: null,
      }).execute();
      return { token, expiresAt: now + ENROLLMENT_TTL_MS };
    },

    /** A fresh enrollment token for a host that has not enrolled yet (the old one stops working). */
    async newEnrollment(ctx: ActionContext, orgId: string, hostId: string) {
      const host = await deps.get(orgId, hostId);
      return await audit.run(ctx, "host.enrollment_issued", {
        orgId,
        target: { type: "host", id: host.id, name: host.name },
      }, async () => {
        if (host.enrolled_at !== null) {
          throw new Conflict(
            `Cannot issue an enrollment token for "${host.name}": its agent has enrolled already; rotate its token instead`,
          );
        }
        await db.deleteFrom("host_enrollments").where("host_id", "=", host.id).where(
          "used_at",
          "is",
          null,
        ).execute();
        return await self.issue(orgId, host.id, ctx.actor.id ?? null);
      });
    },

    /**
     * Exchanges an enrollment token for a long-lived host token bound to the machine id. The token
     * is consumed in one conditional update, so two racing agents cannot both enroll.
     */
    async enroll(
      ctx: ActionContext,
      input: { token: string; machineId: string; hostname: string },
    ) {
      const hash = await tokenHash(input.token);
      const row = await db.selectFrom("host_enrollments").selectAll().where("token_hash", "=", hash)
        .executeTakeFirst();
      const now = clock.now();
      const host = row && await deps.byId(row.host_id);
      return await audit.run(ctx, "host.enrolled", {
        orgId: row?.org_id,
        target: { type: "host", id: host?.id, name: host?.name },
        metadata: { machine_id: input.machineId, hostname: input.hostname },
      }, async () => {
        if (!row || !host || row.used_at !== null || row.expires_at <= now) {
          throw invalidEnrollment();
        }
        const used = await db.updateTable("host_enrollments").set({ used_at: now }).where(
          "id",
          "=",
          row.id,
        )
          .where("used_at", "is", null).executeTakeFirst();
        if (Number(used.numUpdatedRows ?? 0) !== 1) throw invalidEnrollment();
        const token = randomToken("caph_", 32);
        await db.updateTable("hosts").set({
          token_hash: await tokenHash(token),
          machine_id: input.machineId,
          hostname: input.hostname,
          enrolled_at: now,
        }).where("id", "=", host.id).execute();
        return { hostId: host.id, orgId: host.org_id, token };
      });
    },

    /** The host a token belongs to, or undefined. */
    async byToken(token: string): Promise<(Host & { machine_id: string | null }) | undefined> {
      if (!HOST_TOKEN_PATTERN.test(token)) return undefined;
      const row = await db.selectFrom("hosts").select(HOST_COLUMNS).where(
        "token_hash",
        "=",
        await tokenHash(token),
      )
        .where("removed_at", "is", null).executeTakeFirst();
      return row && hostView(row);
    },

    /** Replaces the host token; the old one stops working at once. Returns the new token (shown once). */
    async rotateToken(ctx: ActionContext, orgId: string, hostId: string): Promise<string> {
      const host = await deps.get(orgId, hostId);
      return await audit.run(ctx, "host.token_rotated", {
        orgId,
        target: { type: "host", id: host.id, name: host.name },
      }, async () => {
        if (host.local) {
          throw new Conflict(
            `Cannot rotate the token of "${host.name}": the embedded agent has none`,
          );
        }
        const token = randomToken("caph_", 32);
        await db.updateTable("hosts").set({ token_hash: await tokenHash(token) }).where(
          "id",
          "=",
          host.id,
        ).execute();
        return token;
      });
    },
  };
  return self;
}
