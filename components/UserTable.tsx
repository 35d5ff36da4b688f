import type { User } from "../lib/auth/users.ts";
import { Badge } from "./Badge.tsx";
import { Time } from "./Time.tsx";

/** Every account on the hub (platform admins). */
export function UserTable({ users }: { users: User[] }) {
  return (
    <div class="table-wrap">
      <table class="table-cards">
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Name</th>
            <th scope="col">Platform role</th>
            <th scope="col">Created</th>
            <th scope="col">Password changed</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id}>
              <td class="nowrap card-title">{u.email}</td>
              <td data-label="Name">{u.name}</td>
              <td data-label="Platform role">
                {u.is_admin ? <Badge tone="accent">admin</Badge> : <Badge>user</Badge>}
              </td>
              <td data-label="Created" class="nowrap">
                <Time ms={u.created_at} />
              </td>
              <td data-label="Password changed" class="nowrap">
                <Time ms={u.password_changed_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
