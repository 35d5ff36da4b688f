import type { OrgRole } from "../lib/db/schema.ts";
import { FormAlert, type FormState, SelectField, TextField } from "./Field.tsx";
import { roleOptions } from "./RoleOptions.ts";

/** Invites someone to the organization by email (the answer never tells whether an account exists). */
export function AddMemberForm(
  { action, actorRole, isPlatformAdmin, values, errors }: FormState & {
    action: string;
    actorRole: OrgRole;
    isPlatformAdmin: boolean;
  },
) {
  return (
    <section class="card">
      <h2>Invite a member</h2>
      <FormAlert errors={errors} />
      <form method="post" action={action} class="form form-row">
        <TextField
          idPrefix="add"
          name="email"
          type="email"
          label="Email"
          required
          values={values}
          errors={errors}
          hint={isPlatformAdmin
            ? (
              <>
                They join when they accept the invitation after signing in; without an account,{" "}
                <a href="/admin/users">create one</a> for this email.
              </>
            )
            : "They join when they accept the invitation after signing in; a platform admin creates accounts."}
        />
        <SelectField
          idPrefix="add"
          name="role"
          label="Role"
          value="member"
          options={roleOptions(actorRole)}
          values={values}
          errors={errors}
        />
        <div class="form-submit">
          <button class="btn btn-primary" type="submit">Invite</button>
        </div>
      </form>
    </section>
  );
}
