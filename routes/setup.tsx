import type { Hono } from "hono";
import { z } from "zod";
import { actionContext, type AppContext, type AppEnv } from "../lib/http/context.ts";
import { page } from "../lib/http/pages.ts";
import { notFound } from "../lib/http/errors.ts";
import { emailSchema, nameSchema, passwordSchema, slugSchema } from "../lib/auth/schema.ts";
import { SetupForm } from "../components/SetupForm.tsx";
import { type FieldErrors, formError, type FormValues, parseForm, readForm } from "./_forms.ts";
import { render, seeOther } from "./_render.tsx";
import { setSessionCookie } from "./login.tsx";

const SetupInput = z.object({
  name: nameSchema,
  email: emailSchema,
  password: passwordSchema,
  confirm: z.string(),
  org_name: nameSchema,
  org_slug: slugSchema,
});

/** Checks the token first: without a valid one the page does not exist (404), whatever was posted. */
async function requireToken(c: AppContext, token: string | undefined): Promise<string> {
  if (!token || !(await c.var.services.accounts.setupTokenValid(token))) throw notFound("page");
  return token;
}

function form(
  c: AppContext,
  token: string,
  state: { values?: FormValues; errors?: FieldErrors } = {},
  status = 200,
) {
  const { password: _p, confirm: _c, ...values } = state.values ?? {};
  return render(c, <SetupForm token={token} values={values} errors={state.errors} />, {
    title: "Set up",
    status,
  });
}

/** `GET/POST /setup?token=`: creates the first admin and organization with the one-time token. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/setup", "public", async (c) => {
    return form(c, await requireToken(c, c.req.query("token")));
  });

  page(app, "POST", "/setup", "public", async (c) => {
    const values = await readForm(c);
    const token = await requireToken(c, values.token);
    const parsed = parseForm(SetupInput, values);
    const errors: FieldErrors = parsed.ok ? {} : parsed.errors;
    if (values.password && values.confirm !== values.password) {
      errors.confirm ??= "does not match the password";
    }
    // Everything is checked before the token is spent: the service consumes it up front.
    if (!parsed.ok || Object.keys(errors).length) return form(c, token, { values, errors }, 400);
    const input = parsed.data;
    try {
      await c.var.services.accounts.completeSetup(actionContext(c), token, {
        email: input.email,
        name: input.name,
        password: input.password,
        orgSlug: input.org_slug,
        orgName: input.org_name,
      });
    } catch (err) {
      const e = formError(err);
      if (e.status === 404) throw e;
      return form(c, token, { values, errors: { _form: e.message } }, e.status);
    }
    const { sessionId } = await c.var.services.accounts.signIn(
      actionContext(c),
      input.email,
      input.password,
      c.req.header("user-agent"),
    );
    setSessionCookie(c, sessionId);
    return seeOther(c, `/o/${encodeURIComponent(input.org_slug)}?ok=setup_done`);
  });
}
