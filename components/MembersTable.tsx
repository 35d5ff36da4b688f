import type { OrgRole } from "../lib/db/schema.ts";
import type { Member } from "../lib/orgs/service.ts";
import { Badge } from "./Badge.tsx";
import { roleOptions } from "./RoleOptions.ts";
import { Time } from "./Time.tsx";

interface Props {
  members: Member[];
  base: string;
  /** The viewer's role; admins and owners get the change and remove controls. */
  actorRole: OrgRole;
  actorId: string;
}

/** Members with their roles; admins change roles inline and remove through a confirmation page. */
export function MembersTable({ members, base, actorRole, actorId }: Props) {
  const manage = actorRole === "owner" || actorRole === "admin";
  // Admins may not touch owners: the service refuses it, so the page does not offer it.
  const canEdit = (m: Member) => manage && (actorRole === "owner" || m.role !== "owner");
  return (
    <div class="table-wrap">
      <table class="table-cards">
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Added</th>
            {manage && (
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {members.map((m) => {
            const path = `${base}/members/${encodeURIComponent(m.user_id)}`;
            const id = `role-${m.user_id}`;
            return (
              <tr key={m.user_id}>
                <td class="nowrap card-title">{m.email}</td>
                <td data-label="Name">
                  {m.name}
                  {m.user_id === actorId && <span class="muted you">(you)</span>}
                </td>
                <td data-label="Role">
                  {canEdit(m)
                    ? (
                      <form method="post" action={`${path}/role`} class="inline-form">
                        <label class="visually-hidden" for={id}>Role of {m.email}</label>
                        <select id={id} name="role">
                          {roleOptions(actorRole).map((o) => (
                            <option key={o.value} value={o.value} selected={o.value === m.role}>
                              {o.label}
                            </option>
                          ))}
                        </select>
                        <button class="btn btn-small" type="submit">Change</button>
                      </form>
                    )
                    : <Badge tone={m.role === "owner" ? "accent" : "neutral"}>{m.role}</Badge>}
                </td>
                <td data-label="Added" class="nowrap">
                  <Time ms={m.created_at} />
                </td>
                {manage && (
                  <td class="actions-cell">
                    {canEdit(m) && (
                      <a class="btn btn-small btn-danger-ghost" href={`${path}/remove`}>
                        Remove<span class="visually-hidden">{m.email}</span>
                      </a>
                    )}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
