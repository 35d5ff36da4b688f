import type { ComponentChildren } from "preact";
import { CheckboxField, FormAlert, type FormState, SelectField, TextField } from "./Field.tsx";
import { TextAreaField } from "./TextAreaField.tsx";

/** One choice of the target select: an app service (`app/service`) or the external URL. */
export interface TargetChoice {
  value: string;
  label: string;
}

interface Props extends FormState {
  action: string;
  /** The organization's app services; the URL choice is added for platform admins. */
  targets: TargetChoice[];
  /** Platform admins may route to an external URL. */
  allowUrl: boolean;
  /** What "Default of the install" means now (`ACME` or `internal CA`). */
  defaultTls: string;
  /** An edit of a route with basic auth: a blank password keeps the stored one. */
  hasPassword?: boolean;
  children: ComponentChildren;
}

/**
 * The form of a route: hostnames, path, target, certificates, redirects, headers, basic auth,
 * limits, allow list and maintenance. Lists are one item per line; errors of the service sit next
 * to their fields and the input is kept — except the password, which is never written back.
 */
export function RouteForm(p: Props) {
  const common = { values: p.values, errors: p.errors, idPrefix: "route" };
  const current = p.values?.target ?? "";
  const offered = [
    ...p.targets,
    ...(p.allowUrl || current === "url" ? [{ value: "url", label: "External URL (below)" }] : []),
  ];
  // The route's own target stays selectable (an app since deleted, a URL a platform admin set),
  // so saving other fields never moves the route somewhere else unasked.
  const targets = [
    ...(offered.length ? [] : [{ value: "", label: "No app of this organization yet" }]),
    ...(current && !offered.some((t) => t.value === current)
      ? [{ value: current, label: `${current.replace("/", " · ")} (current target)` }]
      : []),
    ...offered,
  ];
  return (
    <form method="post" action={p.action} class="card form route-form">
      <FormAlert errors={p.errors} />
      <fieldset>
        <legend>Where requests come in</legend>
        <div class="grid-2">
          <TextAreaField
            name="hostnames"
            label="Hostnames"
            rows={3}
            placeholder={`shop.example.com\nwww.shop.example.com`}
            hint="One per line. Each must point at the ingress (the route page lists the DNS records to create)."
            {...common}
          />
          <TextField
            name="path_prefix"
            label="Path prefix"
            placeholder="/api"
            hint="Optional: only requests under this path take the route."
            {...common}
          />
        </div>
      </fieldset>
      <fieldset>
        <legend>Where they go</legend>
        <div class="grid-2">
          <SelectField
            name="target"
            label="Target"
            options={targets}
            hint="An app's service; the proxy follows its tasks wherever they run."
            {...common}
          />
          <TextField
            name="target_port"
            label="Container port"
            type="number"
            min={1}
            max={65535}
            hint="The port the service listens on inside its containers."
            {...common}
          />
          {(p.allowUrl || current === "url") && (
            <TextField
              name="target_url"
              label="External URL"
              placeholder="https://backend.internal:8443"
              hint="Platform admins only: with the target above set to External URL."
              {...common}
            />
          )}
        </div>
      </fieldset>
      <fieldset>
        <legend>HTTPS</legend>
        <div class="grid-2">
          <SelectField
            name="tls"
            label="Certificates"
            options={[
              { value: "", label: `Default of the install (${p.defaultTls})` },
              { value: "acme", label: "ACME (Let's Encrypt or the configured CA)" },
              { value: "internal", label: "Internal CA (Caddy's own, not trusted by browsers)" },
            ]}
            hint="ACME certificates are requested once the hostname's DNS points at the ingress."
            {...common}
          />
          <SelectField
            name="www"
            label="www and apex"
            options={[
              { value: "none", label: "Leave as they are" },
              { value: "to_www", label: "Redirect the apex to www" },
              { value: "to_apex", label: "Redirect www to the apex" },
            ]}
            {...common}
          />
        </div>
        <CheckboxField
          name="https_redirect"
          label="Redirect HTTP to HTTPS"
          {...common}
        />
        <CheckboxField
          name="strip_prefix"
          label="Strip the path prefix before passing the request on"
          {...common}
        />
      </fieldset>
      <fieldset>
        <legend>Headers</legend>
        <div class="grid-2">
          <TextAreaField
            name="request_headers"
            label="Request headers"
            placeholder="X-Forwarded-Prefix: /api"
            hint="One Name: value per line, set on requests to the target."
            {...common}
          />
          <TextAreaField
            name="response_headers"
            label="Response headers"
            placeholder="Strict-Transport-Security: max-age=31536000"
            hint="One Name: value per line, set on answers."
            {...common}
          />
        </div>
      </fieldset>
      <fieldset>
        <legend>Access</legend>
        <div class="grid-2">
          <TextField
            name="auth_username"
            label="Basic auth username"
            autocomplete="off"
            hint="Optional: visitors must sign in with this name and the password."
            {...common}
          />
          <TextField
            name="auth_password"
            label="Basic auth password"
            type="password"
            autocomplete="new-password"
            hint={p.hasPassword
              ? "Leave blank to keep the current password."
              : "At least 8 characters; stored only as a hash, never shown again."}
            {...common}
          />
        </div>
        <TextAreaField
          name="ip_allow"
          label="IP allow list"
          placeholder={`203.0.113.0/24\n2001:db8::/32`}
          hint="One address or CIDR range per line; others get 403. Empty: everyone."
          {...common}
        />
      </fieldset>
      <fieldset>
        <legend>Limits</legend>
        <p class="hint">
          Caddy's standard build has no rate limiter, so with Caddy a rate limit is kept but not
          enforced; Traefik applies it.
        </p>
        <div class="grid-4">
          <TextField
            name="rate_per_second"
            label="Requests per second"
            type="number"
            min={1}
            {...common}
          />
          <TextField name="rate_burst" label="Burst" type="number" min={1} {...common} />
          <TextField
            name="max_body_mib"
            label="Max body size (MiB)"
            type="number"
            min={1}
            hint="Larger requests get 413."
            {...common}
          />
        </div>
        <CheckboxField
          name="maintenance"
          label="Maintenance: answer 503 with a maintenance page instead of passing requests on"
          {...common}
        />
      </fieldset>
      <div class="actions">{p.children}</div>
    </form>
  );
}
