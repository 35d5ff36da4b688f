import { FormAlert, type FormState, TextField } from "./Field.tsx";
import { LabelsField } from "./LabelsField.tsx";

/** Names a new host and its labels; the next page shows the install command. */
export function AddHostForm({ action, values, errors }: FormState & { action: string }) {
  return (
    <section class="card">
      <FormAlert errors={errors} />
      <form method="post" action={action} class="form narrow">
        <TextField
          name="name"
          label="Name"
          placeholder="web-1"
          required
          maxLength={64}
          autofocus
          hint="Letters, digits and _ . - ; how this host appears in Capstan."
          values={values}
          errors={errors}
        />
        <LabelsField values={values} errors={errors} />
        <div class="form-submit">
          <button class="btn btn-primary" type="submit">Add host</button>
        </div>
      </form>
    </section>
  );
}
