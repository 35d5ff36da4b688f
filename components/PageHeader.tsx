import type { ComponentChildren } from "preact";

/** Page title with an optional line of context and actions on the right. */
export function PageHeader(
  { title, sub, children }: {
    title: string;
    sub?: ComponentChildren;
    children?: ComponentChildren;
  },
) {
  return (
    <div class="page-header">
      <div>
        <h1>{title}</h1>
        {sub && <p class="muted">{sub}</p>}
      </div>
      {children && <div class="page-actions">{children}</div>}
    </div>
  );
}
