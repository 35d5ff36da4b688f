import type { Theme } from "./Layout.tsx";

/** The switch to one theme: a submit button of the theme form. */
function Switch({ to, class: cls }: { to: "light" | "dark"; class?: string }) {
  const label = `Switch to the ${to} theme`;
  return (
    <button
      class={`btn btn-ghost btn-icon${cls ? ` ${cls}` : ""}`}
      type="submit"
      name="theme"
      value={to}
      title={label}
      aria-label={label}
    >
      <span aria-hidden="true">{to === "light" ? "☀" : "☾"}</span>
      <span class="theme-toggle-text">{to === "light" ? "Light" : "Dark"}</span>
    </button>
  );
}

/**
 * Theme switch as a plain POST form: the server sets a cookie and renders the other theme. While
 * the theme follows the system the server cannot know which one shows, so both switches are sent
 * and the stylesheet shows the one that leads away from the system's scheme.
 */
export function ThemeToggle({ theme, back }: { theme: Theme; back: string }) {
  return (
    <form method="post" action="/theme" class="theme-toggle">
      <input type="hidden" name="back" value={back} />
      {theme === "system"
        ? (
          <>
            <Switch to="light" class="theme-if-dark" />
            <Switch to="dark" class="theme-if-light" />
          </>
        )
        : <Switch to={theme === "dark" ? "light" : "dark"} />}
    </form>
  );
}

/** The three theme choices as one form, for the user menu ("System" forgets a choice). */
export function ThemeChoice({ theme, back }: { theme: Theme; back: string }) {
  const choices: { value: Theme; label: string }[] = [
    { value: "system", label: "System" },
    { value: "light", label: "Light" },
    { value: "dark", label: "Dark" },
  ];
  return (
    <form method="post" action="/theme" class="theme-choice" aria-label="Theme">
      <input type="hidden" name="back" value={back} />
      <span class="theme-choice-label" aria-hidden="true">Theme</span>
      {choices.map((c) => (
        <button
          key={c.value}
          class="btn btn-small"
          type="submit"
          name="theme"
          value={c.value}
          aria-pressed={c.value === theme ? "true" : "false"}
          aria-label={`${c.label} theme`}
        >
          {c.label}
        </button>
      ))}
    </form>
  );
}
