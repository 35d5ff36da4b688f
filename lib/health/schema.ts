/**
 * Health check input as the API and container labels give it, and the one normalisation every
 * write goes through: a check becomes a kind plus the probe the agent runs (lib/protocol/health.ts).
 * Everything hostile is a 400 naming the field: a shell string where an argument array belongs,
 * CR/LF in a header, a URL that is not http(s), link-local and cloud metadata targets.
 */
import { z } from "zod";
import { CommandProbe, HttpProbe, TcpProbe } from "../protocol/health.ts";
import { ContainerRef } from "../protocol/ops.ts";
import { classifyAddress, METADATA_NAMES } from "../net/outbound.ts";
import { Invalid } from "../errors.ts";
import { ONE_LINE } from "../alerts/schema.ts";
import { urlHostname } from "../net/url_host.ts";

export const CHECK_KINDS = ["http", "tcp", "docker", "command"] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];
export const CHECK_STATES = ["unknown", "healthy", "unhealthy"] as const;
export type CheckState = (typeof CHECK_STATES)[number];

/**
 * Why a probe target may not be used by anyone, or null (loopback and private addresses are a
 * matter of who sets them: rights.ts). Judged as a URL reads the host ("2852039166" is
 * 169.254.169.254).
 */
export function refusedTarget(host: string): string | null {
  const h = urlHostname(host);
  if (METADATA_NAMES.has(h)) return "cloud metadata addresses are not allowed";
  const looksIp = /^[\d.]+$/.test(h) || h.includes(":");
  if (looksIp && classifyAddress(h) === "blocked") {
    return "link-local, metadata and unspecified addresses are not allowed";
  }
  return null;
}

const NOT_SHELL = 'must be an argument array such as ["pg_isready"], not a shell string';

/** HTTP probe input: a port and path on the container, or an absolute http(s) `url`. */
export const HttpInput = z.object({
  url: z.string().max(2048).optional().meta({
    description: "Absolute http(s) URL; its host becomes the probe's target instead of the " +
      "container's address (e.g. http://127.0.0.1:8080/healthz for a host-network container)",
  }),
  scheme: HttpProbe.shape.scheme.optional(),
  host: HttpProbe.shape.host,
  port: HttpProbe.shape.port.optional(),
  path: HttpProbe.shape.path.optional(),
  method: HttpProbe.shape.method,
  expect_status: HttpProbe.shape.expect_status,
  body_contains: HttpProbe.shape.body_contains,
  headers: HttpProbe.shape.headers,
  follow_redirects: HttpProbe.shape.follow_redirects,
}).transform((v, ctx): z.infer<typeof HttpProbe> => {
  const { url, ...rest } = v;
  const probe = { ...rest, scheme: rest.scheme ?? "http", path: rest.path ?? "/" };
  if (url !== undefined) {
    let u: URL | undefined;
    try {
      u = new URL(url);
    } catch {
      ctx.addIssue({ code: "custom", path: ["url"], message: "must be an absolute http(s) URL" });
      return z.NEVER;
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      ctx.addIssue({ code: "custom", path: ["url"], message: "only http and https URLs" });
      return z.NEVER;
    }
    if (u.username || u.password) {
      ctx.addIssue({ code: "custom", path: ["url"], message: "must not carry credentials" });
      return z.NEVER;
    }
    const host = u.hostname.replace(/^\[|\]$/g, "");
    const why = refusedTarget(host);
    if (why) {
      ctx.addIssue({ code: "custom", path: ["url"], message: why });
      return z.NEVER;
    }
    const path = (u.pathname || "/") + u.search;
    if (!/^\/[^\s\0]{0,2047}$/.test(path)) {
      ctx.addIssue({ code: "custom", path: ["url"], message: "has an invalid path" });
      return z.NEVER;
    }
    probe.scheme = u.protocol === "https:" ? "https" : "http";
    probe.host = host;
    probe.port = u.port ? Number(u.port) : probe.scheme === "https" ? 443 : 80;
    probe.path = path;
  }
  if (probe.host !== undefined) {
    const why = refusedTarget(probe.host);
    if (why) {
      ctx.addIssue({ code: "custom", path: ["host"], message: why });
      return z.NEVER;
    }
  }
  if (probe.port === undefined) {
    ctx.addIssue({ code: "custom", path: ["port"], message: "is required (or give a url)" });
    return z.NEVER;
  }
  return probe as z.infer<typeof HttpProbe>;
}).meta({ type: "object" });

/** Command probe input: an argument array; a string anywhere here is refused. */
export const CommandInput = z.object(
  {
    argv: z.array(CommandProbe.shape.argv.element, {
      error: (iss) => (typeof iss.input === "string" ? NOT_SHELL : undefined),
    }).min(1).max(64),
  },
  { error: (iss) => (typeof iss.input === "string" ? NOT_SHELL : undefined) },
);

/** Every field of a check, all optional: creation fills defaults, updates merge over the stored check. */
export const CheckFields = z.object({
  name: z.string().trim().min(1).max(100).regex(ONE_LINE, "must be one line"),
  kind: z.enum(CHECK_KINDS),
  http: HttpInput,
  tcp: TcpProbe,
  command: CommandInput,
  interval_s: z.number().int().min(2).max(86_400),
  timeout_s: z.number().int().min(1).max(300),
  retries: z.number().int().min(1).max(20).meta({
    description: "Consecutive results of the other kind before the state changes",
  }),
  start_delay_s: z.number().int().min(0).max(3600).meta({
    description:
      "Results this long after the check is created or the container starts do not count",
  }),
  enabled: z.boolean(),
}).partial();
export type CheckFields = z.infer<typeof CheckFields>;

/** Body of a create: the container (name or id on a host) and the check. */
export const CheckCreateInput = CheckFields.extend({
  host_id: z.string().regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    "must be a host id",
  ),
  container: ContainerRef.describe("Container name or id on that host"),
  kind: z.enum(CHECK_KINDS),
}).meta({ id: "HealthCheckInput" });

/** Body of an update (any fields; label checks take only `enabled`). */
export const CheckUpdateInput = CheckFields.meta({ id: "HealthCheckUpdate" });

/** A complete, consistent check definition (what is stored, minus identity and state). */
export interface CheckSpec {
  name: string;
  kind: CheckKind;
  /** The probe of the kind (HttpProbe, TcpProbe, CommandProbe) or {} for docker. */
  config: Record<string, unknown>;
  interval_s: number;
  timeout_s: number;
  retries: number;
  start_delay_s: number;
  enabled: boolean;
}

const DEFAULTS = { interval_s: 30, timeout_s: 5, retries: 3, start_delay_s: 0, enabled: true };

/** A readable default name from the probe. */
function defaultName(kind: CheckKind, config: Record<string, unknown>): string {
  switch (kind) {
    case "http": {
      const c = config as z.infer<typeof HttpProbe>;
      return `HTTP ${c.host ? `${c.host}:` : ":"}${c.port}${c.path}`;
    }
    case "tcp":
      return `TCP :${(config as { port: number }).port}`;
    case "command":
      return `Command ${(config as { argv: string[] }).argv[0]}`;
    default:
      return "Docker health";
  }
}

/**
 * Merges parsed input over a base (defaults, or the stored check) and checks the whole; 400 naming
 * the fields. The probe of the kind is required; probes of other kinds are dropped.
 */
export function normalizeCheck(input: CheckFields, base?: CheckSpec): CheckSpec {
  const kind = input.kind ?? base?.kind;
  const fields: Record<string, string> = {};
  if (!kind) throw new Invalid("Invalid check: kind", { kind: "is required" });
  const sameKind = base?.kind === kind;
  let config: Record<string, unknown> = {};
  if (kind !== "docker") {
    const given = input[kind];
    if (given) config = given as Record<string, unknown>;
    else if (sameKind) config = base!.config;
    else fields[kind] = `is required for a ${kind} check`;
  }
  const merged = {
    ...DEFAULTS,
    ...base,
    ...Object.fromEntries(
      ["interval_s", "timeout_s", "retries", "start_delay_s", "enabled", "name"]
        .filter((k) => input[k as keyof CheckFields] !== undefined)
        .map((k) => [k, input[k as keyof CheckFields]]),
    ),
  } as Partial<CheckSpec>;
  if (merged.timeout_s! > merged.interval_s!) fields.timeout_s = "must not exceed interval_s";
  if (Object.keys(fields).length) {
    throw new Invalid(`Invalid check: ${Object.keys(fields).join(", ")}`, fields);
  }
  const name = input.name ?? (sameKind && base ? base.name : defaultName(kind, config));
  return {
    name,
    kind,
    config,
    interval_s: merged.interval_s!,
    timeout_s: merged.timeout_s!,
    retries: merged.retries!,
    start_delay_s: merged.start_delay_s!,
    enabled: merged.enabled!,
  };
}
