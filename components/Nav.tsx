import { roleAtLeast } from "../lib/auth/principal.ts";
import type { Shell } from "./Layout.tsx";

/** Which nav entry a page belongs to. */
export type NavKey =
  | "home"
  | "hosts"
  | "containers"
  | "health"
  | "images"
  | "networks"
  | "volumes"
  | "members"
  | "audit"
  | "settings"
  | "account"
  | "tokens"
  | "users"
  | "orgs"
  | "docs"
  | "notifications"
  | "alert_rules"
  | "channels";

interface Item {
  key: NavKey;
  href: string;
  label: string;
}

/** The items a user may use: audit and settings for org admins, platform pages for platform admins. */
function items(shell: Shell): Item[] {
  const out: Item[] = [];
  const { user, org } = shell;
  if (user) {
    const base = org ? `/o/${encodeURIComponent(org.slug)}` : null;
    out.push({ key: "home", href: base ?? "/", label: "Dashboard" });
    if (base) {
      out.push({ key: "hosts", href: `${base}/hosts`, label: "Hosts" });
      out.push({ key: "containers", href: `${base}/containers`, label: "Containers" });
      out.push({ key: "health", href: `${base}/health`, label: "Health" });
      out.push({ key: "images", href: `${base}/images`, label: "Images" });
      out.push({ key: "networks", href: `${base}/networks`, label: "Networks" });
      out.push({ key: "volumes", href: `${base}/volumes`, label: "Volumes" });
      out.push({ key: "members", href: `${base}/members`, label: "Members" });
      out.push({ key: "notifications", href: `${base}/notifications`, label: "Notifications" });
      out.push({ key: "alert_rules", href: `${base}/alerts/rules`, label: "Alert rules" });
      if (roleAtLeast(org!.role, "admin")) {
        out.push({ key: "channels", href: `${base}/alerts/channels`, label: "Channels" });
        out.push({ key: "audit", href: `${base}/audit`, label: "Audit log" });
        out.push({ key: "settings", href: `${base}/settings/metrics`, label: "Settings" });
      }
    }
    out.push({ key: "account", href: "/account", label: "Account" });
    out.push({ key: "tokens", href: "/account/tokens", label: "API tokens" });
    if (user.isAdmin) {
      out.push({ key: "users", href: "/admin/users", label: "Users" });
      out.push({ key: "orgs", href: "/admin/orgs", label: "Organizations" });
    }
  }
  out.push({ key: "docs", href: "/docs/api", label: "API reference" });
  return out;
}

/** Main navigation; a column on wide screens, a scrolling strip on phones. */
export function Nav({ shell, active }: { shell: Shell; active?: NavKey }) {
  return (
    <nav class="nav" aria-label="Main">
      <ul>
        {items(shell).map((i) => (
          <li key={i.key}>
            <a href={i.href} aria-current={i.key === active ? "page" : undefined}>{i.label}</a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
