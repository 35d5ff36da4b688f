/**
 * The health check form's flat fields ↔ the API's check input. Field names are the API's paths
 * with "_" for "." (`http_port`, `command_argv`), so an error of the API or the service lands next
 * to its field. Headers are "Name: value" lines, the command one argument per line (never a shell
 * line), expected statuses "200-399, 404".
 */
import { CHECK_KINDS, CheckCreateInput, type CheckKind } from "../../../../lib/health/schema.ts";
import { CheckUpdateInput } from "../../../../lib/health/schema.ts";
import type { HealthCheckView } from "../../../../lib/health/rows.ts";
import { errorsOf, type FieldErrors, formError, type FormValues } from "../../../_forms.ts";

/** The kind a form is for (`?kind=` or the posted field), HTTP by default. */
export function kindOf(v: unknown): CheckKind {
  return CHECK_KINDS.includes(v as CheckKind) ? v as CheckKind : "http";
}

/** A new check's values: the two-click defaults (port: the container's first TCP port). */
export function defaultValues(port: number | null): FormValues {
  return {
    http_port: String(port ?? 80),
    http_path: "/",
    http_method: "GET",
    http_expect_status: "200-399",
    tcp_port: port ? String(port) : "",
    interval_s: "30",
    timeout_s: "5",
    retries: "2",
    start_delay_s: "0",
  };
}

/** A stored check's values for the edit form. */
export function checkValues(c: HealthCheckView): FormValues {
  const cfg = c.config as Record<string, unknown>;
  const v: FormValues = {
    name: c.name,
    interval_s: String(c.interval_s),
    timeout_s: String(c.timeout_s),
    retries: String(c.retries),
    start_delay_s: String(c.start_delay_s),
  };
  if (c.kind === "http") {
    v.http_port = String(cfg.port);
    v.http_path = String(cfg.path ?? "/");
    v.http_method = String(cfg.method ?? "GET");
    v.http_host = cfg.host ? String(cfg.host) : "";
    v.http_expect_status = ((cfg.expect_status ?? []) as [number, number][])
      .map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}-${hi}`)).join(", ");
    v.http_body_contains = cfg.body_contains ? String(cfg.body_contains) : "";
    v.http_headers = Object.entries((cfg.headers ?? {}) as Record<string, string>)
      .map(([k, val]) => `${k}: ${val}`).join("\n");
    if (cfg.follow_redirects) v.http_follow_redirects = "on";
    if (cfg.scheme === "https") v.http_https = "on";
  }
  if (c.kind === "tcp") v.tcp_port = String(cfg.port);
  if (c.kind === "command") v.command_argv = ((cfg.argv ?? []) as string[]).join("\n");
  return v;
}

/** Lines of a textarea, without the blank ones. */
const lines = (s: string | undefined) =>
  (s ?? "").split("\n").map((l) => l.replace(/\r$/, "")).filter((l) => l.trim() !== "");

/** A form number: blank is absent, digits a number, anything else an error. */
function whole(v: FormValues, name: string, errors: FieldErrors): number | undefined {
  const s = v[name]?.trim();
  if (!s) return undefined;
  if (/^\d{1,9}$/.test(s)) return Number(s);
  errors[name] = "must be a whole number";
  return undefined;
}

/** "200-399, 404" → [[200, 399], [404, 404]]. */
function statusRanges(s: string, errors: FieldErrors): [number, number][] | undefined {
  if (!s.trim()) return undefined;
  const out: [number, number][] = [];
  for (const part of s.split(",").map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d{3})(?:\s*-\s*(\d{3}))?$/.exec(part);
    if (!m) {
      errors.http_expect_status = `"${part}" is not a status code or a range such as 200-399`;
      return undefined;
    }
    out.push([Number(m[1]), Number(m[2] ?? m[1])]);
  }
  return out;
}

/** The probe of `kind` from the form, or undefined when the form's own checks failed. */
function probeOf(kind: CheckKind, v: FormValues, errors: FieldErrors): Record<string, unknown> {
  if (kind === "http") {
    const headers: Record<string, string> = {};
    for (const line of lines(v.http_headers)) {
      const i = line.indexOf(":");
      if (i <= 0) {
        errors.http_headers = `"${line.slice(0, 40)}" is not a "Name: value" line`;
        break;
      }
      headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    const http: Record<string, unknown> = {
      port: whole(v, "http_port", errors),
      path: v.http_path?.trim() || undefined,
      method: v.http_method === "HEAD" ? "HEAD" : "GET",
      host: v.http_host?.trim() || undefined,
      expect_status: statusRanges(v.http_expect_status ?? "", errors),
      body_contains: v.http_body_contains || undefined,
      headers,
      follow_redirects: v.http_follow_redirects === "on",
      scheme: v.http_https === "on" ? "https" : "http",
    };
    return { http };
  }
  if (kind === "tcp") return { tcp: { port: whole(v, "tcp_port", errors) } };
  if (kind === "command") return { command: { argv: lines(v.command_argv) } };
  return {};
}

/** An API error path → the form field it belongs to (`http.headers.X-A` → `http_headers`). */
export function fieldOf(path: string): string {
  const parts = path.split(".");
  if (parts[0] === "http" || parts[0] === "command" || parts[0] === "tcp") {
    if (parts.length === 1) return parts[0] === "command" ? "command_argv" : "_form";
    return `${parts[0]}_${parts[1]}`;
  }
  return ["host_id", "container", "kind"].includes(parts[0]) ? "_form" : parts[0];
}

/** Per-field messages with API paths turned into form fields. */
export function formErrors(fields: Record<string, string>): FieldErrors {
  const out: FieldErrors = {};
  for (const [k, msg] of Object.entries(fields)) {
    const f = fieldOf(k);
    out[f] ??= f === "_form" ? `${k}: ${msg}` : msg;
  }
  return out;
}

type Parsed<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

function parse<S extends typeof CheckCreateInput | typeof CheckUpdateInput>(
  schema: S,
  raw: Record<string, unknown>,
  errors: FieldErrors,
): Parsed<S["_output"]> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    for (const issue of r.error.issues) {
      const f = fieldOf(issue.path.map(String).join("."));
      errors[f] ??= f === "_form" ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
    }
  }
  if (Object.keys(errors).length || !r.success) return { ok: false, errors };
  return { ok: true, data: r.data };
}

/** The common fields of both forms. */
function commonOf(v: FormValues, errors: FieldErrors) {
  return {
    name: v.name?.trim() || undefined,
    interval_s: whole(v, "interval_s", errors),
    timeout_s: whole(v, "timeout_s", errors),
    retries: whole(v, "retries", errors),
    start_delay_s: whole(v, "start_delay_s", errors),
  };
}

/** The create form → the API's create input, or the messages per field. */
export function createInput(v: FormValues): Parsed<typeof CheckCreateInput["_output"]> {
  const errors: FieldErrors = {};
  const kind = kindOf(v.kind);
  return parse(CheckCreateInput, {
    host_id: v.host_id,
    container: v.container,
    kind,
    ...commonOf(v, errors),
    ...probeOf(kind, v, errors),
  }, errors);
}

/** The edit form of a `kind` check → the API's update input, or the messages per field. */
export function updateInput(
  kind: CheckKind,
  v: FormValues,
): Parsed<typeof CheckUpdateInput["_output"]> {
  const errors: FieldErrors = {};
  return parse(CheckUpdateInput, { ...commonOf(v, errors), ...probeOf(kind, v, errors) }, errors);
}

/** A service error as form messages, fields mapped onto the form's. */
export function serviceErrors(err: unknown): { errors: FieldErrors; status: number } {
  const e = formError(err);
  const errors = e.fields && Object.keys(e.fields).length ? formErrors(e.fields) : errorsOf(e);
  return { errors, status: e.status };
}
