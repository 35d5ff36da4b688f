import type { ComponentChildren } from "preact";

/**
 * The frame of a list page's filters: a GET form, so a filtered view is a plain link that can be
 * shared and works without JS; the fields go in a responsive grid, then Filter and Reset.
 */
export function FilterForm({ action, children }: { action: string; children: ComponentChildren }) {
  return (
    <form method="get" action={action} class="card filters" role="search" aria-label="Filter">
      <div class="filters-grid">{children}</div>
      <div class="actions">
        <button class="btn btn-primary" type="submit">Filter</button>
        <a class="btn btn-ghost" href={action}>Reset</a>
      </div>
    </form>
  );
}
