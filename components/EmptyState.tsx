import type { ComponentChildren } from "preact";

/** What a page shows when there is nothing yet, and what to do about it. */
export function EmptyState(
  { title, children }: { title: string; children?: ComponentChildren },
) {
  return (
    <section class="empty">
      <h2>{title}</h2>
      {children}
    </section>
  );
}
