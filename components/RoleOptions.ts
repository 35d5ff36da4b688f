import type { OrgRole } from "../lib/db/schema.ts";

const LABELS: Record<OrgRole, string> = {
  owner: "Owner",
  admin: "Admin",
  member: "Member",
  viewer: "Viewer",
};

/** Roles an actor may hand out: only owners may grant the owner role. */
export function roleOptions(actorRole: OrgRole): { value: OrgRole; label: string }[] {
  const roles: OrgRole[] = actorRole === "owner"
    ? ["owner", "admin", "member", "viewer"]
    : ["admin", "member", "viewer"];
  return roles.map((value) => ({ value, label: LABELS[value] }));
}
