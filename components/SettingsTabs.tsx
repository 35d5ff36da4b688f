import type { OrgRole } from "../lib/db/schema.ts";
import { roleAtLeast } from "../lib/auth/principal.ts";
import type { SettingsPanel } from "../lib/module.ts";

/** The settings panels a member with `role` (a platform admin when `isAdmin`) may open, in order. */
export function visiblePanels(
  panels: readonly SettingsPanel[],
  role: OrgRole,
  isAdmin: boolean,
): SettingsPanel[] {
  return panels
    .filter((p) =>
      p.access === "platform" ? isAdmin : roleAtLeast(role, p.access?.minRole ?? "admin")
    )
    .sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
}

/** The tabs of the Settings page: one per panel the modules declare (modules.ts). */
export function SettingsTabs(
  { panels, slug, current }: { panels: readonly SettingsPanel[]; slug: string; current: string },
) {
  if (panels.length < 2) return null;
  const base = `/o/${encodeURIComponent(slug)}/settings`;
  return (
    <nav class="tabs" aria-label="Settings">
      {panels.map((p) => (
        <a
          key={p.id}
          href={`${base}/${encodeURIComponent(p.id)}`}
          aria-current={p.id === current ? "page" : undefined}
        >
          {p.title}
        </a>
      ))}
    </nav>
  );
}
