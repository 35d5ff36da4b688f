import type { ComponentChildren } from "preact";

/** A confirmation step that works without JS: the action is a POST, cancel a plain link. */
export function ConfirmAction(
  { title, action, confirm, cancelHref, children }: {
    title: string;
    action: string;
    confirm: string;
    cancelHref: string;
    children?: ComponentChildren;
  },
) {
  return (
    <section class="card confirm">
      <h1>{title}</h1>
      {children}
      <form method="post" action={action} class="actions">
        <button class="btn btn-danger" type="submit" autofocus>{confirm}</button>
        <a class="btn" href={cancelHref}>Cancel</a>
      </form>
    </section>
  );
}
