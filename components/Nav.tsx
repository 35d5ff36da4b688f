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

/** A titled group of nav entries. */
interface Group {
  title: string;
  items: Item[];
}

/**
 * The groups a user may use: organization pages by what they are about (admin-only entries for
 * org admins), platform pages for platform admins. Account pages live in the user menu.
 */
export function navGroups(shell: Shell): Group[] {
  const { user, org } = shell;
  if (!user) return [];
  const base = org ? `/o/${encodeURIComponent(org.slug)}` : null;
  const groups: Group[] = [];
  const fleet: Item[] = [{ key: "home", href: base ?? "/", label: "Dashboard" }];
  if (base) {
    const admin = roleAtLeast(org!.role, "admin");
    fleet.push({ key: "hosts", href: `${base}/hosts`, label: "Hosts" });
    groups.push({ title: "Fleet", items: fleet });
    groups.push({
      title: "Docker",
      items: [
        { key: "containers", href: `${base}/containers`, label: "Containers" },
        { key: "images", href: `${base}/images`, label: "Images" },
        { key: "networks", href: `${base}/networks`, label: "Networks" },
        { key: "volumes", href: `${base}/volumes`, label: "Volumes" },
      ],
    });
    const monitoring: Item[] = [
      { key: "health", href: `${base}/health`, label: "Health" },
      { key: "notifications", href: `${base}/notifications`, label: "Notifications" },
      { key: "alert_rules", href: `${base}/alerts/rules`, label: "Alert rules" },
    ];
    if (admin) {
      monitoring.push({ key: "channels", href: `${base}/alerts/channels`, label: "Channels" });
    }
    groups.push({ title: "Monitoring", items: monitoring });
    const organization: Item[] = [{ key: "members", href: `${base}/members`, label: "Members" }];
    if (admin) {
      organization.push({ key: "audit", href: `${base}/audit`, label: "Audit log" });
      organization.push({ key: "settings", href: `${base}/settings/metrics`, label: "Settings" });
    }
    groups.push({ title: "Organization", items: organization });
  } else groups.push({ title: "Fleet", items: fleet });
  if (user.isAdmin) {
    groups.push({
      title: "Admin",
      items: [
        { key: "users", href: "/admin/users", label: "Users" },
        { key: "orgs", href: "/admin/orgs", label: "Organizations" },
      ],
    });
  }
  return groups;
}

/**
 * Main navigation in titled groups: a column on wide screens; on phones a panel that the "Menu"
 * button (a checkbox, so it opens without JS) shows above the page.
 */
export function Nav({ shell, active }: { shell: Shell; active?: NavKey }) {
  const groups = navGroups(shell);
  if (groups.length === 0) return null;
  return (
    <nav class="nav" id="main-nav" aria-label="Main">
      {groups.map((g) => (
        <section class="nav-group" key={g.title} aria-labelledby={`nav-${g.title}`}>
          <h2 class="nav-group-title" id={`nav-${g.title}`}>{g.title}</h2>
          <ul>
            {g.items.map((i) => (
              <li key={i.key}>
                <a href={i.href} aria-current={i.key === active ? "page" : undefined}>{i.label}</a>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </nav>
  );
}
