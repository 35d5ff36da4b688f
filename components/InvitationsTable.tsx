import type { Invitation } from "../lib/orgs/invitations.ts";
import { Time } from "./Time.tsx";

/** An organization's pending invitations, each with a button that withdraws it (admins). */
export function InvitationsTable(
  { invitations, action }: { invitations: Invitation[]; action: string },
) {
  if (invitations.length === 0) return null;
  return (
    <section class="card">
      <h2>Pending invitations</h2>
      <p class="muted">
        Each person joins when they accept after signing in with that email. Nothing here says
        whether an account with the email exists.
      </p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Invited</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {invitations.map((i) => (
              <tr key={i.email}>
                <td class="nowrap">{i.email}</td>
                <td>{i.role}</td>
                <td>
                  <Time ms={i.created_at} />
                </td>
                <td>
                  <Time ms={i.expires_at} />
                </td>
                <td>
                  <form method="post" action={action} class="inline-form">
                    <input type="hidden" name="email" value={i.email} />
                    <button class="btn btn-small" type="submit">Withdraw</button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
