/**
 * From a template and a user's values to what provisioning creates: an app spec (services in the
 * template's order, each on the app's and the organization's networks), the secrets it needs and
 * the route that makes it a site.
 *
 * Secret values never enter the spec. A `password` variable, or one Capstan generates, is a
 * secret; an environment variable whose value is exactly `${that_variable}` gets the secret
 * `<APP>_<VARIABLE>` injected as that variable (shared by every service that names it); a value
 * that mixes a secret into other text (`mongodb://app:${db_password}@mongo/app`) becomes a secret
 * of its own, `<APP>_<SERVICE>_<NAME>`, holding the whole string. Using a secret variable anywhere
 * else (a command line) is a problem: it would be visible in the service's spec.
 *
 * Named volumes are the app's own: `<app>_<volume>` on the node, so two sites from one template
 * never share a database directory.
 */
import type { AppSpecInput } from "../apps/spec.ts";
import {
  bytes,
  references,
  seconds,
  type Template,
  type TemplateService,
  valueProblem,
  type Variable,
} from "./format.ts";

/** A value of a variable as the user gave it (form fields arrive as text). */
export type VariableInput = string | number | boolean;

/** A secret provisioning must create before the app is deployed. */
export interface SecretToCreate {
  name: string;
  /** The variable it holds, or the service environment it was composed for. */
  from: string;
  value: string;
}

/** What a template renders to. */
export interface Rendered {
  spec: AppSpecInput;
  secrets: SecretToCreate[];
  /** The site's route target (the first route of the template), when it has one. */
  route?: { service: string; port: number; path: string };
  /** Values used, secrets excluded (recorded with the app, shown on its page). */
  values: Record<string, VariableInput>;
  volumes: string[];
}

/** A value Capstan makes for a `generate` variable. */
export function generateValue(kind: "password" | "hex32" | "uuid"): string {
  if (kind === "uuid") return crypto.randomUUID();
  if (kind === "hex32") {
    return Array.from(
      crypto.getRandomValues(new Uint8Array(16)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
  }
  // 24 characters from a URL- and shell-safe alphabet (no quoting surprises in a connection URL).
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const out: string[] = [];
  while (out.length < 24) {
    for (const b of crypto.getRandomValues(new Uint8Array(32))) {
      // Rejection sampling keeps every character equally likely.
      if (b < 256 - (256 % alphabet.length) && out.length < 24) {
        out.push(alphabet[b % alphabet.length]);
      }
    }
  }
  return out.join("");
}

/** Whether a variable's value is kept as a secret. */
export const isSecretVariable = (v: Variable) => v.type === "password" || Boolean(v.generate);

/** Coerces form text to the variable's type (numbers and booleans arrive as text). */
function coerce(v: Variable, value: VariableInput): VariableInput {
  if (typeof value !== "string") return value;
  if (v.type === "number" && value.trim() !== "" && !Number.isNaN(Number(value))) {
    return Number(value);
  }
  if (v.type === "boolean" && (value === "true" || value === "false")) return value === "true";
  return value;
}

/**
 * Every variable's value: given, else its default, else generated; problems by
 * `variables.<name>` (required and missing, wrong type, pattern).
 */
export function resolveValues(
  t: Template,
  given: Record<string, VariableInput>,
): { values: Record<string, VariableInput>; problems: Record<string, string> } {
  const values: Record<string, VariableInput> = {};
  const problems: Record<string, string> = {};
  for (const name of Object.keys(given)) {
    if (!t.variables.some((v) => v.name === name)) {
      problems[`variables.${name}`] = "this template has no such variable";
    }
  }
  for (const v of t.variables) {
    const raw = given[v.name];
    let value: VariableInput | undefined = raw === undefined || raw === ""
      ? (v.generate ? generateValue(v.generate) : v.default)
      : coerce(v, raw);
    if (value === undefined) {
      if (v.required) {
        problems[`variables.${v.name}`] = "is required";
        continue;
      }
      value = v.type === "number" ? 0 : v.type === "boolean" ? false : "";
    }
    const problem = valueProblem(v, value);
    if (problem) problems[`variables.${v.name}`] = problem;
    else if (v.required && value === "") problems[`variables.${v.name}`] = "is required";
    else values[v.name] = value;
  }
  return { values, problems };
}

/** The secret name of `parts` for an app: letters, digits and _, at most 64 characters. */
export function secretNameFor(app: string, ...parts: string[]): string {
  let name = [app, ...parts].join("_").toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  if (/^\d/.test(name)) name = `_${name}`;
  if (name.length <= 64) return name;
  // Too long: keep the start readable and make the rest unique with a short digest of it.
  let h = 0;
  for (const c of name) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return `${name.slice(0, 55)}_${h.toString(36).toUpperCase().padStart(7, "0").slice(0, 8)}`;
}

/** Replaces `${…}` references; `secret` says what to do with a secret variable's value. */
function substitute(
  text: string,
  lookup: (ref: string) => string,
): string {
  return text.split("$$").map((part) =>
    part.replace(/\$\{([^}]*)\}/g, (_, ref: string) => lookup(ref))
  ).join("$");
}

/** Renders a template for an app named `app` with resolved `values`. */
export function renderTemplate(
  t: Template,
  app: string,
  values: Record<string, VariableInput>,
  opts: { images?: Record<string, string> } = {},
): { rendered: Rendered; problems: Record<string, string> } {
  const vars = new Map(t.variables.map((v) => [v.name, v]));
  const secretVar = (name: string) => {
    const v = vars.get(name);
    return v ? isSecretVariable(v) : false;
  };
  const problems: Record<string, string> = {};
  const secrets = new Map<string, SecretToCreate>();
  const volumes = new Set<string>();

  const plain = (ref: string): string => {
    const [head, tail] = ref.split(".", 2);
    if (tail === "host") return head;
    if (tail === "port") return String(t.services[head]?.port ?? "");
    return String(values[head] ?? "");
  };

  const services = Object.entries(t.services).map(([name, s]) => {
    const at = (...p: string[]) => ["services", name, ...p].join(".");
    const env: Record<string, string> = {};
    const secretRefs: { secret: string; env: string }[] = [];
    for (const [key, raw] of Object.entries(s.environment ?? {})) {
      if (typeof raw !== "string") {
        env[key] = String(raw);
        continue;
      }
      const refs = references(raw);
      const hidden = refs.filter((r) => !r.includes(".") && secretVar(r));
      if (!hidden.length) {
        env[key] = substitute(raw, plain);
        continue;
      }
      const whole = /^\$\{([a-z][a-z0-9_]*)\}$/.exec(raw);
      const secretName = whole ? secretNameFor(app, whole[1]) : secretNameFor(app, name, key);
      if (!secrets.has(secretName)) {
        secrets.set(secretName, {
          name: secretName,
          from: whole ? whole[1] : `${name}.${key}`,
          value: substitute(raw, plain),
        });
      }
      secretRefs.push({ secret: secretName, env: key });
    }
    const visible: [string, string[]][] = [
      ["image", [s.image]],
      ["command", s.command ?? []],
      ["entrypoint", s.entrypoint ?? []],
      ["healthcheck", s.healthcheck?.test ?? []],
    ];
    for (const [field, texts] of visible) {
      if (texts.some((a) => references(a).some((r) => !r.includes(".") && secretVar(r)))) {
        problems[at(field)] = "a password or generated variable can only be used in environment";
      }
    }
    const mounts = (s.volumes ?? []).map((v) => {
      const [vol, target, ro] = v.split(":");
      const volName = `${app}_${vol}`;
      volumes.add(volName);
      return { name: volName, target, read_only: ro === "ro" };
    });
    const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    return {
      name,
      image: (() => {
        const image = substitute(s.image, plain);
        return opts.images?.[image] ?? image;
      })(),
      // Compose's entrypoint is the spec's command, Compose's command the spec's args.
      ...(s.entrypoint ? { command: s.entrypoint.map((a) => substitute(a, plain)) } : {}),
      ...(s.command ? { args: s.command.map((a) => substitute(a, plain)) } : {}),
      env,
      secrets: secretRefs,
      volumes: mounts,
      replicas: s.replicas ?? 1,
      depends_on: deps,
      ...(s.port !== undefined && t.routes.some((r) => r.service === name)
        // A routed service publishes its port on the node it runs on; Swarm picks the number
        // and the proxy follows the task wherever it runs.
        ? { ports: [{ target: s.port, mode: "host" as const }] }
        : {}),
      ...(s.healthcheck
        ? {
          health_check: healthCheck({
            ...s.healthcheck,
            test: s.healthcheck.test.map((a, i) => (i === 0 ? a : substitute(a, plain))),
          }),
        }
        : {}),
      ...(s.resources ? { resources: resources(s.resources) } : {}),
      ...(s.stop_grace_period !== undefined ? { stop_grace_s: seconds(s.stop_grace_period) } : {}),
      labels: { "capstan.template.service": name },
    };
  });

  const first = t.routes[0];
  const route = first
    ? {
      service: first.service,
      port: first.port ?? t.services[first.service].port!,
      path: first.path,
    }
    : undefined;
  const shown = Object.fromEntries(
    Object.entries(values).filter(([k]) => !secretVar(k)),
  );
  return {
    rendered: {
      spec: { services },
      secrets: [...secrets.values()],
      route,
      values: shown,
      volumes: [...volumes],
    },
    problems,
  };
}

function healthCheck(h: NonNullable<TemplateService["healthcheck"]>) {
  const cmd = h.test[0] === "CMD-SHELL" ? ["sh", "-c", h.test[1]] : h.test.slice(1);
  return {
    cmd,
    ...(h.interval !== undefined ? { interval_s: seconds(h.interval) } : {}),
    ...(h.timeout !== undefined ? { timeout_s: seconds(h.timeout) } : {}),
    ...(h.retries !== undefined ? { retries: h.retries } : {}),
    ...(h.start_period !== undefined ? { start_period_s: seconds(h.start_period) } : {}),
  };
}

function resources(r: NonNullable<TemplateService["resources"]>) {
  const one = (x: { cpus?: number | string; memory?: number | string } | undefined) =>
    x
      ? {
        ...(x.cpus !== undefined ? { cpus: Number(x.cpus) } : {}),
        ...(x.memory !== undefined ? { memory_bytes: bytes(x.memory) } : {}),
      }
      : undefined;
  return { limits: one(r.limits), reservations: one(r.reservations) };
}
