import type { Theme } from "./Layout.tsx";

/** Theme switch as a plain POST form: the server sets a cookie and renders the other theme. */
export function ThemeToggle({ theme, back }: { theme: Theme; back: string }) {
  const next = theme === "dark" ? "light" : "dark";
  return (
    <form method="post" action="/theme" class="theme-toggle">
      <input type="hidden" name="theme" value={next} />
      <input type="hidden" name="back" value={back} />
      <button
        class="btn btn-ghost btn-icon"
        type="submit"
        title={`Switch to the ${next} theme`}
        aria-label={`Switch to the ${next} theme`}
      >
        <span aria-hidden="true">{theme === "dark" ? "☀" : "☾"}</span>
        <span class="theme-toggle-text">{next === "light" ? "Light" : "Dark"}</span>
      </button>
    </form>
  );
}
