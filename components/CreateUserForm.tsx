import { CheckboxField, FormAlert, type FormState, TextField } from "./Field.tsx";

/** Creates an account; the admin hands over the initial password. */
export function CreateUserForm({ values, errors }: FormState) {
  return (
    <section class="card">
      <h2>Create an account</h2>
      <FormAlert errors={errors} />
      <form method="post" action="/admin/users" class="form form-row">
        <TextField
          name="email"
          type="email"
          label="Email"
          required
          values={values}
          errors={errors}
        />
        <TextField name="name" label="Name" required values={values} errors={errors} />
        <TextField
          name="password"
          type="password"
          label="Initial password"
          autocomplete="new-password"
          hint="At least 10 characters; the user can change it under Account."
          required
          values={values}
          errors={errors}
        />
        <CheckboxField
          name="is_admin"
          label="Platform admin"
          hint="Can create accounts and organizations, and sees every organization."
          values={values}
          errors={errors}
        />
        <div class="form-submit">
          <button class="btn btn-primary" type="submit">Create account</button>
        </div>
      </form>
      <p class="muted small">
        To give the account access to an organization, add it on that organization's Members page.
      </p>
    </section>
  );
}
