/**
 * The template format: one YAML document with metadata, the variables a user fills in (or Capstan
 * generates), a Compose-like subset of services and the routes that make it a site. Parsed with
 * `npm:yaml` and checked with zod; every problem names its dotted path and the line and column it
 * is on, and unknown keys are problems, never ignored (a typo must not silently drop a setting).
 *
 *     id: wordpress
 *     name: WordPress
 *     category: cms
 *     version: 1.0.0
 *     variables:
 *       - { name: db_password, label: Database password, type: password, generate: password }
 *     services:
 *       db:
 *         image: mariadb:11
 *         environment: { MARIADB_PASSWORD: "${db_password}" }
 *         healthcheck: { test: [CMD, healthcheck.sh, --connect], interval: 5s }
 *       wordpress:
 *         image: wordpress:6
 *         environment: { WORDPRESS_DB_HOST: "${db.host}:3306", WORDPRESS_DB_PASSWORD: "${db_password}" }
 *         depends_on: { db: { condition: service_healthy } }
 *         port: 80
 *     routes:
 *       - { service: wordpress }
 *
 * References in the image, command, entrypoint, environment and health check: `${variable}`,
 * `${service.host}` (the service's name on the app's network), `${service.port}` (its `port`),
 * and `$$` for a literal `$`.
 */
import { isMap, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { ServiceName } from "../apps/spec.ts";

/** A problem in a template, where it is. */
export interface TemplateProblem {
  /** Dotted path (`services.wordpress.image`), `""` for the document. */
  path: string;
  line: number;
  column: number;
  message: string;
}

/** The largest template accepted (a template is configuration, not data). */
export const MAX_TEMPLATE_BYTES = 64 * 1024;

const VarName = z.string().regex(
  /^[a-z][a-z0-9_]{0,31}$/,
  "variable names are 1–32 lowercase letters, digits or _, starting with a letter",
);
const EnvKey = z.string().regex(
  /^[A-Za-z_][A-Za-z0-9_]{0,127}$/,
  "environment names are letters, digits and _, not starting with a digit",
);
const Text = (max: number) =>
  z.string().max(max).refine((s) => !s.includes("\0"), "must not contain NUL");

/** `10s`, `1m30s`, `500ms`, or a number of seconds. */
export const Duration = z.union([
  z.number().min(0).max(86_400),
  z.string().regex(/^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/, "must be a duration like 10s or 1m30s"),
]);

/** Seconds of a Duration. */
export function seconds(d: z.infer<typeof Duration>): number {
  if (typeof d === "number") return d;
  let total = 0;
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    const n = Number(m[1]);
    total += m[2] === "ms" ? n / 1000 : m[2] === "s" ? n : m[2] === "m" ? n * 60 : n * 3600;
  }
  return total;
}

/** `512M`, `1G`, `256Mi`, or bytes. */
export const Memory = z.union([
  z.number().int().positive(),
  z.string().regex(/^\d+(?:\.\d+)?\s*(?:[kKmMgG]i?[bB]?|[bB])?$/, "must be a size like 512M or 1G"),
]);

/** Bytes of a Memory. */
export function bytes(m: z.infer<typeof Memory>): number {
  if (typeof m === "number") return m;
  const r = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)/.exec(m)!;
  const unit = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[r[2].toLowerCase()] ?? 1;
  return Math.round(Number(r[1]) * unit);
}

const Resources = z.object({
  cpus: z.union([z.number().positive().max(1024), z.string().regex(/^\d+(?:\.\d+)?$/)]).optional(),
  memory: Memory.optional(),
}).strict();

export const Variable = z.object({
  name: VarName,
  label: Text(100),
  description: Text(500).optional(),
  type: z.enum(["string", "number", "boolean", "select", "domain", "password"]).default("string"),
  default: z.union([z.string().max(4096), z.number(), z.boolean()]).optional(),
  required: z.boolean().default(false),
  /** A regular expression the whole value must match (strings, passwords, domains). */
  pattern: z.string().max(200).refine((p) => {
    try {
      new RegExp(p, "v");
      return true;
    } catch {
      return false;
    }
  }, "must be a valid regular expression").optional(),
  options: z.array(Text(200)).min(1).max(100).optional(),
  /** Capstan makes the value (stored as a secret, prefilled and hidden on the deploy form). */
  generate: z.enum(["password", "hex32", "uuid"]).optional(),
}).strict();
export type Variable = z.output<typeof Variable>;

export const TemplateService = z.object({
  image: Text(512),
  /** Replaces the image's command (argv; a plain string is refused: no shell is implied). */
  command: z.array(Text(4096)).min(1).max(128).optional(),
  /** Replaces the image's entrypoint (argv). */
  entrypoint: z.array(Text(4096)).min(1).max(128).optional(),
  environment: z.record(EnvKey, z.union([Text(32_768), z.number(), z.boolean()])).optional(),
  /** Named volumes: `name:/path` or `name:/path:ro`. */
  volumes: z.array(
    z.string().regex(
      /^[a-z0-9][a-z0-9_-]{0,40}:\/[^\0\r\n:]{0,1000}(?::ro)?$/,
      "volumes are name:/path or name:/path:ro (named volumes only)",
    ),
  ).max(16).optional(),
  depends_on: z.union([
    z.array(ServiceName).max(16),
    z.record(
      ServiceName,
      z.object({ condition: z.enum(["service_healthy", "service_started"]) }).strict(),
    ),
  ]).optional(),
  healthcheck: z.object({
    /** `[CMD, prog, args…]` or `[CMD-SHELL, "a shell line"]` (the image's shell, asked for). */
    test: z.array(Text(4096)).min(2).max(64).refine(
      (t) => t[0] === "CMD" || (t[0] === "CMD-SHELL" && t.length === 2),
      "must be [CMD, program, args…] or [CMD-SHELL, line]",
    ),
    interval: Duration.optional(),
    timeout: Duration.optional(),
    retries: z.number().int().min(0).max(100).optional(),
    start_period: Duration.optional(),
  }).strict().optional(),
  resources: z.object({
    limits: Resources.optional(),
    reservations: Resources.optional(),
  }).strict().optional(),
  /** The port the service answers HTTP on (a route's default; `${service.port}`). */
  port: z.number().int().min(1).max(65535).optional(),
  replicas: z.number().int().min(0).max(20).optional(),
  stop_grace_period: Duration.optional(),
}).strict();
export type TemplateService = z.output<typeof TemplateService>;

export const TemplateRoute = z.object({
  service: ServiceName,
  /** The service's container port (default: the service's `port`). */
  port: z.number().int().min(1).max(65535).optional(),
  path: z.string().regex(/^\/[A-Za-z0-9._~\/-]{0,200}$/, "must be a path like /").default("/"),
}).strict();

/**
 * Ids a template cannot take: `/o/<org>/templates/new` and `…/import` are pages of their own, so
 * a template with such an id could not be reached at `/o/<org>/templates/<id>`.
 */
export const RESERVED_IDS: readonly string[] = ["new", "import"];

export const Template = z.object({
  id: z.string().regex(
    /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/,
    "ids are 1–40 lowercase letters, digits or dashes",
  ).refine(
    (id) => !RESERVED_IDS.includes(id),
    `${RESERVED_IDS.join(" and ")} are reserved (they name the template pages' own paths)`,
  ),
  name: Text(100),
  description: Text(1000).default(""),
  category: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "categories are lowercase words"),
  tags: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, "tags are lowercase words")).max(
    16,
  ).default([]),
  icon: Text(64).optional(),
  version: z.string().regex(/^\d+\.\d+\.\d+$/, "versions are like 1.2.0"),
  docs: z.url({ protocol: /^https$/ }).max(500).optional(),
  /** What the user gets and which variables matter (plain text, shown on the details page). */
  readme: Text(8000).optional(),
  variables: z.array(Variable).max(32).default([]),
  services: z.record(ServiceName, TemplateService).refine(
    (s) => Object.keys(s).length >= 1 && Object.keys(s).length <= 16,
    "a template has 1 to 16 services",
  ),
  routes: z.array(TemplateRoute).max(4).default([]),
}).strict();
export type Template = z.output<typeof Template>;

/** `${…}` references in a string (`$$` escapes a dollar). */
export function references(s: string): string[] {
  const out: string[] = [];
  for (const m of s.replaceAll("$$", "").matchAll(/\$\{([^}]*)\}/g)) out.push(m[1]);
  return out;
}

/** Strings of a service where references are allowed, with their dotted paths. */
export function serviceStrings(name: string, s: TemplateService): [string, string][] {
  const out: [string, string][] = [];
  const at = (...p: (string | number)[]) => ["services", name, ...p].join(".");
  out.push([at("image"), s.image]);
  s.command?.forEach((a, i) => out.push([at("command", i), a]));
  s.healthcheck?.test.forEach((a, i) => out.push([at("healthcheck", "test", i), a]));
  s.entrypoint?.forEach((a, i) => out.push([at("entrypoint", i), a]));
  for (const [k, v] of Object.entries(s.environment ?? {})) {
    if (typeof v === "string") out.push([at("environment", k), v]);
  }
  return out;
}

/** Rules across fields: references resolve, dependencies exist and can be waited for, routes. */
function templateProblems(t: Template): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const vars = new Map(t.variables.map((v) => [v.name, v]));
  const services = t.services;
  const seen = new Set<string>();
  t.variables.forEach((v, i) => {
    const at = (f: string) => `variables.${i}.${f}`;
    if (seen.has(v.name)) out.push({ path: at("name"), message: `${v.name} is declared twice` });
    seen.add(v.name);
    if (v.name in services) {
      out.push({ path: at("name"), message: `${v.name} is also a service name` });
    }
    if (v.type === "select" && !v.options) {
      out.push({ path: at("options"), message: "a select needs options" });
    }
    if (v.generate && !["string", "password"].includes(v.type)) {
      out.push({ path: at("generate"), message: "only string and password values are generated" });
    }
    if (v.default !== undefined) {
      const problem = valueProblem(v, v.default);
      if (problem) out.push({ path: at("default"), message: problem });
    }
  });
  for (const [name, s] of Object.entries(services)) {
    for (const [path, text] of serviceStrings(name, s)) {
      for (const ref of references(text)) {
        const [head, tail] = ref.split(".", 2);
        if (tail === undefined) {
          if (!vars.has(head)) out.push({ path, message: `no variable named ${head}` });
        } else if (!(head in services)) {
          out.push({ path, message: `no service named ${head}` });
        } else if (tail !== "host" && tail !== "port") {
          out.push({ path, message: `\${${ref}}: a service gives only .host and .port` });
        } else if (tail === "port" && services[head].port === undefined) {
          out.push({ path, message: `service ${head} declares no port` });
        }
      }
    }
    const deps = Array.isArray(s.depends_on)
      ? s.depends_on.map((d) => [d, "service_started"] as const)
      : Object.entries(s.depends_on ?? {}).map(([d, c]) => [d, c.condition] as const);
    for (const [dep, condition] of deps) {
      const path = `services.${name}.depends_on.${dep}`;
      if (dep === name) out.push({ path, message: "a service cannot depend on itself" });
      else if (!(dep in services)) out.push({ path, message: `no service named ${dep}` });
      else if (condition === "service_healthy" && !services[dep].healthcheck) {
        out.push({ path, message: `${dep} has no healthcheck to wait for` });
      }
    }
  }
  t.routes.forEach((r, i) => {
    const s = services[r.service];
    if (!s) out.push({ path: `routes.${i}.service`, message: `no service named ${r.service}` });
    else if (r.port === undefined && s.port === undefined) {
      out.push({ path: `routes.${i}.port`, message: `service ${r.service} declares no port` });
    }
  });
  return out;
}

/** Why `value` does not fit variable `v`, or undefined. */
export function valueProblem(v: Variable, value: unknown): string | undefined {
  switch (v.type) {
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) return "must be a number";
      return undefined;
    case "boolean":
      if (typeof value !== "boolean") return "must be true or false";
      return undefined;
    case "select":
      if (typeof value !== "string" || !v.options?.includes(value)) {
        return `must be one of ${v.options?.join(", ")}`;
      }
      return undefined;
  }
  if (typeof value !== "string") return "must be text";
  if (value.length > 4096) return "must be at most 4096 characters";
  if (value.includes("\0")) return "must not contain NUL";
  if (
    v.type === "domain" && value !== "" &&
    !/^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(value)
  ) return "must be a domain name like shop.example.com";
  if (v.pattern && value !== "" && !new RegExp(`^(?:${v.pattern})$`, "v").test(value)) {
    return `must match ${v.pattern}`;
  }
  return undefined;
}

/** Parses and checks a template; problems carry their line and column. */
export function parseTemplate(
  text: string,
): { template: Template; problems: [] } | { template?: undefined; problems: TemplateProblem[] } {
  if (new TextEncoder().encode(text).length > MAX_TEMPLATE_BYTES) {
    return {
      problems: [{
        path: "",
        line: 1,
        column: 1,
        message: `a template is at most ${MAX_TEMPLATE_BYTES / 1024} KB`,
      }],
    };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    return {
      problems: doc.errors.slice(0, 20).map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { path: "", line: pos.line, column: pos.col, message: e.message.split("\n")[0] };
      }),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { problems: [{ path: "", line: 1, column: 1, message: (err as Error).message }] };
  }
  /** Where a path is in the document: the nearest node that exists. */
  const where = (path: (string | number)[]) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number] } | undefined;
      const key = n > 0 ? keyNode(path.slice(0, n)) : undefined;
      const range = key?.range ?? node?.range;
      if (range) return lines.linePos(range[0]);
    }
    return { line: 1, col: 1 };
  };
  /** The key node of a map entry (an unknown key is reported where the key is). */
  const keyNode = (path: (string | number)[]) => {
    const parent = doc.getIn(path.slice(0, -1), true);
    if (!isMap(parent)) return undefined;
    const pair = parent.items.find((p) =>
      (p.key as { value?: unknown } | null)?.value === path.at(-1)
    );
    return pair?.key as { range?: [number, number] } | undefined;
  };
  const parsed = Template.safeParse(data);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.slice(0, 50).flatMap((issue) => {
        // An unknown key: one problem per key, at the key.
        const keys = issue.code === "unrecognized_keys" ? issue.keys : [undefined];
        return keys.map((k) => {
          const path = k === undefined ? issue.path : [...issue.path, k];
          const pos = where(path as (string | number)[]);
          return {
            path: path.join("."),
            line: pos.line,
            column: pos.col,
            message: k === undefined ? issue.message : `unknown key ${k}`,
          };
        });
      }),
    };
  }
  const rules = templateProblems(parsed.data);
  if (rules.length) {
    return {
      problems: rules.map((p) => {
        const path = p.path.split(".").map((x) => (/^\d+$/.test(x) ? Number(x) : x));
        const pos = where(path);
        return { ...p, line: pos.line, column: pos.col };
      }),
    };
  }
  return { template: parsed.data, problems: [] };
}
