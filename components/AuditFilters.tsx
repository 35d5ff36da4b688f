import { FilterForm } from "./FilterForm.tsx";
import { type FormState, SelectField, TextField } from "./Field.tsx";

/** The audit filter form: a GET form, so filtered views are plain links that can be shared. */
export function AuditFilters({ action, values, errors }: FormState & { action: string }) {
  const common = { values, errors, idPrefix: "q" };
  return (
    <FilterForm action={action}>
      <TextField name="actor" label="Actor" type="search" placeholder="email or id" {...common} />
      <TextField
        name="action"
        label="Action"
        type="search"
        placeholder="member.role_changed"
        {...common}
      />
      <TextField
        name="target"
        label="Target"
        type="search"
        placeholder="name or id"
        {...common}
      />
      <SelectField
        name="status"
        label="Status"
        options={[
          { value: "", label: "Any" },
          { value: "ok", label: "ok" },
          { value: "error", label: "error" },
        ]}
        {...common}
      />
      <TextField name="from" label="From (UTC)" type="datetime-local" {...common} />
      <TextField name="to" label="To (UTC)" type="datetime-local" {...common} />
    </FilterForm>
  );
}
