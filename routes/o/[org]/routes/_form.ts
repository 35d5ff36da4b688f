/**
 * The route form's flat fields ↔ the route spec. Lists are one item per line (hostnames, CIDRs,
 * `Name: value` headers); the target is one select of the organization's app services
 * (`app/service`) with the container port beside it, or — for platform admins — an external URL.
 * Errors of the service name the spec's fields (`hostnames.0`, `target.app`,
 * `basic_auth.password`); `routeFormErrorsOf` puts each next to the input it came from.
 */
import type { RouteSpecInput, StoredRouteSpec } from "../../../../lib/proxy/spec.ts";
import type { FieldErrors, FormValues } from "../../../_forms.ts";

/** Every field of the form (what a submission is read for; anything else is dropped). */
export const ROUTE_FIELDS = [
  "hostnames",
  "path_prefix",
  "target",
  "target_port",
  "target_url",
  "tls",
  "https_redirect",
  "www",
  "strip_prefix",
  "request_headers",
  "response_headers",
  "auth_username",
  "auth_password",
  "rate_per_second",
  "rate_burst",
  "max_body_mib",
  "ip_allow",
  "maintenance",
] as const;

/** The select's value for an external URL (app services are `app/service`). */
export const URL_TARGET = "url";

const MIB = 1024 * 1024;

/** Lines of a textarea, trimmed, blank ones dropped. */
const lines = (s: string | undefined) =>
  (s ?? "").split("\n").map((l) => l.trim()).filter((l) => l !== "");

/** The submitted values of the form's fields only. */
export function routeFormFields(all: FormValues): FormValues {
  const out: FormValues = {};
  for (const f of ROUTE_FIELDS) if (all[f] !== undefined) out[f] = all[f];
  return out;
}

/** A whole number of a field: blank is absent, anything else an error on the field. */
function wholeOf(v: FormValues, name: string, errors: FieldErrors): number | undefined {
  const s = v[name]?.trim();
  if (!s) return undefined;
  if (/^\d{1,9}$/.test(s)) return Number(s);
  errors[name] = "must be a whole number";
  return undefined;
}

/** `Name: value` lines → a record; a line without `:` is an error naming it. */
function headersOf(v: FormValues, name: string, errors: FieldErrors): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines(v[name])) {
    const i = line.indexOf(":");
    if (i <= 0) {
      errors[name] ??= `"${line.slice(0, 40)}" is not a Name: value line`;
      continue;
    }
    out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/** The spec's target from the select, the port and the URL. */
function targetOf(v: FormValues, errors: FieldErrors): RouteSpecInput["target"] | undefined {
  const choice = v.target ?? "";
  if (choice === URL_TARGET) return { kind: "url", url: v.target_url?.trim() ?? "" };
  const [app, service] = choice.split("/");
  if (!app || !service) {
    errors.target = "choose an app service";
    return undefined;
  }
  const port = wholeOf(v, "target_port", errors);
  if (port === undefined) {
    errors.target_port ??= "is required: the port the service listens on in its container";
    return undefined;
  }
  return { kind: "app", app, service, port };
}

/**
 * The spec of the form's values. Errors are the form's own (a header line without `:`, a number
 * that is not one); the spec's rules are the service's to check. A blank password is sent as
 * none, so an edit keeps the stored one.
 */
export function specFromForm(
  v: FormValues,
): { ok: true; spec: RouteSpecInput } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const target = targetOf(v, errors);
  const perSecond = wholeOf(v, "rate_per_second", errors);
  const burst = wholeOf(v, "rate_burst", errors);
  const bodyMib = wholeOf(v, "max_body_mib", errors);
  const username = v.auth_username?.trim() ?? "";
  const password = v.auth_password ?? "";
  const tls = v.tls === "acme" || v.tls === "internal" ? v.tls : undefined;
  const www = v.www === "to_www" || v.www === "to_apex" ? v.www : "none";
  const spec: RouteSpecInput = {
    hostnames: lines(v.hostnames),
    ...(v.path_prefix?.trim() ? { path_prefix: v.path_prefix.trim() } : {}),
    target: target ?? { kind: "url", url: "" },
    ...(tls ? { tls } : {}),
    https_redirect: v.https_redirect === "on",
    www,
    strip_prefix: v.strip_prefix === "on",
    request_headers: headersOf(v, "request_headers", errors),
    response_headers: headersOf(v, "response_headers", errors),
    ...(username || password
      ? { basic_auth: { username, ...(password ? { password } : {}) } as never }
      : {}),
    ...(perSecond !== undefined || burst !== undefined
      ? { rate_limit: { per_second: perSecond ?? 0, burst: burst ?? perSecond ?? 0 } }
      : {}),
    ...(bodyMib !== undefined ? { max_body_bytes: bodyMib * MIB } : {}),
    ...(lines(v.ip_allow).length ? { ip_allow: lines(v.ip_allow) } : {}),
    maintenance: v.maintenance === "on",
  };
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, spec };
}

/** The form's values of a stored route (the edit form; the password is never shown). */
export function routeValues(spec: StoredRouteSpec): FormValues {
  const t = spec.target;
  return {
    hostnames: spec.hostnames.join("\n"),
    path_prefix: spec.path_prefix ?? "",
    target: t.kind === "app" ? `${t.app}/${t.service}` : t.kind === "url" ? URL_TARGET : "",
    target_port: t.kind === "app" ? String(t.port) : "",
    target_url: t.kind === "url" ? t.url : "",
    tls: spec.tls ?? "",
    https_redirect: spec.https_redirect ? "on" : "",
    www: spec.www,
    strip_prefix: spec.strip_prefix ? "on" : "",
    request_headers: Object.entries(spec.request_headers).map(([k, v]) => `${k}: ${v}`).join("\n"),
    response_headers: Object.entries(spec.response_headers).map(([k, v]) => `${k}: ${v}`).join(
      "\n",
    ),
    auth_username: spec.basic_auth?.username ?? "",
    rate_per_second: spec.rate_limit ? String(spec.rate_limit.per_second) : "",
    rate_burst: spec.rate_limit ? String(spec.rate_limit.burst) : "",
    max_body_mib: spec.max_body_bytes ? String(Math.ceil(spec.max_body_bytes / MIB)) : "",
    ip_allow: (spec.ip_allow ?? []).join("\n"),
    maintenance: spec.maintenance ? "on" : "",
  };
}

/** The form field of a spec path, and the line it names in a one-per-line list. */
function fieldOf(path: string): { field: string; line?: number } {
  const [head, second, third] = path.split(".");
  const line = /^\d+$/.test(second ?? "") ? Number(second) + 1 : undefined;
  switch (head) {
    case "hostnames":
    case "ip_allow":
      return { field: head, line };
    case "target":
      if (second === "port") return { field: "target_port" };
      if (second === "url") return { field: "target_url" };
      return { field: "target" };
    case "basic_auth":
      return { field: second === "password" ? "auth_password" : "auth_username" };
    case "rate_limit":
      return { field: second === "burst" || third === "burst" ? "rate_burst" : "rate_per_second" };
    case "max_body_bytes":
      return { field: "max_body_mib" };
    case "path_prefix":
    case "tls":
    case "https_redirect":
    case "www":
    case "strip_prefix":
    case "request_headers":
    case "response_headers":
    case "maintenance":
      return { field: head };
    default:
      return { field: "_form" };
  }
}

/** The service's per-field messages on the form's fields; the rest at the top. */
export function routeFormErrorsOf(fields: Record<string, string>): FieldErrors {
  const out: FieldErrors = {};
  for (const [path, raw] of Object.entries(fields)) {
    const { field, line } = fieldOf(path);
    // A byte limit reads in the form's MiB.
    const msg = field === "max_body_mib" ? "must be at least 1 MiB and at most 1 TiB" : raw;
    const text = line ? `line ${line}: ${msg}` : msg;
    if (field === "_form") out._form = out._form ? `${out._form}; ${path}: ${msg}` : msg;
    else out[field] ??= text;
  }
  return out;
}
