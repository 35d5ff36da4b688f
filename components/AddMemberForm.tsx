import type { OrgRole } from "../lib/db/schema.ts";
import { FormAlert, type FormState, SelectField, TextField } from "./Field.tsx";
import { roleOptions } from "./RoleOptions.ts";

/** Adds an existing account to the organization. */
export function AddMemberForm(
  { action, actorRole, isPlatformAdmin, values, errors }: FormState & {
    action: string;
    actorRole: OrgRole;
    isPlatformAdmin: boolean;
  },
) {
  return (
    <section class="card">
      <h2>Add a member</h2>
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
                Only existing accounts can be added; <a href="/admin/users">create an account</a>
                {" "}
                first if needed.
              </>
            )
            : "Only existing accounts can be added; a platform admin creates accounts."}
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
          <button class="btn btn-primary" type="submit">Add member</button>
        </div>
      </form>
    </section>
  );
}
