/**
 * The container create form, read into a ContainerCreateSpec. Multi-valued inputs are one item
 * per line (a command is one argument per line, never a shell string that something would have to
 * split), and every problem is reported against the form field it came from, with its line.
 */
import type { z } from "zod";
import { ContainerCreateSpec } from "../protocol/ops.ts";

/** Form field names of the create form (their values are kept when the form is shown again). */
export const CREATE_FIELDS = [
  "host",
  "image",
  "name",
  "cmd",
  "env",
  "ports",
  "volumes",
  "restart_policy",
  "labels",
  "cpus",
  "memory_mib",
  "start",
  "privileged",
  "network_mode",
  "pid_mode",
  "devices",
  "cap_add",
  "binds",
] as const;

/** Fields shown only to admins (the create policy refuses them to others anyway). */
export const ADVANCED_FIELDS = [
  "privileged",
  "network_mode",
  "pid_mode",
  "devices",
  "cap_add",
  "binds",
] as const;

const PORT_RE =
  /^(?:(?<ip>\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):)?(?:(?<host>\d{1,5}):)?(?<ctr>\d{1,5})(?:\/(?<proto>tcp|udp|sctp))?$/;
const VOLUME_RE = /^(?<name>[^:]+):(?<target>\/[^:]*)(?::(?<mode>ro|rw))?$/;

/** Non-empty lines of a textarea, trimmed of the `\r` browsers send. */
export function lines(text: string | undefined): { line: string; n: number }[] {
  return (text ?? "").split("\n").map((l, i) => ({ line: l.replace(/\r$/, ""), n: i + 1 }))
    .filter((l) => l.line.trim() !== "");
}

type Errors = Record<string, string>;

function pairs(field: string, text: string | undefined, errors: Errors) {
  const out: Record<string, string> = {};
  for (const { line, n } of lines(text)) {
    const eq = line.indexOf("=");
    if (eq <= 0) {
      errors[field] ??= `line ${n}: must look like KEY=value`;
      continue;
    }
    const key = line.slice(0, eq).trim();
    if (Object.hasOwn(out, key)) errors[field] ??= `line ${n}: ${key} is given twice`;
    out[key] = line.slice(eq + 1);
  }
  return out;
}

function ports(text: string | undefined, errors: Errors) {
  const out: {
    container_port: number;
    protocol: "tcp" | "udp" | "sctp";
    host_port?: number;
    host_ip?: string;
  }[] = [];
  for (const { line, n } of lines(text)) {
    const m = PORT_RE.exec(line.trim());
    if (!m?.groups) {
      errors.ports ??= `line ${n}: must look like 8080:80/tcp, 127.0.0.1:8080:80 or 80`;
      continue;
    }
    const g = m.groups;
    out.push({
      container_port: Number(g.ctr),
      protocol: (g.proto ?? "tcp") as "tcp" | "udp" | "sctp",
      ...(g.host !== undefined ? { host_port: Number(g.host) } : {}),
      ...(g.ip !== undefined ? { host_ip: g.ip.replace(/^\[|\]$/g, "") } : {}),
    });
  }
  return out;
}

function volumes(text: string | undefined, errors: Errors) {
  const out: { name: string; target: string; read_only: boolean }[] = [];
  for (const { line, n } of lines(text)) {
    const m = VOLUME_RE.exec(line.trim());
    if (!m?.groups) {
      errors.volumes ??= `line ${n}: must look like name:/path or name:/path:ro`;
      continue;
    }
    out.push({ name: m.groups.name, target: m.groups.target, read_only: m.groups.mode === "ro" });
  }
  return out;
}

function number(field: string, raw: string | undefined, errors: Errors): number | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw.trim());
  if (!Number.isFinite(n)) {
    errors[field] = "must be a number";
    return undefined;
  }
  return n;
}

const list = (text: string | undefined) => lines(text).map((l) => l.line.trim());

/** Which form field a spec path belongs to, and the line for array items. */
function fieldOf(path: PropertyKey[]): { field: string; prefix: string } {
  const [head, second] = path;
  const field = head === "memory_bytes"
    ? "memory_mib"
    : head === undefined
    ? "_form"
    : String(head);
  if (typeof second === "number") return { field, prefix: `line ${second + 1}: ` };
  if (typeof second === "string") return { field, prefix: `${second}: ` };
  return { field, prefix: "" };
}

/**
 * Reads the submitted create form. Returns the host, the validated spec and whether to start it,
 * or messages keyed by form field.
 */
export function specFromForm(
  values: Record<string, string>,
): { ok: true; hostId: string; spec: ContainerCreateSpec; start: boolean } | {
  ok: false;
  errors: Errors;
} {
  const errors: Errors = {};
  const v = (k: string) => (values[k]?.trim() ? values[k].trim() : undefined);
  if (!v("host")) errors.host = "choose a host";
  const cpus = number("cpus", values.cpus, errors);
  const memory = number("memory_mib", values.memory_mib, errors);
  const env = pairs("env", values.env, errors);
  const labels = pairs("labels", values.labels, errors);
  const input = {
    image: v("image") ?? "",
    name: v("name"),
    cmd: lines(values.cmd).length ? lines(values.cmd).map((l) => l.line) : undefined,
    env: Object.keys(env).length ? env : undefined,
    ports: ports(values.ports, errors),
    volumes: volumes(values.volumes, errors),
    restart_policy: v("restart_policy") ?? "no",
    labels: Object.keys(labels).length ? labels : undefined,
    cpus,
    memory_bytes: memory === undefined ? undefined : Math.round(memory * 1024 * 1024),
    privileged: values.privileged === "on",
    network_mode: v("network_mode"),
    pid_mode: v("pid_mode"),
    devices: list(values.devices).length ? list(values.devices) : undefined,
    cap_add: list(values.cap_add).length ? list(values.cap_add) : undefined,
    binds: list(values.binds).length ? list(values.binds) : undefined,
  };
  if (!input.image) errors.image = "is required";
  const r = ContainerCreateSpec.safeParse(input);
  if (!r.success) {
    for (const issue of (r.error as z.ZodError).issues) {
      const { field, prefix } = fieldOf(issue.path);
      errors[field] ??= prefix + issue.message;
    }
  }
  if (!r.success || Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, hostId: v("host")!, spec: r.data, start: values.start === "on" };
}
