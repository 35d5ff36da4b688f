/**
 * Checks declared by container labels, so containers started from templates get checked without
 * a click: `capstan.health.http=/healthz` (with `capstan.health.port=8080`), `capstan.health.tcp=5432`,
 * `capstan.health.cmd=["pg_isready"]` (a JSON argument array; a shell line is refused),
 * `capstan.health.docker=true` (the image's own HEALTHCHECK), and for all of them
 * `capstan.health.interval=10s`, `capstan.health.timeout=2s`, `capstan.health.retries=3`,
 * `capstan.health.start_delay=30s`. Labels go through the same input schema as the API.
 */
import {
  type CheckFields,
  CheckFields as Fields,
  type CheckSpec,
  normalizeCheck,
} from "./schema.ts";

const PREFIX = "capstan.health.";

/** A derived check, or the reason a label was not usable. */
export type LabelCheck = { ok: true; spec: CheckSpec } | { ok: false; kind: string; error: string };

/** Seconds from "10s", "2m", "1h", "1500ms" or a bare number of seconds; undefined when malformed. */
export function parseDuration(v: string): number | undefined {
  const m = /^\s*(\d{1,7})\s*(ms|s|m|h)?\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  const s = unit === "ms" ? n / 1000 : unit === "m" ? n * 60 : unit === "h" ? n * 3600 : n;
  return Math.max(1, Math.ceil(s));
}

/** Whether a container declares any check (cheap filter). */
export function hasHealthLabels(labels: Record<string, string>): boolean {
  return Object.keys(labels).some((k) => k.startsWith(PREFIX));
}

/**
 * The checks a container's labels declare, one per kind. `ports` are the container's private
 * ports: an HTTP check without `capstan.health.port` uses the first TCP one, else 80.
 */
export function checksFromLabels(
  labels: Record<string, string>,
  ports: { private_port: number; type: string }[] = [],
): LabelCheck[] {
  if (!hasHealthLabels(labels)) return [];
  const get = (k: string) => labels[PREFIX + k];
  const common: CheckFields = {};
  const errors: string[] = [];
  for (const k of ["interval", "timeout", "start_delay"] as const) {
    const v = get(k);
    if (v === undefined) continue;
    const s = parseDuration(v);
    if (s === undefined) errors.push(`${PREFIX}${k}: must be a duration such as 10s`);
    else {common[
        k === "interval" ? "interval_s" : k === "timeout" ? "timeout_s" : "start_delay_s"
      ] = s;}
  }
  if (get("retries") !== undefined) {
    const n = Number(get("retries"));
    if (Number.isInteger(n)) common.retries = n;
    else errors.push(`${PREFIX}retries: must be a whole number`);
  }

  const raw: { kind: "http" | "tcp" | "command" | "docker"; input: unknown }[] = [];
  if (get("http") !== undefined) {
    const port = get("port") !== undefined
      ? Number(get("port"))
      : ports.find((p) => p.type === "tcp")?.private_port ?? 80;
    raw.push({ kind: "http", input: { http: { path: get("http") || "/", port } } });
  }
  if (get("tcp") !== undefined) {
    raw.push({ kind: "tcp", input: { tcp: { port: Number(get("tcp")) } } });
  }
  if (get("cmd") !== undefined) {
    let argv: unknown = get("cmd");
    try {
      argv = JSON.parse(get("cmd"));
    } catch {
      // Not JSON: kept as the string, which the schema refuses (no shell lines).
    }
    raw.push({ kind: "command", input: { command: { argv } } });
  }
  if (/^(1|true|yes)$/i.test(get("docker") ?? "")) raw.push({ kind: "docker", input: {} });

  return raw.map(({ kind, input }): LabelCheck => {
    if (errors.length) return { ok: false, kind, error: errors.join("; ") };
    const parsed = Fields.safeParse({ ...common, ...(input as object), kind });
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      return { ok: false, kind, error: `${i.path.join(".")}: ${i.message}` };
    }
    try {
      return { ok: true, spec: normalizeCheck(parsed.data) };
    } catch (e) {
      return { ok: false, kind, error: (e as Error).message };
    }
  });
}
