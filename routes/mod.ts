import type { Hono } from "hono";
import type { AppEnv } from "../lib/http/context.ts";
import type { PageKit } from "./_render.tsx";
import * as staticAssets from "./static.ts";
import * as theme from "./theme.ts";
import * as login from "./login.tsx";
import * as logout from "./logout.ts";
import * as setup from "./setup.tsx";
import * as home from "./index.tsx";
import * as orgHome from "./o/[org]/index.tsx";
import * as members from "./o/[org]/members.tsx";
import * as audit from "./o/[org]/audit.tsx";
import * as account from "./account/index.tsx";
import * as tokens from "./account/tokens.tsx";
import * as adminUsers from "./admin/users.tsx";
import * as adminOrgs from "./admin/orgs.tsx";
import * as apiDocs from "./docs/api.tsx";

export type { PageKit };
export { renderErrorPage } from "./_error.tsx";

/** Static registry of page modules (DESIGN §4: no folder scanning at run time). */
const pages: { register(app: Hono<AppEnv>, kit: PageKit): void }[] = [
  staticAssets,
  theme,
  login,
  logout,
  setup,
  home,
  orgHome,
  members,
  audit,
  account,
  tokens,
  adminUsers,
  adminOrgs,
  apiDocs,
];

/** Registers every page and asset route, each behind its declared policy. */
export function registerPages(app: Hono<AppEnv>, kit: PageKit): void {
  for (const p of pages) p.register(app, kit);
}
