import type { User } from "../lib/auth/users.ts";
import type { ShellOrg } from "./Layout.tsx";
import { Badge } from "./Badge.tsx";
import { Time } from "./Time.tsx";

/** Who you are here: account details and organization roles. */
export function Profile({ user, orgs }: { user: User; orgs: ShellOrg[] }) {
  return (
    <section class="card">
      <h2>Profile</h2>
      <dl class="props">
        <dt>Name</dt>
        <dd>{user.name}</dd>
        <dt>Email</dt>
        <dd>{user.email}</dd>
        <dt>Platform role</dt>
        <dd>{user.is_admin ? <Badge tone="accent">platform admin</Badge> : "user"}</dd>
        <dt>Account created</dt>
        <dd>
          <Time ms={user.created_at} />
        </dd>
        <dt>Password changed</dt>
        <dd>
          <Time ms={user.password_changed_at} />
        </dd>
        <dt>Organizations</dt>
        <dd>
          {orgs.length === 0 ? <span class="muted">none</span> : (
            <ul class="plain">
              {orgs.map((o) => (
                <li key={o.slug}>
                  <a href={`/o/${encodeURIComponent(o.slug)}`}>{o.name}</a> <Badge>{o.role}</Badge>
                </li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
    </section>
  );
}
