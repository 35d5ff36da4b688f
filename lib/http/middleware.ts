import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { getConnInfo } from "hono/deno";
import type { AppEnv } from "./context.ts";
import { forbidden, HttpError, unauthorized } from "./errors.ts";
import { SESSION_COOKIE } from "../auth/sessions.ts";
import { TOKEN_PATTERN } from "../auth/tokens.ts";
import { HOST_TOKEN_PATTERN } from "../hosts/service.ts";
import type { Principal } from "../auth/principal.ts";
import type { Services } from "../../services.ts";
import { isApiPath } from "./paths.ts";
import { base64url } from "../util/ids.ts";
import { nulError, nulFieldIn, nulPathInJson } from "./nul.ts";

/** Puts the services and the client IP on the context. */
export function requestBasics(services: Services): MiddlewareHandler<AppEnv> {
  return async function setRequestBasics(c, next) {
    c.set("services", services);
    let ip: string | null = null;
    try {
      const addr = getConnInfo(c).remote.address;
      ip = addr ?? null;
    } catch {
      // app.request() in tests has no socket.
    }
    c.set("ip", ip);
    await next();
  };
}

const QUERY_TOKEN_NAMES = new Set(["access_token", "token", "api_key", "apikey", "bearer"]);

/**
 * Resolves the caller from `Authorization: Bearer` (API paths only) or the session cookie. A bad
 * bearer token is a 401 at once rather than a fallback to the cookie; a token in the query string
 * is refused, since URLs end up in logs and browser history.
 */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async function authenticateRequest(c, next) {
    const { services } = c.var;
    const url = new URL(c.req.url);
    if (isApiPath(url.pathname)) {
      for (const [k, v] of url.searchParams) {
        if (QUERY_TOKEN_NAMES.has(k.toLowerCase()) || TOKEN_PATTERN.test(v)) {
          throw new HttpError(
            400,
            "token_in_query",
            "Send API tokens in the Authorization header, never in the URL",
            {
              [k]: "must not carry a token",
            },
          );
        }
      }
    }
    let principal: Principal | undefined;
    const authz = c.req.header("authorization");
    if (authz !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(authz);
      if (!m || !isApiPath(url.pathname)) throw unauthorized();
      // Host tokens are for agent routes only; their guard checks them, user routes then see no caller.
      if (HOST_TOKEN_PATTERN.test(m[1])) {
        c.set("principal", undefined);
        return await next();
      }
      const token = await services.tokens.resolve(m[1]);
      if (!token) {
        throw new HttpError(
          401,
          "invalid_token",
          "The bearer token is invalid, expired or revoked",
        );
      }
      const user = await services.users.byId(token.user_id);
      if (!user) throw unauthorized();
      principal = {
        kind: "token",
        userId: user.id,
        email: user.email,
        name: user.name,
        // A token never carries platform-admin power: it is bound to one organization.
        isAdmin: false,
        credentialId: token.id,
        tokenOrgId: token.org_id,
        tokenScope: token.scope,
        tokenExpiresAt: token.expires_at,
      };
    } else {
      const cookie = getCookie(c, SESSION_COOKIE);
      const session = cookie ? await services.sessions.resolve(cookie) : undefined;
      const user = session && await services.users.byId(session.userId);
      if (session && user) {
        principal = {
          kind: "session",
          userId: user.id,
          email: user.email,
          name: user.name,
          isAdmin: user.is_admin === 1,
          credentialId: session.idHash,
        };
      }
    }
    c.set("principal", principal);
    await next();
  };
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"];
let originsMemo: { publicUrl: string; origins: Set<string> } | undefined;

/**
 * The origins this hub's pages are served from: CAPSTAN_PUBLIC_URL's, never the Host header's
 * (whoever sends a request chooses that). A loopback public URL also stands for the other loopback
 * names of the same port, which only a browser on this machine can use.
 */
export function hubOrigins(publicUrl: string): Set<string> {
  if (originsMemo?.publicUrl === publicUrl) return originsMemo.origins;
  const url = new URL(publicUrl);
  const origins = new Set([url.origin]);
  if (LOOPBACK_NAMES.includes(url.hostname)) {
    for (const name of LOOPBACK_NAMES) {
      const alias = new URL(url.origin);
      alias.hostname = name;
      origins.add(alias.origin);
    }
  }
  originsMemo = { publicUrl, origins };
  return origins;
}

/** The 403 for a request from another site's page, saying how to fix a hub reached by another name. */
export function foreignOrigin(publicUrl: string): HttpError {
  return forbidden(
    `Cross-site request refused: it did not come from this hub's pages at ${
      new URL(publicUrl).origin
    } (if that is not the address you use, set CAPSTAN_PUBLIC_URL to it)`,
  );
}

/**
 * CSRF defence for cookie-authenticated and form requests: the Origin (or, failing that, the
 * Sec-Fetch-Site or Referer) must be one of `hubOrigins(publicUrl())`. Bearer-token requests are
 * exempt because browsers never attach that header on their own.
 */
export function csrfProtection(publicUrl: () => string): MiddlewareHandler<AppEnv> {
  return async function checkOrigin(c, next) {
    if (!UNSAFE.has(c.req.method) || c.req.header("authorization")) return await next();
    const allowed = hubOrigins(publicUrl());
    const origin = c.req.header("origin");
    const site = c.req.header("sec-fetch-site");
    const referer = c.req.header("referer");
    let ok: boolean;
    if (origin && origin !== "null") ok = allowed.has(origin);
    else if (site) ok = site === "same-origin" || site === "none";
    else if (referer) ok = URL.canParse(referer) && allowed.has(new URL(referer).origin);
    else ok = false;
    if (!ok) throw foreignOrigin(publicUrl());
    await next();
  };
}

/** Refuses request bodies over `maxBytes` with 413, by Content-Length and while streaming. */
export function bodyLimit(maxBytes: number): MiddlewareHandler<AppEnv> {
  return async function limitBody(c, next) {
    if (!c.req.raw.body) return await next();
    const declared = Number(c.req.header("content-length") ?? NaN);
    const tooLarge = () =>
      new HttpError(413, "payload_too_large", `Request body is larger than ${maxBytes} bytes`);
    if (declared > maxBytes) throw tooLarge();
    if (Number.isNaN(declared)) {
      // Chunked: read up to the limit, then hand the handler a buffered request.
      const reader = c.req.raw.body.getReader();
      const parts: Uint8Array[] = [];
      let size = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          await reader.cancel();
          throw tooLarge();
        }
        parts.push(value);
      }
      const body = new Uint8Array(size);
      let o = 0;
      for (const p of parts) {
        body.set(p, o);
        o += p.byteLength;
      }
      c.req.raw = new Request(c.req.raw, { body });
    }
    await next();
  };
}

/**
 * Refuses a NUL character anywhere a handler could pass it to the database: the query, and JSON,
 * urlencoded or multipart bodies (read from a copy, so handlers still get the body). Path
 * parameters are checked by every route's `guard`, which knows their names; compressed bodies where
 * they are inflated (`readJsonBody`).
 */
export function refuseNul(): MiddlewareHandler<AppEnv> {
  return async function refuseNulCharacters(c, next) {
    const url = new URL(c.req.url);
    let field = nulFieldIn(url.searchParams, "query");
    const type = (c.req.header("content-type") ?? "").toLowerCase();
    if (field === undefined && c.req.raw.body && !c.req.header("content-encoding")) {
      if (type.includes("json")) {
        field = nulPathInJson(await c.req.raw.clone().text());
      } else if (type.startsWith("application/x-www-form-urlencoded")) {
        field = nulFieldIn(new URLSearchParams(await c.req.raw.clone().text()), "body");
      } else if (type.startsWith("multipart/form-data")) {
        const form = await c.req.raw.clone().formData().catch(() => null);
        field = form ? nulFieldIn(form, "body") : undefined;
      }
    }
    if (field !== undefined) throw nulError(field);
    await next();
  };
}

/**
 * Security headers on every response; pages may not be framed and run only scripts from this hub
 * or the inline one carrying this response's nonce (`cspNonce`), so injected markup runs nothing.
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async function setSecurityHeaders(c, next) {
    const nonce = base64url(crypto.getRandomValues(new Uint8Array(18)));
    c.set("cspNonce", nonce);
    await next();
    // Set on the response's own headers: c.header() after the handler copies the whole response
    // once per call. A response whose headers are immutable (one passed through from fetch) is
    // copied once.
    let headers = c.res.headers;
    try {
      headers.set("X-Content-Type-Options", "nosniff");
    } catch {
      c.res = new Response(c.res.body, c.res);
      headers = c.res.headers;
      headers.set("X-Content-Type-Options", "nosniff");
    }
    headers.set("X-Frame-Options", "DENY");
    headers.set("Referrer-Policy", "same-origin");
    if (!headers.has("content-security-policy")) {
      headers.set(
        "Content-Security-Policy",
        `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'`,
      );
    }
  };
}
