import { CONTAINER_STATES } from "../lib/hosts/container_list.ts";
import { FilterForm } from "./FilterForm.tsx";
import { type FormState, SelectField, TextField } from "./Field.tsx";

/** The container filter form: a GET form, so a filtered list is a link that can be shared. */
export function ContainerFilters(
  { action, hosts, values, errors }: FormState & {
    action: string;
    hosts: { id: string; name: string }[];
  },
) {
  const common = { values, errors, idPrefix: "q" };
  return (
    <FilterForm action={action}>
      <SelectField
        name="host"
        label="Host"
        options={[
          { value: "", label: "All hosts" },
          ...hosts.map((h) => ({ value: h.id, label: h.name })),
        ]}
        {...common}
      />
      <SelectField
        name="state"
        label="State"
        options={[
          { value: "", label: "Any" },
          ...CONTAINER_STATES.map((s) => ({ value: s, label: s })),
        ]}
        {...common}
      />
      <TextField name="q" label="Name or image" type="search" placeholder="web" {...common} />
      <TextField
        name="label"
        label="Label"
        type="search"
        placeholder="key=value"
        {...common}
      />
    </FilterForm>
  );
}
