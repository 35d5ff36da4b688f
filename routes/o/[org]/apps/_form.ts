/**
 * The app form's flat fields ↔ one service of the app spec. Lists are one item per line: the
 * command and the health check one argument per line (never a shell line), the environment
 * `KEY=value`, ports `target[:published][/udp]`. Secrets are rows of fields numbered from 0
 * (`secret_0`, `secret_0_env_on`, `secret_0_file_target`, …): the secret's name, and as an
 * environment variable and/or a file. Errors of the service name the spec's fields
 * (`spec.services.0.image`, `spec.services.0.secrets.1.env`); `fieldOf` puts each next to the
 * input it came from.
 */
import type { AppSpecInput, SecretRef } from "../../../../lib/apps/spec.ts";
import type { App } from "../../../../lib/apps/store.ts";
import { AppPriority } from "../../../../lib/apps/service.ts";
import type { FieldErrors, FormValues } from "../../../_forms.ts";

type ServiceInput = AppSpecInput["services"][number];
type SecretRefInput = NonNullable<ServiceInput["secrets"]>[number];

/** How many secrets a service may name (the spec's limit): rows `secret_0` … `secret_63`. */
export const MAX_SECRET_ROWS = 64;

/** The fields of a secret row: `secret_<i>` is its name, the rest how the service gets it. */
const SECRET_FIELD = /^secret_(\d{1,2})(?:_(env_on|env|file_on|file_target|file_mode))?$/;

/** The default mode of a secret's file: read-only for its owner. */
export const DEFAULT_SECRET_MODE = "0400";

/** Every field of the form (what a submission is read for; anything else is dropped). */
export const APP_FIELDS = [
  "name",
  "priority",
  "service",
  "image",
  "command",
  "env",
  "ports",
  "port_mode",
  "replicas",
  "cpu_limit",
  "memory_limit_mib",
  "cpu_reservation",
  "memory_reservation_mib",
  "health_cmd",
  "health_interval_s",
] as const;

const MIB = 1024 * 1024;

/** The field of row `i` of the secrets: `secretField(0, "env")` is `secret_0_env`. */
export function secretField(
  i: number,
  part?: "env_on" | "env" | "file_on" | "file_target" | "file_mode",
): string {
  return part ? `secret_${i}_${part}` : `secret_${i}`;
}

/** The values of a new app's form. */
export function newAppValues(): FormValues {
  return {
    service: "web",
    replicas: "1",
    port_mode: "host",
    health_interval_s: "10",
    priority: "0",
  };
}

/**
 * The app's priority typed in the form (blank: 0), checked by the apps service's schema; an
 * error names the field.
 */
export function priorityFromForm(
  v: FormValues,
): { ok: true; priority: number } | { ok: false; errors: FieldErrors } {
  const raw = (v.priority ?? "").trim();
  if (raw === "") return { ok: true, priority: 0 };
  const r = AppPriority.safeParse(/^-?\d+$/.test(raw) ? Number(raw) : Number.NaN);
  return r.success
    ? { ok: true, priority: r.data }
    : { ok: false, errors: { priority: "must be a whole number from -1000 to 1000" } };
}

/** Lines of a textarea, trimmed of a trailing CR, blank ones dropped. */
const lines = (s: string | undefined) =>
  (s ?? "").split("\n").map((l) => l.replace(/\r$/, "")).filter((l) => l.trim() !== "");

/** One form value as a number: blank is absent, anything but a number an error on the field. */
function numberOf(
  v: FormValues,
  name: string,
  errors: FieldErrors,
  kind: "whole" | "decimal",
): number | undefined {
  const s = v[name]?.trim();
  if (!s) return undefined;
  const ok = kind === "whole" ? /^\d{1,9}$/.test(s) : /^\d{1,6}(\.\d{1,3})?$/.test(s);
  if (ok) return Number(s);
  errors[name] = kind === "whole" ? "must be a whole number" : "must be a number such as 0.5";
  return undefined;
}

/** `KEY=value` lines → a record; a line without `=` is an error naming it. */
function envOf(text: string | undefined, errors: FieldErrors): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of lines(text)) {
    const i = line.indexOf("=");
    if (i <= 0) {
      errors.env ??= `"${line.slice(0, 40)}" is not a KEY=value line`;
      continue;
    }
    env[line.slice(0, i).trim()] = line.slice(i + 1);
  }
  return env;
}

/** `80`, `80:8080`, `53:5353/udp` → ports in the form's mode. */
function portsOf(v: FormValues, errors: FieldErrors): ServiceInput["ports"] {
  const mode = v.port_mode === "ingress" ? "ingress" : "host";
  const out: NonNullable<ServiceInput["ports"]> = [];
  for (const line of lines(v.ports)) {
    const m = /^\s*(\d{1,5})(?::(\d{1,5}))?(?:\/(tcp|udp))?\s*$/i.exec(line);
    if (!m) {
      errors.ports ??= `"${
        line.slice(0, 40)
      }" is not a port: write the container's port, then : and the published port, e.g. 80:8080`;
      continue;
    }
    out.push({
      target: Number(m[1]),
      ...(m[2] ? { published: Number(m[2]) } : {}),
      protocol: (m[3]?.toLowerCase() ?? "tcp") as "tcp" | "udp",
      mode,
    });
  }
  return out;
}

/** CPUs and MiB of memory as the spec's resources; undefined when both are blank. */
function resourcesOf(
  v: FormValues,
  cpuField: string,
  memField: string,
  errors: FieldErrors,
): { cpus?: number; memory_bytes?: number } | undefined {
  const cpus = numberOf(v, cpuField, errors, "decimal");
  const mib = numberOf(v, memField, errors, "whole");
  if (cpus === undefined && mib === undefined) return undefined;
  return {
    ...(cpus !== undefined ? { cpus } : {}),
    ...(mib !== undefined ? { memory_bytes: mib * MIB } : {}),
  };
}

/** `0400`, `400`, `0o400` → 256; anything else an error on the field. */
function modeOf(s: string | undefined, field: string, errors: FieldErrors): number | undefined {
  const t = (s ?? "").trim() || DEFAULT_SECRET_MODE;
  const m = /^(?:0o?)?([0-7]{1,3})$/i.exec(t);
  if (m) return parseInt(m[1], 8);
  errors[field] = "must be an octal mode such as 0400 (read-only for its owner)";
  return undefined;
}

/** The numbers of the secret rows a submission has, in order. */
function secretRowsOf(v: FormValues): number[] {
  const rows = new Set<number>();
  for (const k of Object.keys(v)) {
    const m = SECRET_FIELD.exec(k);
    if (m && Number(m[1]) < MAX_SECRET_ROWS) rows.add(Number(m[1]));
  }
  return [...rows].sort((a, b) => a - b);
}

/**
 * The secrets of the form's rows (a row without a secret chosen is left out) and, for each, the
 * row it came from (to put the service's messages back next to it). `known` are the
 * organization's secrets with their kinds, when all of them could be listed: a name it does not
 * have, or a binary secret as an environment variable, is an error on the row. What the form does
 * not show (a file's uid and gid) is kept from `base` for the same secret and path.
 */
function secretsOf(
  v: FormValues,
  base: SecretRefInput[] | undefined,
  known: Record<string, "text" | "binary"> | undefined,
  errors: FieldErrors,
): { refs: SecretRefInput[]; rows: number[] } {
  const refs: SecretRefInput[] = [];
  const rows: number[] = [];
  for (const i of secretRowsOf(v)) {
    const secret = (v[secretField(i)] ?? "").trim();
    if (!secret) continue;
    const env = v[secretField(i, "env_on")] === "on";
    const file = v[secretField(i, "file_on")] === "on";
    if (!env && !file) {
      errors[secretField(i)] = "choose how the service gets it: as a file, a variable or both";
      continue;
    }
    if (known && !Object.hasOwn(known, secret)) {
      errors[secretField(i)] = `there is no secret named ${secret} in this organization`;
      continue;
    }
    if (env && known?.[secret] === "binary") {
      errors[secretField(i, "env")] = `${secret} is binary: it can only be a file`;
      continue;
    }
    const ref: SecretRefInput = { secret };
    if (env) ref.env = (v[secretField(i, "env")] ?? "").trim() || secret;
    if (file) {
      const target = (v[secretField(i, "file_target")] ?? "").trim();
      const mode = modeOf(v[secretField(i, "file_mode")], secretField(i, "file_mode"), errors);
      const same = base?.find((r) =>
        r.secret === secret && r.file && (r.file.target ?? "") === target
      )?.file;
      ref.file = {
        ...(target ? { target } : {}),
        uid: same?.uid ?? "0",
        gid: same?.gid ?? "0",
        mode: mode ?? 0o400,
      };
    }
    refs.push(ref);
    rows.push(i);
  }
  return { refs, rows };
}

/**
 * The form's service, on top of `base` (the service as saved, when editing: what the form does not
 * show — volumes, update policy, placement, labels — is kept). Errors are the form's own (a line
 * that is not `KEY=value`, a number that is not one, a secret row that says neither file nor
 * variable); the spec's rules are the service's to check. `secretRows[j]` is the form row of the
 * spec's `secrets[j]`, for `formErrorsOf`.
 */
export function serviceFromForm(
  v: FormValues,
  base?: ServiceInput,
  known?: Record<string, "text" | "binary">,
): { ok: true; service: ServiceInput; secretRows: number[] } | {
  ok: false;
  errors: FieldErrors;
} {
  const errors: FieldErrors = {};
  const secrets = secretsOf(v, base?.secrets, known, errors);
  const command = lines(v.command);
  const healthCmd = lines(v.health_cmd);
  const limits = resourcesOf(v, "cpu_limit", "memory_limit_mib", errors);
  const reservations = resourcesOf(v, "cpu_reservation", "memory_reservation_mib", errors);
  const interval = numberOf(v, "health_interval_s", errors, "whole");
  const replicas = numberOf(v, "replicas", errors, "whole");
  const service: ServiceInput = {
    ...(base ?? {}),
    name: v.service?.trim() ?? "",
    image: v.image?.trim() ?? "",
    command: command.length ? command : undefined,
    // The form's command is the whole argv: the image's own arguments do not trail it.
    args: command.length ? undefined : base?.args,
    env: envOf(v.env, errors),
    secrets: secrets.refs,
    ports: portsOf(v, errors),
    replicas: replicas ?? 1,
    resources: {
      ...(limits ? { limits } : {}),
      ...(reservations ? { reservations } : {}),
    },
    health_check: healthCmd.length
      ? {
        ...(base?.health_check ?? {}),
        cmd: healthCmd,
        ...(interval !== undefined ? { interval_s: interval } : {}),
      }
      : undefined,
  };
  if (!command.length) delete service.command;
  if (service.args === undefined) delete service.args;
  if (!service.health_check) delete service.health_check;
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, service, secretRows: secrets.rows };
}

/** `0400` for 256: a file mode as the form shows it. */
const modeText = (mode: number) => `0${mode.toString(8).padStart(3, "0")}`;

/** The form's rows of a service's secrets. */
function secretValues(refs: SecretRef[]): FormValues {
  const out: FormValues = {};
  refs.forEach((r, i) => {
    out[secretField(i)] = r.secret;
    out[secretField(i, "env_on")] = r.env !== undefined ? "on" : "";
    out[secretField(i, "env")] = r.env ?? "";
    out[secretField(i, "file_on")] = r.file ? "on" : "";
    out[secretField(i, "file_target")] = r.file?.target ?? "";
    out[secretField(i, "file_mode")] = r.file ? modeText(r.file.mode) : DEFAULT_SECRET_MODE;
  });
  return out;
}

/** The form's values of one saved service (the edit form). */
export function serviceValues(app: App, serviceName: string): FormValues {
  const s = app.spec.services.find((x) => x.name === serviceName) ?? app.spec.services[0];
  const lim = s.resources.limits;
  const res = s.resources.reservations;
  const mib = (b: number | undefined) => b === undefined ? "" : String(Math.round(b / MIB));
  return {
    name: app.name,
    priority: String(app.priority),
    service: s.name,
    image: s.image,
    // An image's own entrypoint with arguments reads as one argv, as the form writes it back.
    command: [...(s.command ?? []), ...(s.command ? s.args ?? [] : [])].join("\n"),
    env: Object.entries(s.env).map(([k, val]) => `${k}=${val}`).join("\n"),
    ports: s.ports.map((p) =>
      `${p.target}${p.published !== undefined ? `:${p.published}` : ""}${
        p.protocol === "udp" ? "/udp" : ""
      }`
    ).join("\n"),
    port_mode: s.ports[0]?.mode ?? "host",
    replicas: String(s.replicas),
    cpu_limit: lim?.cpus !== undefined ? String(lim.cpus) : "",
    memory_limit_mib: mib(lim?.memory_bytes),
    cpu_reservation: res?.cpus !== undefined ? String(res.cpus) : "",
    memory_reservation_mib: mib(res?.memory_bytes),
    health_cmd: (s.health_check?.cmd ?? []).join("\n"),
    health_interval_s: String(s.health_check?.interval_s ?? 10),
    ...secretValues(s.secrets ?? []),
  };
}

/** The submitted values of the form's fields only. */
export function formFields(all: FormValues): FormValues {
  const out: FormValues = {};
  for (const f of APP_FIELDS) if (all[f] !== undefined) out[f] = all[f];
  for (const [k, v] of Object.entries(all)) {
    const m = SECRET_FIELD.exec(k);
    if (m && Number(m[1]) < MAX_SECRET_ROWS) out[k] = v;
  }
  return out;
}

/** The field of an error about `secrets.<j>.…`: on the row that secret came from. */
function secretFieldOf(rest: string, secretRows: number[]): string {
  const [, j, part, sub] = rest.split(".");
  const row = secretRows[Number(j)];
  if (row === undefined || !/^\d+$/.test(j ?? "")) return "_form";
  if (part === "env") return secretField(row, "env");
  if (part === "file") return secretField(row, sub === "mode" ? "file_mode" : "file_target");
  return secretField(row);
}

/**
 * The form field of an error path of the service (`spec.services.0.resources.limits.cpus` →
 * `cpu_limit`), or `_form` for what the form does not show. Only paths of service `index` map
 * onto fields; another service's problem belongs to the form as a whole. `secretRows` maps the
 * spec's secrets to the form's rows (from `serviceFromForm`).
 */
export function fieldOf(path: string, index = 0, secretRows: number[] = []): string {
  if (path === "name") return "name";
  const m = /^spec\.services\.(\d+)\.?(.*)$/.exec(path);
  if (!m || Number(m[1]) !== index) return "_form";
  const rest = m[2];
  const head = rest.split(".")[0];
  const direct: Record<string, string> = {
    name: "service",
    image: "image",
    command: "command",
    args: "command",
    env: "env",
    ports: "ports",
    replicas: "replicas",
    global: "replicas",
  };
  if (direct[head]) return direct[head];
  if (head === "secrets") return secretFieldOf(rest, secretRows);
  if (rest.startsWith("resources.limits.cpus")) return "cpu_limit";
  if (rest.startsWith("resources.limits")) return "memory_limit_mib";
  if (rest.startsWith("resources.reservations.cpus")) return "cpu_reservation";
  if (rest.startsWith("resources.reservations")) return "memory_reservation_mib";
  if (rest.startsWith("health_check.interval_s")) return "health_interval_s";
  if (rest.startsWith("health_check")) return "health_cmd";
  return "_form";
}

/** The service's per-field messages on the form's fields; the rest at the top, with their path. */
export function formErrorsOf(
  fields: Record<string, string>,
  index = 0,
  secretRows: number[] = [],
): FieldErrors {
  const out: FieldErrors = {};
  for (const [path, msg] of Object.entries(fields)) {
    let f = fieldOf(path, index, secretRows);
    // Capacity (507) names the reservations as a whole: the message says which resource.
    if (f === "memory_reservation_mib" && /\.reservations$/.test(path) && /CPU/.test(msg)) {
      f = "cpu_reservation";
    }
    if (f === "_form") {
      out._form = out._form ? `${out._form}; ${path}: ${msg}` : `${path}: ${msg}`;
    } else out[f] ??= msg;
  }
  return out;
}
