import { FilterForm } from "./FilterForm.tsx";
import { type FormState, SelectField, TextField } from "./Field.tsx";

/** The notifications filter form: a GET form, so a filtered view is a link that works without JS. */
export function AlertFilters(
  { action, values, errors, hosts }: FormState & {
    action: string;
    hosts: { id: string; name: string }[];
  },
) {
  const common = { values, errors, idPrefix: "q" };
  return (
    <FilterForm action={action}>
      <SelectField
        name="state"
        label="State"
        options={[
          { value: "", label: "Any" },
          { value: "firing", label: "Firing" },
          { value: "resolved", label: "Resolved" },
        ]}
        {...common}
      />
      <SelectField
        name="severity"
        label="Severity"
        options={[
          { value: "", label: "Any" },
          { value: "warning", label: "Warning" },
          { value: "critical", label: "Critical" },
        ]}
        {...common}
      />
      <SelectField
        name="host"
        label="Host"
        options={[
          { value: "", label: "Any" },
          ...hosts.map((h) => ({ value: h.id, label: h.name })),
        ]}
        {...common}
      />
      <TextField name="from" label="Started from (UTC)" type="datetime-local" {...common} />
      <TextField name="to" label="Started until (UTC)" type="datetime-local" {...common} />
    </FilterForm>
  );
}
