import type { Hono } from "hono";
import { z } from "zod";
import { actionContext, type AppContext, type AppEnv } from "../../lib/http/context.ts";
import { page } from "../../lib/http/pages.ts";
import { emailSchema, nameSchema, passwordSchema } from "../../lib/auth/schema.ts";
import { PageHeader } from "../../components/PageHeader.tsx";
import { UserTable } from "../../components/UserTable.tsx";
import { CreateUserForm } from "../../components/CreateUserForm.tsx";
import type { FormState } from "../../components/Field.tsx";
import { errorsOf, formError, parseForm, readForm } from "../_forms.ts";
import { render, seeOther } from "../_render.tsx";
import { plural } from "../../components/plural.ts";

const CreateUserInput = z.object({
  email: emailSchema,
  name: nameSchema,
  password: passwordSchema,
  is_admin: z.literal("on").optional(),
});
const LIMIT = 500;

async function usersPage(c: AppContext, form: FormState = {}, status = 200) {
  const users = await c.var.services.users.list(LIMIT);
  const { password: _, ...values } = form.values ?? {};
  return render(
    c,
    <>
      <PageHeader title="Users" sub={`${plural(users.length, "account")} on this hub`} />
      <UserTable users={users} />
      <CreateUserForm values={values} errors={form.errors} />
    </>,
    { title: "Users", active: "users", status },
  );
}

/** `GET/POST /admin/users`: every account, and account creation (platform admins). */
export function register(app: Hono<AppEnv>): void {
  page(app, "GET", "/admin/users", "platform_admin", (c) => usersPage(c));

  page(app, "POST", "/admin/users", "platform_admin", async (c) => {
    const values = await readForm(c);
    const parsed = parseForm(CreateUserInput, values);
    if (!parsed.ok) return usersPage(c, { values, errors: parsed.errors }, 400);
    try {
      await c.var.services.accounts.createUser(actionContext(c), {
        email: parsed.data.email,
        name: parsed.data.name,
        password: parsed.data.password,
        isAdmin: parsed.data.is_admin === "on",
      });
    } catch (err) {
      const e = formError(err);
      return usersPage(c, { values, errors: errorsOf(e, "email") }, e.status);
    }
    return seeOther(c, "/admin/users?ok=user_created");
  });
}
