import type { ComponentChildren } from "preact";

/** A small label; `tone` picks its colour. */
export function Badge(
  { tone = "neutral", children }: {
    tone?: "neutral" | "ok" | "error" | "warn" | "accent";
    children: ComponentChildren;
  },
) {
  return <span class={`badge badge-${tone}`}>{children}</span>;
}

/** ok/error status of an audit row. */
export function StatusBadge({ status }: { status: "ok" | "error" }) {
  return <Badge tone={status === "ok" ? "ok" : "error"}>{status}</Badge>;
}
