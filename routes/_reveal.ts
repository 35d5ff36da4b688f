/**
 * Show-once values (a new API token, a host's enrollment command) across a POST → redirect → GET.
 * Rendering the value in answer to the POST would let a reload re-submit the form and mint a second
 * one; putting it in the redirect URL would leak it into history and logs. So the POST leaves it in
 * a short-lived cookie, encrypted with the hub's secret key and bound to the session and the page
 * (another session or page cannot open it), and the GET takes it and clears the cookie: a reload
 * finds nothing and creates nothing.
 */
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppContext } from "../lib/http/context.ts";
import { principalOf } from "../lib/http/context.ts";
import { isHttps } from "./_forms.ts";

const COOKIE = "capstan_reveal";
/** Long enough for the redirect on a slow link, short enough not to linger in the cookie jar. */
const TTL_S = 120;

/** The hub's key ring (the one box of the process, as for secrets at rest). */
const boxOf = (c: AppContext) => c.var.services.secretBox();

const contextOf = (c: AppContext, path: string) => `reveal:${principalOf(c).credentialId}:${path}`;

/** Leaves `data` for the next GET of `path` in this session, encrypted in a short-lived cookie. */
export async function stashReveal(
  c: AppContext,
  path: string,
  data: Record<string, string | number>,
): Promise<void> {
  const box = await boxOf(c);
  const exp = c.var.services.clock.now() + TTL_S * 1000;
  const blob = await box.encrypt(JSON.stringify({ exp, data }), contextOf(c, path));
  setCookie(c, COOKIE, blob, {
    path,
    maxAge: TTL_S,
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
  });
}

/**
 * Takes what `stashReveal` left for this session at `path` and clears the cookie; null when there
 * is none, it expired, or it belongs to another session or page.
 */
export async function takeReveal(
  c: AppContext,
  path: string,
): Promise<Record<string, string | number> | null> {
  const blob = getCookie(c, COOKIE);
  if (!blob) return null;
  deleteCookie(c, COOKIE, { path, secure: isHttps(c) });
  try {
    const box = await boxOf(c);
    const { exp, data } = JSON.parse(await box.decrypt(blob, contextOf(c, path)));
    if (typeof exp !== "number" || exp < c.var.services.clock.now()) return null;
    return data && typeof data === "object" ? data : null;
  } catch {
    // Not ours, tampered with, or from before a key change: as good as none.
    return null;
  }
}
