import type { FormState } from "./Field.tsx";
import { TextAreaField } from "./TextAreaField.tsx";

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** How the apps that use a secret pick up a new value (the API's `rotation`). */
export type RotationMode = "rolling" | "next_deploy" | "restart";

/** The rotation modes in the order the form offers them, with their words. */
export const ROTATIONS: { mode: RotationMode; label: string; explain: string }[] = [
  {
    mode: "rolling",
    label: "Rolling restart now",
    explain:
      "New tasks start before the old ones stop, and each must be healthy before the next: no downtime.",
  },
  {
    mode: "next_deploy",
    label: "At the next deploy",
    explain: "Running tasks keep the old value until the app is deployed again.",
  },
  {
    mode: "restart",
    label: "Restart now",
    explain:
      "Old tasks stop before new ones start, for single-replica apps that cannot run twice at once: a short outage.",
  },
];

/** Why files are the better way to hand a secret to a container (the app form and the pages say it). */
export const FILE_ADVICE_WHY =
  "environment variables are visible to anyone who can docker inspect the container on its node; files are kept in memory by Swarm and readable only inside the container.";

/** The advice in one sentence. */
export const FILE_ADVICE = `Prefer files: ${FILE_ADVICE_WHY}`;

/**
 * A secret's value, write-only: a textarea to paste it or a file to upload (the form must be
 * multipart). Nothing typed is ever rendered back: after a refused submission both are empty and
 * the hint says so.
 */
export function SecretValueField(
  { errors, idPrefix = "secret", retry, label = "Value" }: {
    errors?: FormState["errors"];
    idPrefix?: string;
    /** A refused submission: say that the value was not kept. */
    retry?: boolean;
    label?: string;
  },
) {
  const fileId = `${idPrefix}-value_file`;
  const fileError = errors?.value_file;
  return (
    <fieldset class="secret-input">
      <legend>{label}</legend>
      {retry && (
        <p class="secret-retry" role="status">
          For safety the value you entered was not kept: paste it or choose the file again.
        </p>
      )}
      <TextAreaField
        name="value"
        label="Paste it"
        rows={4}
        values={{}}
        errors={errors}
        idPrefix={idPrefix}
        hint="Line breaks are kept as LF. For exact bytes (keys, certificates, binary files), upload a file instead."
      />
      <div class={fileError ? "field has-error" : "field"}>
        <label for={fileId}>Or upload a file</label>
        <input
          id={fileId}
          name="value_file"
          type="file"
          aria-invalid={fileError ? "true" : undefined}
          aria-describedby={`${fileId}-hint${fileError ? ` ${fileId}-error` : ""}`}
        />
        {fileError && <p class="field-error" id={`${fileId}-error`}>{capital(fileError)}</p>}
        <p class="hint" id={`${fileId}-hint`}>
          At most 64 KB, stored byte for byte.
        </p>
      </div>
      <p class="hint">
        Write-only: it is encrypted as soon as it arrives and never shown again, not even to you.
      </p>
    </fieldset>
  );
}

/** The rotation modes as radio buttons, each with what it does to the apps; `rolling` by default. */
export function RotationField(
  { value = "rolling", idPrefix = "rotate", error }: {
    value?: string;
    idPrefix?: string;
    error?: string;
  },
) {
  const chosen = ROTATIONS.some((r) => r.mode === value) ? value : "rolling";
  return (
    <fieldset
      class="rotation-choice"
      aria-describedby={error ? `${idPrefix}-rotation-error` : undefined}
    >
      <legend>Apps that use it pick up the new value</legend>
      {ROTATIONS.map((r) => (
        <div class="field field-check" key={r.mode}>
          <input
            id={`${idPrefix}-rotation-${r.mode}`}
            type="radio"
            name="rotation"
            value={r.mode}
            checked={r.mode === chosen}
          />
          <label for={`${idPrefix}-rotation-${r.mode}`}>
            <strong>{r.label}</strong>
            {r.mode === "rolling" && <span class="muted">(default)</span>}
            <span class="hint">{r.explain}</span>
          </label>
        </div>
      ))}
      {error && <p class="field-error" id={`${idPrefix}-rotation-error`}>{capital(error)}</p>}
    </fieldset>
  );
}
