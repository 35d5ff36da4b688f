import type { ComponentChildren } from "preact";
import { Alert } from "./Alert.tsx";

/** Values and messages a form is re-rendered with after a failed submission. */
export interface FormState {
  values?: Record<string, string>;
  errors?: Record<string, string>;
}

interface BaseProps extends FormState {
  name: string;
  label: string;
  hint?: ComponentChildren;
  /** Prefix for the element id, when one page has several forms with the same field names. */
  idPrefix?: string;
  required?: boolean;
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function ids(p: BaseProps) {
  const id = `${p.idPrefix ?? "f"}-${p.name}`;
  const error = p.errors?.[p.name];
  const describedBy = [error && `${id}-error`, p.hint && `${id}-hint`].filter(Boolean).join(" ");
  return { id, error, describedBy: describedBy || undefined };
}

function Help({ id, hint, error }: { id: string; hint?: ComponentChildren; error?: string }) {
  return (
    <>
      {error && <p class="field-error" id={`${id}-error`}>{capital(error)}</p>}
      {hint && <p class="hint" id={`${id}-hint`}>{hint}</p>}
    </>
  );
}

/**
 * A labelled input. Passwords are not echoed back into the page, unless `keepSecret`: a form whose
 * own object the secret belongs to (a channel's webhook URL) shows it again after an error, on a
 * page that is never cached, so the admin need not paste it a second time.
 */
export function TextField(
  p: BaseProps & {
    type?: "text" | "email" | "password" | "number" | "datetime-local" | "search";
    autocomplete?: string;
    placeholder?: string;
    min?: number;
    max?: number;
    maxLength?: number;
    autofocus?: boolean;
    /** Id of a `<datalist>` of suggestions (the browser offers them; any value may be typed). */
    list?: string;
    keepSecret?: boolean;
  },
) {
  const { id, error, describedBy } = ids(p);
  const type = p.type ?? "text";
  return (
    <div class={error ? "field has-error" : "field"}>
      <label for={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        list={p.list}
        type={type}
        value={type === "password" && !p.keepSecret ? undefined : p.values?.[p.name] ?? ""}
        required={p.required}
        autocomplete={p.autocomplete}
        placeholder={p.placeholder}
        min={p.min}
        max={p.max}
        maxLength={p.maxLength}
        autofocus={p.autofocus}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy}
      />
      <Help id={id} hint={p.hint} error={error} />
    </div>
  );
}

/** A labelled select; the submitted value stays selected after a failed submission. */
export function SelectField(
  p: BaseProps & { options: { value: string; label: string }[]; value?: string },
) {
  const { id, error, describedBy } = ids(p);
  const selected = p.values?.[p.name] ?? p.value ?? "";
  return (
    <div class={error ? "field has-error" : "field"}>
      <label for={id}>{p.label}</label>
      <select
        id={id}
        name={p.name}
        required={p.required}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy}
      >
        {p.options.map((o) => (
          <option key={o.value} value={o.value} selected={o.value === selected}>{o.label}</option>
        ))}
      </select>
      <Help id={id} hint={p.hint} error={error} />
    </div>
  );
}

/** A checkbox with its label beside it. */
export function CheckboxField(p: BaseProps) {
  const { id, error, describedBy } = ids(p);
  return (
    <div class={error ? "field field-check has-error" : "field field-check"}>
      <input
        id={id}
        name={p.name}
        type="checkbox"
        value="on"
        checked={p.values?.[p.name] === "on"}
        aria-describedby={describedBy}
      />
      <label for={id}>{p.label}</label>
      <Help id={id} hint={p.hint} error={error} />
    </div>
  );
}

/** The message of a failed submission that belongs to no single field. */
export function FormAlert({ errors }: { errors?: Record<string, string> }) {
  const msg = errors?._form;
  return msg ? <Alert kind="error">{msg}</Alert> : null;
}
