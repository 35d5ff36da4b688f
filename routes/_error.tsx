import type { Context } from "hono";
import type { AppEnv } from "../lib/http/context.ts";
import type { HttpError } from "../lib/http/errors.ts";
import { ErrorPage, errorTitle } from "../components/ErrorPage.tsx";
import { loadShell, render, themeOf } from "./_render.tsx";
import { safePath } from "./_forms.ts";

/** Error page for non-API paths: status and message in the layout; 401 links to sign-in. */
export async function renderErrorPage(err: HttpError, c: Context<AppEnv>): Promise<Response> {
  if (err.status === 429) c.header("Retry-After", "60");
  const url = new URL(c.req.url);
  const back = c.req.method === "GET" ? safePath(url.pathname + url.search, "") : "";
  const signInHref = back ? `/login?next=${encodeURIComponent(back)}` : "/login";
  let shell;
  try {
    shell = await loadShell(c);
  } catch {
    // The error may be the database itself: still answer with a page, just without the org list.
    shell = {
      user: null,
      orgs: [],
      nav: [],
      org: null,
      theme: themeOf(c),
      path: url.pathname,
      flash: null,
    };
  }
  return await render(c, <ErrorPage err={err} signInHref={signInHref} />, {
    title: errorTitle(err.status),
    status: err.status,
    shell: { ...shell, flash: null },
  });
}
