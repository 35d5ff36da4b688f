import type { ComponentChildren } from "preact";
import type { FormState } from "./Field.tsx";

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** A labelled textarea for one-item-per-line input; the submitted text is kept after an error. */
export function TextAreaField(
  p: FormState & {
    name: string;
    label: string;
    hint?: ComponentChildren;
    placeholder?: string;
    rows?: number;
    idPrefix?: string;
  },
) {
  const id = `${p.idPrefix ?? "f"}-${p.name}`;
  const error = p.errors?.[p.name];
  const describedBy = [error && `${id}-error`, p.hint && `${id}-hint`].filter(Boolean).join(" ");
  return (
    <div class={error ? "field has-error" : "field"}>
      <label for={id}>{p.label}</label>
      <textarea
        id={id}
        name={p.name}
        rows={p.rows ?? 3}
        placeholder={p.placeholder}
        spellcheck={false}
        autocomplete="off"
        class="mono"
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy || undefined}
      >
        {p.values?.[p.name] ?? ""}
      </textarea>
      {error && <p class="field-error" id={`${id}-error`}>{capital(error)}</p>}
      {p.hint && <p class="hint" id={`${id}-hint`}>{p.hint}</p>}
    </div>
  );
}
