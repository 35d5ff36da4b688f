import type { IncomingInvitation } from "../lib/orgs/invitations.ts";
import { Time } from "./Time.tsx";

/** Invitations addressed to the signed-in user, with Join and Decline. */
export function MyInvitations({ invitations }: { invitations: IncomingInvitation[] }) {
  if (invitations.length === 0) return null;
  return (
    <section class="card">
      <h2>Invitations</h2>
      <ul class="plain">
        {invitations.map((i) => {
          const base = `/account/invitations/${encodeURIComponent(i.org_slug)}`;
          return (
            <li key={i.org_id}>
              <p>
                <strong>{i.org_name}</strong> invites you as <strong>{i.role}</strong>{" "}
                <span class="muted">
                  (until <Time ms={i.expires_at} />)
                </span>
              </p>
              <form method="post" action={`${base}/accept`} class="inline-form">
                <button class="btn btn-primary btn-small" type="submit">Join {i.org_name}</button>
              </form>{" "}
              <form method="post" action={`${base}/decline`} class="inline-form">
                <button class="btn btn-small" type="submit">Decline</button>
              </form>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
