import type { FormState } from "./Field.tsx";

const EXAMPLE = "env=prod\nrole=web";
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Labels as `key=value` lines in a textarea (works without JS, keeps the input on errors). */
export function LabelsField(
  { values, errors, idPrefix = "f" }: FormState & { idPrefix?: string },
) {
  const id = `${idPrefix}-labels`;
  const error = errors?.labels;
  return (
    <div class={error ? "field has-error" : "field"}>
      <label for={id}>Labels</label>
      <textarea
        id={id}
        name="labels"
        rows={3}
        placeholder={EXAMPLE}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={`${id}-hint${error ? ` ${id}-error` : ""}`}
      >
        {values?.labels ?? ""}
      </textarea>
      {error && <p class="field-error" id={`${id}-error`}>{capital(error)}</p>}
      <p class="hint" id={`${id}-hint`}>One key=value per line; optional.</p>
    </div>
  );
}
