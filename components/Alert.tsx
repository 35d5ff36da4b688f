import type { ComponentChildren } from "preact";

/** A message box; errors are announced to screen readers at once, notices politely. */
export function Alert(
  { kind, children }: { kind: "ok" | "error" | "info" | "warn"; children: ComponentChildren },
) {
  return (
    <div class={`alert alert-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}
