/**
 * Page rendering shared by every route: loads what the frame needs (user, organizations, theme,
 * flash message) and renders a full document with the stylesheet and, only when a page used an
 * island, its script.
 */
import { visiblePanels } from "../components/SettingsTabs.tsx";
import type { ComponentChildren } from "preact";
import { getCookie } from "hono/cookie";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppContext } from "../lib/http/context.ts";
import type { PageSetup } from "../lib/http/app.ts";
import type { IslandManifest } from "../lib/islands/manifest.ts";
import type { IslandName } from "../lib/islands/registry.ts";
import { renderDocument } from "../lib/islands/render.tsx";
import { Layout, type Shell, type ShellOrg, type Theme } from "../components/Layout.tsx";
import type { NavKey } from "../components/Nav.tsx";
import { assetUrl } from "./static.ts";
import { safePath } from "./_forms.ts";
import { topics } from "../lib/realtime/topics.ts";

/**
 * What page routes get from `createApp` besides the services on the context: the islands manifest
 * (null when islands were not built: pages then render without them), the folder it is served
 * from, the app's own OpenAPI document, and the modules' navigation entries and settings panels.
 */
export type PageKit = PageSetup;

/** Cookie holding the chosen theme; read on the server so the first paint has the right colours. */
export const THEME_COOKIE = "capstan_theme";

/** The theme of this request: the cookie's choice, else the system's (prefers-color-scheme). */
export function themeOf(c: AppContext): Theme {
  const chosen = getCookie(c, THEME_COOKIE);
  return chosen === "light" || chosen === "dark" ? chosen : "system";
}

/**
 * The stylesheets of a theme. The dark palette is app.css's own; the light one is a separate file
 * that a light choice loads outright and "system" loads only while the system prefers light, so
 * the palette is defined once and the first paint is right without any script.
 */
function ThemeHead({ theme }: { theme: Theme }) {
  return (
    <>
      <meta name="color-scheme" content={theme === "system" ? "light dark" : theme} />
      <link rel="stylesheet" href={assetUrl("app.css")} />
      {theme === "light" && <link rel="stylesheet" href={assetUrl("theme-light.css")} />}
      {theme === "system" && (
        <link
          rel="stylesheet"
          href={assetUrl("theme-light.css")}
          media="(prefers-color-scheme: light)"
        />
      )}
    </>
  );
}

/** Messages `?ok=` and `?error=` may show; anything else in the query is ignored, never echoed. */
const FLASH: Record<"ok" | "error", Record<string, string>> = {
  ok: {
    signed_out: "You are signed out.",
    password_changed: "Password changed. Your other sessions were signed out.",
    member_added: "Member added.",
    member_invited:
      "Invitation recorded. They join when they accept it after signing in with that email.",
    invitation_withdrawn: "Invitation withdrawn.",
    invitation_accepted: "You joined the organization.",
    invitation_declined: "Invitation declined.",
    role_changed: "Role changed.",
    member_removed: "Member removed.",
    token_revoked: "Token revoked. Requests with it are refused from now on.",
    user_created: "User account created.",
    org_created: "Organization created. You are its owner.",
    setup_done: "Welcome to Capstan. Your account and organization are ready.",
    host_renamed: "Host renamed.",
    host_labels_changed: "Labels saved.",
    host_removed: "Host removed. Its agent was disconnected and its token no longer works.",
    alert_acknowledged: "Alert acknowledged: no more reminders for it.",
    alert_silenced: "Alert silenced: its notifications are held until the silence ends.",
    rule_saved: "Alert rule saved.",
    rule_enabled: "Alert rule enabled.",
    rule_disabled: "Alert rule disabled; its open alerts ended.",
    rule_deleted: "Alert rule deleted.",
    channel_saved: "Channel saved.",
    channel_deleted: "Channel deleted.",
  },
  error: {
    session_expired: "Your session has ended; sign in again.",
  },
};

function flashOf(c: AppContext): Shell["flash"] {
  for (const kind of ["error", "ok"] as const) {
    const key = c.req.query(kind);
    if (key && Object.hasOwn(FLASH[kind], key)) return { kind, text: FLASH[kind][key] };
  }
  return null;
}

/**
 * The page a "come back here" form (the theme toggle) should return to. A page rendered in answer
 * to a POST (a form with errors, a new token) has a URL that only takes POSTs, so it goes back to
 * the page the form was on instead.
 */
function currentPage(c: AppContext): string {
  const url = new URL(c.req.url);
  if (c.req.method === "GET" || c.req.method === "HEAD") return url.pathname + url.search;
  const referer = c.req.header("referer");
  if (referer && URL.canParse(referer)) {
    const from = new URL(referer);
    if (from.origin === url.origin) return safePath(from.pathname + from.search);
  }
  return "/";
}

/** Loads the frame's data. Outside an organization page, nav links point at the first org. */
export async function loadShell(c: AppContext): Promise<Shell> {
  const principal = c.get("principal");
  const base = {
    theme: themeOf(c),
    path: currentPage(c),
    flash: flashOf(c),
  };
  const setup = c.get("pageSetup");
  const nav = setup?.nav ?? [];
  if (!principal) return { ...base, nav, user: null, orgs: [], org: null };
  const all = await c.var.services.orgs.listForUser(principal.userId, principal.isAdmin);
  const orgs: ShellOrg[] = all.map((o) => ({ slug: o.slug, name: o.name, role: o.role }));
  const scope = c.get("orgScope");
  const org = scope
    ? { slug: scope.org.slug, name: scope.org.name, role: scope.role }
    : orgs[0] ?? null;
  const orgId = scope?.org.id ?? all[0]?.id;
  return {
    ...base,
    user: { name: principal.name, email: principal.email, isAdmin: principal.isAdmin },
    orgs,
    org,
    nav,
    settingsPanel: org
      ? visiblePanels(setup?.settings ?? [], org.role, principal.isAdmin)[0]?.id ?? null
      : null,
    bell: org && orgId ? await bellOf(c, orgId, org.slug) : null,
  };
}

/** The bell of an organization: its open (firing, unacknowledged) alerts, live when built. */
async function bellOf(c: AppContext, orgId: string, slug: string): Promise<Shell["bell"]> {
  const count = await c.var.services.alerts.history.openCount(orgId);
  const o = encodeURIComponent(slug);
  return {
    count,
    href: `/o/${o}/notifications`,
    topic: topics.alerts(orgId),
    countUrl: `/api/v1/orgs/${o}/notifications/open-count`,
    live: hasIsland(pageManifest(c), "NotificationBell"),
  };
}

/** Options of `render()`. */
export interface RenderOptions {
  title: string;
  active?: NavKey;
  status?: number;
  /** Secrets on the page (a new token): forbid every cache, including the back/forward cache. */
  noStore?: boolean;
  manifest?: IslandManifest | null;
  /** Already loaded frame data (error pages load it defensively themselves). */
  shell?: Shell;
}

/** Renders `body` inside the layout as an HTML response. */
export async function render(
  c: AppContext,
  body: ComponentChildren,
  opts: RenderOptions,
): Promise<Response> {
  const shell = opts.shell ?? await loadShell(c);
  const html = renderDocument(
    <Layout shell={shell} active={opts.active}>{body}</Layout>,
    {
      title: `${opts.title} · Capstan`,
      manifest: opts.manifest ?? pageManifest(c),
      nonce: c.get("cspNonce"),
      htmlAttrs: { "data-theme": shell.theme },
      head: (
        <>
          <ThemeHead theme={shell.theme} />
          <link rel="icon" href={assetUrl("favicon.svg")} type="image/svg+xml" />
        </>
      ),
    },
  );
  // Pages show per-user data: never from a shared cache, and revalidated on every visit.
  c.header("Cache-Control", opts.noStore ? "no-store" : "private, no-cache");
  return c.html(html, (opts.status ?? 200) as ContentfulStatusCode);
}

/** The pages' islands manifest, as the page routes' middleware left it on the request. */
function pageManifest(c: AppContext): IslandManifest | null {
  return c.get("pageManifest") ?? null;
}

/** Whether the manifest can hydrate `name`; without it the page renders that island's spot empty. */
export function hasIsland(manifest: IslandManifest | null, name: IslandName): boolean {
  return Boolean(manifest?.islands[name]);
}

/** A 303 See Other: the browser follows with GET, so a refresh never re-submits the form. */
export function seeOther(c: AppContext, location: string): Response {
  return c.redirect(location, 303);
}
