import type { Hono } from "hono";
import { deleteCookie } from "hono/cookie";
import { actionContext, type AppEnv, principalOf } from "../lib/http/context.ts";
import { page } from "../lib/http/pages.ts";
import { SESSION_COOKIE } from "../lib/auth/sessions.ts";
import { isHttps } from "./_forms.ts";
import { seeOther } from "./_render.tsx";

/** `POST /logout`: ends this session (audited) and clears the cookie. */
export function register(app: Hono<AppEnv>): void {
  page(app, "POST", "/logout", "user", async (c) => {
    const p = principalOf(c);
    if (p.kind === "session") {
      await c.var.services.accounts.signOut(actionContext(c), p.credentialId);
    }
    deleteCookie(c, SESSION_COOKIE, { path: "/", secure: isHttps(c) });
    return seeOther(c, "/login?ok=signed_out");
  });
}
