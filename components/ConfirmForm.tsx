import type { ComponentChildren } from "preact";

/**
 * A confirmation step whose options (checkboxes, hidden fields) travel with the POST; works
 * without JS. Like ConfirmAction, with the form around the options.
 */
export function ConfirmForm(
  { title, action, confirm, cancelHref, hidden = {}, children, options, danger = true }: {
    title: string;
    action: string;
    confirm: string;
    cancelHref: string;
    hidden?: Record<string, string>;
    children?: ComponentChildren;
    /** Inputs inside the form, shown above the buttons. */
    options?: ComponentChildren;
    danger?: boolean;
  },
) {
  return (
    <section class="card confirm">
      <h1>{title}</h1>
      {children}
      <form method="post" action={action}>
        {Object.entries(hidden).map(([k, v]) => <input key={k} type="hidden" name={k} value={v} />)}
        {options && <div class="confirm-options">{options}</div>}
        <div class="actions">
          <button class={`btn ${danger ? "btn-danger" : "btn-primary"}`} type="submit" autofocus>
            {confirm}
          </button>
          <a class="btn" href={cancelHref}>Cancel</a>
        </div>
      </form>
    </section>
  );
}
