import type { Hono } from "hono";
import { setCookie } from "hono/cookie";
import type { AppEnv } from "../lib/http/context.ts";
import { page } from "../lib/http/pages.ts";
import { isHttps, readForm, safePath } from "./_forms.ts";
import { seeOther, THEME_COOKIE } from "./_render.tsx";

const YEAR_S = 365 * 24 * 3600;

/** `POST /theme`: stores the theme in a cookie and goes back to the page it was posted from. */
export function register(app: Hono<AppEnv>): void {
  page(app, "POST", "/theme", "public", async (c) => {
    const form = await readForm(c);
    const theme = form.theme === "light" ? "light" : "dark";
    setCookie(c, THEME_COOKIE, theme, {
      path: "/",
      maxAge: YEAR_S,
      sameSite: "Lax",
      httpOnly: true,
      secure: isHttps(c),
    });
    return seeOther(c, safePath(form.back));
  });
}
