/**
 * Membership rules the API and the pages share: who may hand out or take away a role, and
 * answering an invitation as the signed-in user.
 */
import type { ActionContext } from "../audit/service.ts";
import type { Principal } from "../auth/principal.ts";
import type { OrgRole } from "../db/schema.ts";
import { Forbidden } from "../errors.ts";
import type { Invitations } from "./invitations.ts";
import type { Member } from "./service.ts";

/** Only owners may grant or take away ownership. */
export function assertMayAssign(actorRole: OrgRole, role: OrgRole, currentRole?: OrgRole): void {
  if ((role === "owner" || currentRole === "owner") && actorRole !== "owner") {
    throw new Forbidden("Only owners may grant or remove the owner role");
  }
}

/**
 * Answers an invitation for the signed-in user: the membership on accept, undefined on decline. A
 * token is bound to one organization, so it may not make its user join another.
 */
export async function answerInvitation(
  deps: { invitations: Pick<Invitations, "accept" | "decline"> },
  p: Principal,
  ctx: ActionContext,
  orgSlug: string,
  answer: "accept" | "decline",
): Promise<Member | undefined> {
  if (p.kind !== "session") {
    throw new Forbidden("Invitations can only be answered from a signed-in session");
  }
  const user = { id: p.userId, email: p.email };
  if (answer === "accept") return await deps.invitations.accept(ctx, user, orgSlug);
  await deps.invitations.decline(ctx, user, orgSlug);
  return undefined;
}
