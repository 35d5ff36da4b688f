/**
 * `GET /o/:org/settings/<id>` for every settings panel a module declares with a `render` (a panel
 * with forms is a page of its own at the same URL, registered by its module's routes).
 */
import type { Hono } from "hono";
import {
  type AppContext,
  type AppEnv,
  orgScopeOf,
  principalOf,
} from "../../../../lib/http/context.ts";
import { page } from "../../../../lib/http/pages.ts";
import { notFound } from "../../../../lib/http/errors.ts";
import type { SettingsPanel } from "../../../../lib/module.ts";
import { PageHeader } from "../../../../components/PageHeader.tsx";
import { SettingsTabs, visiblePanels } from "../../../../components/SettingsTabs.tsx";
import { type PageKit, render } from "../../../_render.tsx";

/** The tabs of the settings page this caller may open, with `current` marked. */
export function settingsTabs(c: AppContext, current: string) {
  const { org, role } = orgScopeOf(c);
  const panels = visiblePanels(c.var.pageSetup?.settings ?? [], role, principalOf(c).isAdmin);
  return <SettingsTabs panels={panels} slug={org.slug} current={current} />;
}

/** A platform-admin panel's guard: anyone else finds nothing here (as with the tab). */
export function requirePlatformAdmin(c: AppContext): void {
  if (!principalOf(c).isAdmin) throw notFound("page");
}

/** Registers one page per rendered panel. */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  for (const panel of kit.settings) {
    if (!panel.render) continue;
    const policy = panel.access === "platform"
      ? "org:viewer"
      : `org:${panel.access?.minRole ?? "admin"}` as const;
    page(app, "GET", `/o/:org/settings/${panel.id}`, policy, async (c) => {
      const { org, role } = orgScopeOf(c);
      const user = principalOf(c);
      if (panel.access === "platform" && !user.isAdmin) throw notFound("page");
      const body = await (panel as Required<Pick<SettingsPanel, "render">>).render({
        org: { id: org.id, slug: org.slug, name: org.name, role },
        user: { id: user.userId, isAdmin: user.isAdmin },
        services: c.var.services as unknown as Record<string, unknown>,
      });
      return render(
        c,
        <>
          <PageHeader title="Settings" sub={panel.title} />
          {settingsTabs(c, panel.id)}
          {body}
        </>,
        { title: `${panel.title} · Settings`, active: "settings" },
      );
    });
  }
}
