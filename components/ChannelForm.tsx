import type { ChannelKind } from "../lib/alerts/channels/config.ts";
import { CheckboxField, FormAlert, type FormState, SelectField, TextField } from "./Field.tsx";

/** Kinds as people name them. */
export const CHANNEL_LABELS: Record<ChannelKind, string> = {
  slack: "Slack",
  discord: "Discord",
  webhook: "Webhook (signed JSON)",
  email: "Email (SMTP)",
};

/**
 * The create/edit form of one channel kind. Secrets (URLs, signing secret, SMTP password) are
 * password inputs: a stored secret is never filled in (on edit they say "set — leave blank to
 * keep"), but what the admin just typed comes back after an error (the page is `no-store`).
 */
export function ChannelForm(
  { action, kind, values, errors, secrets, submit, cancelHref }: FormState & {
    action: string;
    kind: ChannelKind;
    /** Which secrets are stored (edit); null on create. */
    secrets: Record<string, boolean> | null;
    submit: string;
    cancelHref: string;
  },
) {
  const common = { values, errors, idPrefix: "ch" };
  const keep = (field: string, hint: string) =>
    secrets?.[field] ? `Set — leave blank to keep. ${hint}` : hint;
  return (
    <form method="post" action={action} class="card form channel-form" novalidate>
      <FormAlert errors={errors} />
      <input type="hidden" name="kind" value={kind} />
      <TextField name="name" label="Name" required maxLength={100} placeholder="ops" {...common} />
      <CheckboxField name="enabled" label="Enabled" {...common} />
      {kind !== "email" && (
        <TextField
          name="url"
          label={kind === "webhook" ? "URL" : `${CHANNEL_LABELS[kind]} webhook URL`}
          type="password"
          autocomplete="off"
          keepSecret
          required={!secrets?.url}
          hint={keep(
            "url",
            kind === "slack"
              ? "From Slack: Apps → Incoming Webhooks. Write-only: never shown again."
              : kind === "discord"
              ? "From Discord: channel settings → Integrations → Webhooks. Write-only."
              : "http(s) endpoint that receives a JSON POST. Write-only.",
          )}
          {...common}
        />
      )}
      {kind === "webhook" && (
        <TextField
          name="secret"
          label="Signing secret"
          type="password"
          autocomplete="off"
          keepSecret
          required={!secrets?.secret}
          hint={keep(
            "secret",
            "At least 16 characters. Each POST carries X-Capstan-Signature: sha256=HMAC-SHA256(secret, body).",
          )}
          {...common}
        />
      )}
      {kind === "email" && (
        <div class="grid-2">
          <TextField name="host" label="SMTP server" placeholder="smtp.example.com" {...common} />
          <TextField name="port" label="Port" type="number" min={1} max={65535} {...common} />
          <SelectField
            name="security"
            label="Security"
            options={[
              { value: "starttls", label: "STARTTLS" },
              { value: "tls", label: "TLS" },
              { value: "none", label: "None (no authentication)" },
            ]}
            {...common}
          />
          <TextField name="username" label="Username" autocomplete="off" {...common} />
          <TextField
            name="password"
            label="Password"
            type="password"
            autocomplete="off"
            keepSecret
            hint={keep("password", "Write-only.")}
            {...common}
          />
          <TextField
            name="from"
            label="From"
            type="email"
            placeholder="capstan@example.com"
            {...common}
          />
          <TextField
            name="to"
            label="To"
            placeholder="ops@example.com, oncall@example.com"
            hint="Up to 20 addresses, comma-separated"
            {...common}
          />
        </div>
      )}
      <div class="actions">
        <button class="btn btn-primary" type="submit">{submit}</button>
        <a class="btn" href={cancelHref}>Cancel</a>
      </div>
    </form>
  );
}
