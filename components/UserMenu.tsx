import type { Theme } from "./Layout.tsx";
import { ThemeChoice } from "./ThemeToggle.tsx";

/**
 * The signed-in user's menu: account pages, the API reference, the theme and sign-out (a POST
 * form, so a link or prefetch cannot sign out). A `<details>` disclosure: it opens without JS.
 */
export function UserMenu(
  { user, theme, back }: {
    user: { name: string; email: string; isAdmin: boolean };
    theme: Theme;
    back: string;
  },
) {
  return (
    <details class="user-menu">
      <summary class="user-summary" aria-label={`Account menu of ${user.name}`}>
        <span class="avatar" aria-hidden="true">{(user.name.trim()[0] ?? "?").toUpperCase()}</span>
        <span class="user-id">
          <span class="user-name">{user.name}</span>
          <span class="user-email">{user.email}{user.isAdmin ? " · platform admin" : ""}</span>
        </span>
      </summary>
      <div class="user-panel">
        <ul class="plain user-links">
          <li>
            <a href="/account">Account</a>
          </li>
          <li>
            <a href="/account/tokens">API tokens</a>
          </li>
          <li>
            <a href="/docs/api">API reference</a>
          </li>
        </ul>
        <ThemeChoice theme={theme} back={back} />
        <form method="post" action="/logout">
          <button class="btn btn-block" type="submit">Sign out</button>
        </form>
      </div>
    </details>
  );
}
