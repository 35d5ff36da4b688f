import { roleAtLeast } from "../lib/auth/principal.ts";
import { NAV_GROUPS } from "../lib/module.ts";
import type { Shell } from "./Layout.tsx";

/** Which nav entry a page belongs to (a module's entry key, or "settings"). */
export type NavKey = string;

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
 * The groups a user may use, from the modules' entries (modules.ts) in NAV_GROUPS order:
 * organization entries by the least role each names, platform entries for platform admins, and
 * Settings for those who may open one of its panels. Outside an organization only the dashboard
 * is left. Account pages live in the user menu.
 */
export function navGroups(shell: Shell): Group[] {
  const { user, org } = shell;
  if (!user) return [];
  const base = org ? `/o/${encodeURIComponent(org.slug)}` : null;
  const items = new Map<string, (Item & { order: number })[]>();
  const add = (group: string, item: Item, order: number) =>
    items.set(group, [...(items.get(group) ?? []), { ...item, order }]);
  for (const e of shell.nav) {
    const order = e.order ?? 0;
    if (e.scope === "platform") {
      if (user.isAdmin) add(e.group, { key: e.key, href: e.path, label: e.label }, order);
    } else if (base && org && roleAtLeast(org.role, e.minRole ?? "viewer")) {
      add(e.group, { key: e.key, href: `${base}${e.path}`, label: e.label }, order);
    } else if (!base && e.path === "") {
      add(e.group, { key: e.key, href: "/", label: e.label }, order);
    }
  }
  if (base && shell.settingsPanel) {
    add("Organization", {
      key: "settings",
      href: `${base}/settings/${encodeURIComponent(shell.settingsPanel)}`,
      label: "Settings",
    }, 90);
  }
  return NAV_GROUPS.flatMap((title) => {
    const list = items.get(title);
    if (!list?.length) return [];
    // A stable sort: entries of equal order keep module order.
    const sorted = [...list].sort((a, b) => a.order - b.order);
    return [{ title, items: sorted.map(({ key, href, label }) => ({ key, href, label })) }];
  });
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
