import type { Hono } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../lib/http/context.ts";
import { page } from "../lib/http/pages.ts";
import { isHttps, readForm, safePath } from "./_forms.ts";
import { seeOther, THEME_COOKIE } from "./_render.tsx";

const YEAR_S = 365 * 24 * 3600;

/**
 * `POST /theme`: stores the chosen theme in a cookie ("system" forgets the choice, so the page
 * follows prefers-color-scheme again) and goes back to the page it was posted from.
 */
export function register(app: Hono<AppEnv>): void {
  page(app, "POST", "/theme", "public", async (c) => {
    const form = await readForm(c);
    if (form.theme !== "light" && form.theme !== "dark") {
      deleteCookie(c, THEME_COOKIE, { path: "/", secure: isHttps(c) });
      return seeOther(c, safePath(form.back));
    }
    setCookie(c, THEME_COOKIE, form.theme, {
      path: "/",
      maxAge: YEAR_S,
      sameSite: "Lax",
      httpOnly: true,
      secure: isHttps(c),
    });
    return seeOther(c, safePath(form.back));
  });
}
