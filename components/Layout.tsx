import type { ComponentChildren } from "preact";
import type { NavEntry } from "../lib/module.ts";
import type { OrgRole } from "../lib/db/schema.ts";
import { Nav, navGroups, type NavKey } from "./Nav.tsx";
import { OrgSwitcher } from "./OrgSwitcher.tsx";
import { ThemeToggle } from "./ThemeToggle.tsx";
import { UserMenu } from "./UserMenu.tsx";
import { Alert } from "./Alert.tsx";
import { island } from "../lib/islands/island.tsx";
import NotificationBell, { type NotificationBellProps } from "../islands/NotificationBell.tsx";

const NotificationBellIsland = island("NotificationBell", NotificationBell);

/** The theme of a page: a user's choice, or "system" (prefers-color-scheme) until they make one. */
export type Theme = "dark" | "light" | "system";

/** An organization as the shell shows it. */
export interface ShellOrg {
  slug: string;
  name: string;
  role: OrgRole;
}

/** Everything the page frame needs about the request, loaded once per page by the route. */
export interface Shell {
  user: { name: string; email: string; isAdmin: boolean } | null;
  orgs: ShellOrg[];
  /** The organization the page is about, or the one nav links point to outside an org page. */
  org: ShellOrg | null;
  theme: Theme;
  /** Path and query of this page, so the theme form can come back here. */
  path: string;
  flash: { kind: "ok" | "error"; text: string } | null;
  /** The modules' navigation entries (modules.ts); the nav shows those the user may use. */
  nav: readonly NavEntry[];
  /** The first settings panel the user may open in `org`, if any (the nav's Settings link). */
  settingsPanel?: string | null;
  /** The notification bell of `org` with its unread count; `live` when its island can hydrate. */
  bell?: (NotificationBellProps & { live: boolean }) | null;
}

/** The page frame: navigation, organization switcher, user menu, theme toggle and flash message. */
export function Layout(
  { shell, active, children }: { shell: Shell; active?: NavKey; children: ComponentChildren },
) {
  const hasNav = navGroups(shell).length > 0;
  return (
    <>
      <a class="skip-link" href="#main">Skip to content</a>
      <div class="shell">
        <header class="sidebar">
          {hasNav && (
            // The phone menu's state: a checkbox its label toggles, so the menu opens without JS.
            <input
              type="checkbox"
              id="nav-toggle"
              class="nav-toggle"
              aria-controls="main-nav"
              aria-label="Show the menu"
            />
          )}
          <div class="topbar">
            <a class="brand" href="/">
              <svg class="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M12 2 3 7v10l9 5 9-5V7l-9-5Zm0 2.3 6.7 3.7L12 11.7 5.3 8 12 4.3ZM5 9.7l6 3.3v6.6l-6-3.3V9.7Zm8 9.9V13l6-3.3v6.6l-6 3.3Z" />
              </svg>
              <span>Capstan</span>
            </a>
            <div class="topbar-actions">
              {shell.bell && (() => {
                const { live, ...bell } = shell.bell;
                const current = active === "notifications";
                return live
                  ? <NotificationBellIsland {...bell} current={current} />
                  : <NotificationBell {...bell} current={current} />;
              })()}
              <ThemeToggle theme={shell.theme} back={shell.path} />
            </div>
          </div>
          {hasNav && (
            <label for="nav-toggle" class="btn btn-ghost menu-button" aria-hidden="true">
              <span class="menu-icon" />
              Menu
            </label>
          )}
          <div class="nav-panel">
            {shell.user && shell.orgs.length > 0 && (
              <OrgSwitcher orgs={shell.orgs} current={shell.org} />
            )}
            <Nav shell={shell} active={active} />
          </div>
          {shell.user
            ? <UserMenu user={shell.user} theme={shell.theme} back={shell.path} />
            : (
              <div class="guest-menu">
                <a class="guest-link" href="/docs/api">API reference</a>
                {!/^\/(login|setup)\b/.test(shell.path) && (
                  // Not on the sign-in and setup pages themselves, where it would lead nowhere new.
                  <a class="btn btn-primary btn-block" href="/login">Sign in</a>
                )}
              </div>
            )}
        </header>
        <main id="main" class="main" tabIndex={-1}>
          {shell.flash && <Alert kind={shell.flash.kind}>{shell.flash.text}</Alert>}
          {children}
        </main>
      </div>
    </>
  );
}
