import { FormAlert, type FormState, SelectField, TextField } from "./Field.tsx";

/** Creates a token for one of the user's organizations. */
export function TokenForm(
  { orgs, values, errors }: FormState & { orgs: { slug: string; name: string }[] },
) {
  return (
    <section class="card">
      <h2>Create a token</h2>
      <FormAlert errors={errors} />
      <form method="post" action="/account/tokens" class="form form-row">
        <TextField
          name="name"
          label="Name"
          placeholder="ci-deploy"
          required
          maxLength={100}
          values={values}
          errors={errors}
        />
        <SelectField
          name="org"
          label="Organization"
          options={orgs.map((o) => ({ value: o.slug, label: o.name }))}
          values={values}
          errors={errors}
        />
        <SelectField
          name="scope"
          label="Scope"
          value="read"
          options={[
            { value: "read", label: "read: GET requests only" },
            { value: "write", label: "write: may change things" },
          ]}
          values={values}
          errors={errors}
        />
        <TextField
          name="expires_days"
          type="number"
          label="Expires after (days)"
          min={1}
          max={3650}
          hint="Leave blank for a token that does not expire."
          values={values}
          errors={errors}
        />
        <div class="form-submit">
          <button class="btn btn-primary" type="submit">Create token</button>
        </div>
      </form>
    </section>
  );
}
