import type { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { z } from "zod";
import { actionContext, type AppContext, type AppEnv } from "../lib/http/context.ts";
import { page } from "../lib/http/pages.ts";
import { SESSION_COOKIE, SESSION_TTL_MS } from "../lib/auth/sessions.ts";
import { emailSchema } from "../lib/auth/schema.ts";
import { LoginForm } from "../components/LoginForm.tsx";
import {
  type FieldErrors,
  type FormValues,
  httpErrorOf,
  isHttps,
  parseForm,
  readForm,
  safePath,
} from "./_forms.ts";
import { render, seeOther } from "./_render.tsx";

const SignInInput = z.object({
  email: emailSchema,
  password: z.string().min(1).max(256, "must be at most 256 characters"),
});

/** Starts a browser session: HttpOnly so scripts cannot read it, Lax so other sites cannot post with it. */
export function setSessionCookie(c: AppContext, sessionId: string): void {
  setCookie(c, SESSION_COOKIE, sessionId, {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: isHttps(c),
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

function form(
  c: AppContext,
  next: string,
  state: { values?: FormValues; errors?: FieldErrors } = {},
  status = 200,
) {
  const { password: _, ...values } = state.values ?? {};
  return render(c, <LoginForm values={values} errors={state.errors} next={next} />, {
    title: "Sign in",
    status,
  });
}

/** `GET/POST /login`: the sign-in form. Failures are audited and rate-limited by the service. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/login", "public", (c) => {
    const next = safePath(c.req.query("next"));
    if (c.get("principal")) return seeOther(c, next);
    return form(c, next);
  });

  page(app, "POST", "/login", "public", async (c) => {
    const values = await readForm(c);
    const next = safePath(values.next);
    const parsed = parseForm(SignInInput, values);
    if (!parsed.ok) return form(c, next, { values, errors: parsed.errors }, 400);
    try {
      const { sessionId } = await c.var.services.accounts.signIn(
        actionContext(c),
        parsed.data.email,
        parsed.data.password,
        c.req.header("user-agent"),
      );
      setSessionCookie(c, sessionId);
      return seeOther(c, next);
    } catch (err) {
      // Wrong password, too many tries, or the hub too busy hashing others: say so on the form.
      const e = httpErrorOf(err);
      if (!e || ![401, 429, 503].includes(e.status)) throw err;
      if (e.status !== 401) c.header("Retry-After", e.status === 503 ? "5" : "60");
      return form(c, next, { values, errors: { _form: e.message } }, e.status);
    }
  });
}
