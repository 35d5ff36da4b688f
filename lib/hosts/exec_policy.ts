/**
 * Who may run commands inside an organization's containers. A command health check is an exec
 * into the container, repeated: whoever may create one may run anything there (read mounted host
 * files, use the container's credentials). So it takes the organization's exec role — admins and
 * owners by default; an admin may lower it to members — and so does reading a command check's
 * results, which carry the command's output. The setting is one row of the `kv` table per
 * organization; changing it is audited.
 */
import type { Db } from "../db/mod.ts";
import type { OrgRole } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import { roleAtLeast } from "../auth/principal.ts";
import { Forbidden } from "../errors.ts";

/** The roles the exec right can be given to (the lowest role that has it). */
export const EXEC_ROLES = ["admin", "member"] as const;
/** The lowest role that may run commands in containers. */
export type ExecRole = (typeof EXEC_ROLES)[number];
/** Without a setting, only admins and owners run commands. */
export const DEFAULT_EXEC_ROLE: ExecRole = "admin";

const key = (orgId: string) => `org:${orgId}:exec_role`;

/** The caller as the exec policy sees it: the organization role (platform admins act as owners). */
export interface ExecCaller {
  role: OrgRole;
}

/** The organization's exec role (the default when never set). */
export async function execRole(db: Db, orgId: string): Promise<ExecRole> {
  const r = await db.selectFrom("kv").select("value").where("key", "=", key(orgId))
    .executeTakeFirst();
  return EXEC_ROLES.includes(r?.value as ExecRole) ? r!.value as ExecRole : DEFAULT_EXEC_ROLE;
}

/** Whether a caller's role reaches the exec role. */
export function mayExec(caller: ExecCaller, role: ExecRole): boolean {
  return roleAtLeast(caller.role, role);
}

/** Who has the right, in words, for messages ("organization admins", "members and above"). */
export function execHolders(role: ExecRole): string {
  return role === "admin" ? "organization admins and owners" : "organization members and above";
}

/**
 * 403 unless the caller may run commands in the organization's containers; `action` completes
 * "only organization admins and owners may …", and `field` is named in the error when given.
 */
export function assertMayExec(
  caller: ExecCaller,
  role: ExecRole,
  action: string,
  field?: string,
): void {
  if (mayExec(caller, role)) return;
  const why = `only ${execHolders(role)} may ${action}`;
  throw new Forbidden(
    `${why[0].toUpperCase()}${why.slice(1)}`,
    field ? { [field]: why } : undefined,
  );
}

/** Sets the organization's exec role (audited `org.exec_role_changed`). */
export async function setExecRole(
  deps: { db: Db; clock: Clock; audit: AuditLog },
  ctx: ActionContext,
  orgId: string,
  role: ExecRole,
): Promise<ExecRole> {
  const from = await execRole(deps.db, orgId);
  return await deps.audit.run(ctx, "org.exec_role_changed", {
    orgId,
    target: { type: "organization", id: orgId },
    metadata: { from, to: role },
  }, async () => {
    const now = deps.clock.now();
    await deps.db.insertInto("kv").values({ key: key(orgId), value: role, updated_at: now })
      .onConflict((oc) => oc.column("key").doUpdateSet({ value: role, updated_at: now }))
      .execute();
    return role;
  });
}
