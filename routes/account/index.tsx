import type { Hono } from "hono";
import { z } from "zod";
import {
  actionContext,
  type AppContext,
  type AppEnv,
  principalOf,
} from "../../lib/http/context.ts";
import { page } from "../../lib/http/pages.ts";
import { forbidden } from "../../lib/http/errors.ts";
import { passwordSchema } from "../../lib/auth/schema.ts";
import { PageHeader } from "../../components/PageHeader.tsx";
import { Profile } from "../../components/Profile.tsx";
import { PasswordForm } from "../../components/PasswordForm.tsx";
import { MyInvitations } from "../../components/MyInvitations.tsx";
import { answerInvitation } from "../../lib/orgs/use_cases.ts";
import { errorsOf, type FieldErrors, formError, parseForm, readForm } from "../_forms.ts";
import { loadShell, render, seeOther } from "../_render.tsx";

const PasswordInput = z.object({
  current: z.string().max(256),
  next: passwordSchema,
  confirm: z.string(),
});

async function accountPage(c: AppContext, errors?: FieldErrors, status = 200) {
  const p = principalOf(c);
  const user = (await c.var.services.users.byId(p.userId))!;
  const shell = await loadShell(c);
  const invitations = await c.var.services.invitations.listForEmail(user.email);
  return render(
    c,
    <>
      <PageHeader title="Account" sub={user.email} />
      <MyInvitations invitations={invitations} />
      <div class="grid-2">
        <Profile user={user} orgs={shell.orgs} />
        <PasswordForm errors={errors} email={user.email} />
      </div>
    </>,
    { title: "Account", active: "account", status, shell },
  );
}

/** `GET /account`, `POST /account/password` and invitations: profile, password, joining organizations. */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/account", "user", (c) => accountPage(c));

  for (const answer of ["accept", "decline"] as const) {
    page(app, "POST", `/account/invitations/:org/${answer}`, "user", async (c) => {
      const slug = c.req.param("org") ?? "";
      try {
        await answerInvitation(c.var.services, principalOf(c), actionContext(c), slug, answer);
      } catch (err) {
        const e = formError(err);
        return accountPage(c, { _form: e.message }, e.status);
      }
      return seeOther(
        c,
        answer === "accept"
          ? `/o/${encodeURIComponent(slug)}?ok=invitation_accepted`
          : "/account?ok=invitation_declined",
      );
    });
  }

  page(app, "POST", "/account/password", "user", async (c) => {
    const p = principalOf(c);
    if (p.kind !== "session") {
      throw forbidden("Passwords can only be changed from a signed-in session");
    }
    const values = await readForm(c);
    const parsed = parseForm(PasswordInput, values);
    const errors: FieldErrors = parsed.ok ? {} : parsed.errors;
    if (values.next && values.confirm !== values.next) {
      errors.confirm ??= "does not match the new password";
    }
    if (!parsed.ok || Object.keys(errors).length) return accountPage(c, errors, 400);
    try {
      await c.var.services.accounts.changePassword(
        actionContext(c),
        p.userId,
        { current: parsed.data.current, next: parsed.data.next },
        // This browser's session survives; every other one ends.
        p.credentialId,
      );
    } catch (err) {
      const e = formError(err);
      return accountPage(c, errorsOf(e), e.status);
    }
    return seeOther(c, "/account?ok=password_changed");
  });
}
