import type { ApiToken } from "../lib/auth/tokens.ts";
import { Badge } from "./Badge.tsx";
import { Time } from "./Time.tsx";

/** Whether a token still works, as of `now`. */
export function tokenStatus(t: ApiToken, now: number): "active" | "expired" | "revoked" {
  if (t.revoked_at !== null) return "revoked";
  if (t.expires_at !== null && t.expires_at <= now) return "expired";
  return "active";
}

/** The user's tokens; values are never shown, only their first characters. */
export function TokenTable(
  { tokens, orgSlugs, now }: { tokens: ApiToken[]; orgSlugs: Map<string, string>; now: number },
) {
  return (
    <div class="table-wrap">
      <table class="table-cards">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Organization</th>
            <th scope="col">Scope</th>
            <th scope="col">Token</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => {
            const status = tokenStatus(t, now);
            return (
              <tr key={t.id}>
                <td class="card-title">{t.name}</td>
                <td data-label="Organization">
                  {orgSlugs.get(t.org_id) ?? <span class="muted">(removed)</span>}
                </td>
                <td data-label="Scope">
                  <Badge tone={t.scope === "write" ? "warn" : "neutral"}>{t.scope}</Badge>
                </td>
                <td data-label="Token" class="nowrap">
                  <code>{t.prefix}…</code>
                </td>
                <td data-label="Created" class="nowrap">
                  <Time ms={t.created_at} />
                </td>
                <td data-label="Expires" class="nowrap">
                  {t.expires_at === null
                    ? <span class="muted">never</span>
                    : <Time ms={t.expires_at} />}
                </td>
                <td data-label="Last used" class="nowrap">
                  {t.last_used_at === null
                    ? <span class="muted">never</span>
                    : <Time ms={t.last_used_at} />}
                </td>
                <td data-label="Status">
                  <Badge tone={status === "active" ? "ok" : "neutral"}>{status}</Badge>
                </td>
                <td class="actions-cell">
                  {status === "active" && (
                    <a
                      class="btn btn-small btn-danger-ghost"
                      href={`/account/tokens/${encodeURIComponent(t.id)}/revoke`}
                    >
                      Revoke<span class="visually-hidden">{t.name}</span>
                    </a>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
