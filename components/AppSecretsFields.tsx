import { CheckboxField, type FormState, SelectField, TextField } from "./Field.tsx";
import { FILE_ADVICE_WHY } from "./SecretFields.tsx";

/** A secret of the organization the form offers. */
export interface SecretChoice {
  name: string;
  kind: "text" | "binary";
}

/** How many rows the form has room for (the spec's limit). */
const MAX_ROWS = 64;

/** Row `i`'s field names, as routes/o/[org]/apps/_form.ts reads them. */
const field = (i: number, part?: string) => part ? `secret_${i}_${part}` : `secret_${i}`;

/**
 * The rows to draw: every row up to the last with a secret chosen, then one blank row to attach
 * another (a saved form grows by one row each time, without JavaScript).
 */
function rowCount(values: Record<string, string> | undefined): number {
  let last = -1;
  for (const [k, v] of Object.entries(values ?? {})) {
    const m = /^secret_(\d{1,2})$/.exec(k);
    if (m && v.trim() && Number(m[1]) < MAX_ROWS) last = Math.max(last, Number(m[1]));
  }
  return Math.min(last + 2, MAX_ROWS);
}

/**
 * The secrets a service gets, a row each: which secret of the organization, and as a file (on by
 * default: the recommended way, and why) and/or an environment variable. Blank fields take the
 * defaults: the secret's name as the variable, `/run/secrets/<name>` as the path, mode 0400.
 */
export function AppSecretsFields(
  { secrets, values, errors, secretsHref, idPrefix = "app" }: FormState & {
    secrets: SecretChoice[];
    /** The organization's Secrets page. */
    secretsHref: string;
    idPrefix?: string;
  },
) {
  const count = rowCount(values);
  const names = new Set(secrets.map((s) => s.name));
  return (
    <fieldset class="app-secrets">
      <legend>Secrets</legend>
      <p class="hint app-secrets-advice" id={`${idPrefix}-secrets-advice`}>
        <strong>Prefer files:</strong> {FILE_ADVICE_WHY}{" "}
        Values are never shown here; they are managed on <a href={secretsHref}>Secrets</a>.
      </p>
      {secrets.length === 0 && count <= 1
        ? (
          <p class="muted">
            This organization has no secrets yet. Admins and owners create them on{" "}
            <a href={secretsHref}>Secrets</a>; then they can be attached here.
          </p>
        )
        : Array.from({ length: count }, (_, i) => {
          const blank = i === count - 1;
          // The trailing row is for attaching another secret: a file with mode 0400 by default.
          const rowValues = blank
            ? { ...values, [field(i, "file_on")]: "on", [field(i, "file_mode")]: "0400" }
            : values;
          const chosen = values?.[field(i)] ?? "";
          const options = [
            { value: "", label: blank ? "— choose a secret —" : "— none (detach) —" },
            ...secrets.map((s) => ({
              value: s.name,
              label: s.kind === "binary" ? `${s.name} (binary: file only)` : s.name,
            })),
            // A secret the spec names but the organization no longer lists stays visible.
            ...(chosen && !names.has(chosen)
              ? [{ value: chosen, label: `${chosen} (not found)` }]
              : []),
          ];
          const common = { values: rowValues, errors, idPrefix };
          return (
            <fieldset class="secret-ref" key={i} data-secret-row={i}>
              <legend class="secret-ref-title">
                {blank
                  ? (count === 1 ? "Attach a secret" : "Attach another secret")
                  : `Secret ${i + 1}`}
              </legend>
              <SelectField name={field(i)} label="Secret" options={options} {...common} />
              <div class="secret-ref-ways">
                <div class="secret-ref-way">
                  <CheckboxField
                    name={field(i, "file_on")}
                    label="As a file (recommended)"
                    {...common}
                  />
                  <div class="secret-ref-file">
                    <TextField
                      name={field(i, "file_target")}
                      label="Path in the container"
                      placeholder="/run/secrets/<name>"
                      hint="Blank: /run/secrets/ and the secret's name."
                      {...common}
                    />
                    <TextField
                      name={field(i, "file_mode")}
                      label="Mode"
                      placeholder="0400"
                      maxLength={5}
                      {...common}
                    />
                  </div>
                </div>
                <div class="secret-ref-way">
                  <CheckboxField
                    name={field(i, "env_on")}
                    label="As an environment variable"
                    {...common}
                  />
                  <TextField
                    name={field(i, "env")}
                    label="Variable name"
                    placeholder="the secret's name"
                    hint="Blank: the secret's name."
                    {...common}
                  />
                </div>
              </div>
            </fieldset>
          );
        })}
    </fieldset>
  );
}
