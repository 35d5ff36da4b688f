import { FormAlert, type FormState, TextField } from "./Field.tsx";

/** Creates an organization; its creator becomes the owner. */
export function CreateOrgForm({ values, errors }: FormState) {
  return (
    <section class="card">
      <h2>Create an organization</h2>
      <FormAlert errors={errors} />
      <form method="post" action="/admin/orgs" class="form form-row">
        <TextField
          name="name"
          label="Name"
          placeholder="Acme Inc."
          required
          values={values}
          errors={errors}
        />
        <TextField
          name="slug"
          label="Slug"
          placeholder="acme"
          hint="Lowercase letters, digits and dashes; it appears in URLs."
          required
          values={values}
          errors={errors}
        />
        <div class="form-submit">
          <button class="btn btn-primary" type="submit">Create organization</button>
        </div>
      </form>
      <p class="muted small">You become its owner and can then add members.</p>
    </section>
  );
}
