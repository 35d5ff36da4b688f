import type { CheckKind } from "../lib/health/schema.ts";
import { CheckboxField, FormAlert, type FormState, SelectField, TextField } from "./Field.tsx";
import { TextAreaField } from "./TextAreaField.tsx";
import { KIND_LABELS } from "./HealthBadge.tsx";

const ARGV_EXAMPLE = "pg_isready\n-q";

/** The probe fields of one kind. */
function ProbeFields(
  { kind, common }: { kind: CheckKind; common: FormState & { idPrefix: string } },
) {
  if (kind === "http") {
    return (
      <fieldset>
        <legend>HTTP request to the container</legend>
        <div class="grid-2">
          <TextField
            name="http_port"
            label="Port"
            type="number"
            min={1}
            max={65535}
            required
            hint="A port the container listens on (its own, not a published one)"
            {...common}
          />
          <TextField name="http_path" label="Path" placeholder="/healthz" required {...common} />
          <SelectField
            name="http_method"
            label="Method"
            options={[{ value: "GET", label: "GET" }, { value: "HEAD", label: "HEAD" }]}
            {...common}
          />
          <TextField
            name="http_expect_status"
            label="Healthy status codes"
            placeholder="200-399"
            hint="Codes or ranges, comma-separated: 200-299, 301"
            {...common}
          />
        </div>
        <details class="more-options">
          <summary>More HTTP options</summary>
          <div class="grid-2">
            <TextField
              name="http_body_contains"
              label="Body must contain (optional)"
              maxLength={1024}
              {...common}
            />
            <TextField
              name="http_host"
              label="Connect to (optional)"
              placeholder="the container's address"
              hint="An address instead of the container's, e.g. 127.0.0.1 for host networking"
              {...common}
            />
          </div>
          <TextAreaField
            name="http_headers"
            label="Request headers (optional)"
            placeholder="Host: example.com"
            hint="One “Name: value” per line"
            rows={2}
            {...common}
          />
          <CheckboxField name="http_follow_redirects" label="Follow redirects" {...common} />
          <CheckboxField name="http_https" label="Use HTTPS" {...common} />
        </details>
      </fieldset>
    );
  }
  if (kind === "tcp") {
    return (
      <fieldset>
        <legend>TCP connect</legend>
        <TextField
          name="tcp_port"
          label="Port"
          type="number"
          min={1}
          max={65535}
          required
          hint="Healthy when a connection to this port of the container opens"
          {...common}
        />
      </fieldset>
    );
  }
  if (kind === "command") {
    return (
      <fieldset>
        <legend>Command inside the container</legend>
        <TextAreaField
          name="command_argv"
          label="Command, one argument per line"
          placeholder={ARGV_EXAMPLE}
          hint="Run through the Docker exec API without a shell: healthy when it exits 0. Output is kept up to 4 KB."
          rows={4}
          {...common}
        />
      </fieldset>
    );
  }
  return (
    <fieldset>
      <legend>Docker health</legend>
      <p class="muted">
        Follows the HEALTHCHECK the container's image (or its run options) declares: healthy when
        Docker says so. Containers without a HEALTHCHECK stay failing.
      </p>
    </fieldset>
  );
}

/**
 * The create or edit form of a health check; works without JS. A new check's kind is chosen by
 * links (`kindHrefs`), an existing check's kind is fixed.
 */
export function HealthCheckForm(
  { action, kind, values, errors, hidden = {}, kindHrefs, submit, cancelHref }: FormState & {
    action: string;
    kind: CheckKind;
    /** Hidden fields (the container of a new check). */
    hidden?: Record<string, string>;
    /** Kind → the form for that kind (new checks only). */
    kindHrefs?: Record<CheckKind, string>;
    submit: string;
    cancelHref: string;
  },
) {
  const common = { values, errors, idPrefix: "hc" };
  return (
    <form method="post" action={action} class="card form health-form" novalidate>
      <FormAlert errors={errors} />
      {kindHrefs && (
        <nav class="kind-tabs" aria-label="Kind of check">
          {(Object.keys(kindHrefs) as CheckKind[]).map((k) => (
            <a
              key={k}
              class={`btn btn-small${k === kind ? " btn-primary" : ""}`}
              href={kindHrefs[k]}
              aria-current={k === kind ? "page" : undefined}
            >
              {KIND_LABELS[k]}
            </a>
          ))}
        </nav>
      )}
      <input type="hidden" name="kind" value={kind} />
      {Object.entries(hidden).map(([k, v]) => <input key={k} type="hidden" name={k} value={v} />)}
      <ProbeFields kind={kind} common={common} />
      <fieldset>
        <legend>Schedule</legend>
        <div class="grid-4">
          <TextField
            name="interval_s"
            label="Every (seconds)"
            type="number"
            min={2}
            {...common}
          />
          <TextField
            name="timeout_s"
            label="Timeout (seconds)"
            type="number"
            min={1}
            {...common}
          />
          <TextField
            name="retries"
            label="Retries"
            type="number"
            min={1}
            max={20}
            hint="Results in a row before the state changes"
            {...common}
          />
          <TextField
            name="start_delay_s"
            label="Start delay (seconds)"
            type="number"
            min={0}
            hint="Grace after the container starts"
            {...common}
          />
        </div>
      </fieldset>
      <TextField
        name="name"
        label="Name (optional)"
        maxLength={100}
        hint="Blank: named after what it checks"
        {...common}
      />
      <div class="actions">
        <button type="submit" class="btn btn-primary">{submit}</button>
        <a class="btn btn-ghost" href={cancelHref}>Cancel</a>
      </div>
    </form>
  );
}
