import { z } from "zod";
import { join, resolve } from "node:path";
import { parseCaddyEndpoint } from "./proxy/caddy_admin.ts";
import { normalizeHostname } from "./proxy/spec.ts";

const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/**
 * V8's old space for the hub, MB, as `deno task start` sets it. The hub's live data is tens of MB;
 * V8's own default (a quarter of the machine's memory, up to 4 GB) lets garbage pile up between
 * collections under load.
 */
export const DEFAULT_MAX_HEAP_MB = 256;

const envFields = z.object({
  CAPSTAN_HOST: z.string().min(1).default("127.0.0.1"),
  CAPSTAN_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  CAPSTAN_DATA_DIR: z.string().min(1).default("./data"),
  DATABASE_URL: z.string().regex(
    /^(postgres(ql)?:\/\/|sqlite:)/,
    "must start with postgres://, postgresql:// or sqlite:",
  )
    .optional(),
  CAPSTAN_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  CAPSTAN_LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  CAPSTAN_SECRET_KEY: z.string().regex(
    /^[A-Za-z0-9+/_-]{43,}={0,2}$/,
    "must be at least 32 bytes, base64",
  ).optional(),
  CAPSTAN_SECRET_KEY_PREVIOUS: z.string().regex(
    /^[A-Za-z0-9+/_-]{43,}={0,2}(,[A-Za-z0-9+/_-]{43,}={0,2})*$/,
    "must be a comma-separated list of keys, each at least 32 bytes, base64",
  ).optional(),
  CAPSTAN_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  CAPSTAN_LOCAL_AGENT: z.enum(["0", "1"], "must be 0 or 1").default("1"),
  CAPSTAN_DOCKER_SOCKET: z.string().regex(/^\//, "must be an absolute path").default(
    "/var/run/docker.sock",
  ),
  CAPSTAN_METRICS_RAW_HOURS: z.coerce.number().int().min(1).max(24 * 90).default(24),
  CAPSTAN_METRICS_MINUTE_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  CAPSTAN_METRICS_HOUR_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  CAPSTAN_METRICS_MAX_SERIES_PER_HOST: z.coerce.number().int().min(1).max(1_000_000).default(5000),
  CAPSTAN_ALLOW_PRIVATE_TARGETS: z.enum(["0", "1"], "must be 0 or 1").default("0"),
  CAPSTAN_ALERTS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  CAPSTAN_HEALTH_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  CAPSTAN_MAX_HEAP_MB: z.coerce.number().int().min(64).max(65536).optional(),
  CAPSTAN_CADDY_ADMIN: z.string().refine((v) => {
    try {
      parseCaddyEndpoint(v);
      return true;
    } catch {
      return false;
    }
  }, "must be unix:/absolute/path or http://127.0.0.1:PORT (loopback only)").optional(),
  CAPSTAN_CADDY: z.enum(["run", "off"], "must be run or off").default("off"),
  CAPSTAN_CADDY_BINARY: z.string().min(1).default("caddy"),
  CAPSTAN_PROXY_HTTP_PORT: z.coerce.number().int().min(1).max(65535).default(80),
  CAPSTAN_PROXY_HTTPS_PORT: z.coerce.number().int().min(1).max(65535).default(443),
  CAPSTAN_DNS_SERVERS: z.string().regex(
    /^[0-9a-fA-F.:\[\]]+(,[0-9a-fA-F.:\[\]]+)*$/,
    "must be a comma-separated list of addresses like 1.1.1.1,[2606:4700::1111]:53",
  ).optional(),
  CAPSTAN_APPS_DOMAIN: z.string().refine(
    (v) => normalizeHostname(v) === v && !v.startsWith("*."),
    "must be a lower-case domain name like apps.example.com",
  ).optional(),
  CAPSTAN_WORKER_HEARTBEAT_INTERVAL: z.coerce.number().int("must be whole seconds")
    .min(1, "must be at least 1 (seconds)").max(3600).default(30),
  CAPSTAN_WORKER_HEARTBEAT_TIMEOUT: z.coerce.number().int("must be whole seconds").min(2)
    .max(86_400).default(120),
  CAPSTAN_APPS_KEEP_IMAGES: z.coerce.number().int().min(0).max(1000).default(5),
  CAPSTAN_SECRETS_KEEP_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  CAPSTAN_BILLING_GRACE_HOURS: z.coerce.number().int().min(0).max(24 * 90).default(24),
  CAPSTAN_QUOTA_GRACE_HOURS: z.coerce.number().int().min(0).max(24 * 90).default(72),
  CAPSTAN_QUOTA_VIOLATION_ACTION: z.enum(
    ["block", "stop_lowest_priority"],
    "must be block or stop_lowest_priority",
  ).default("block"),
  CAPSTAN_BILLING_GRACE_ACTION: z.enum(["block", "stop_apps"], "must be block or stop_apps")
    .default("block"),
  CAPSTAN_BILLING_ENABLED: z.enum(["true", "false", "1", "0"], "must be true or false").default(
    "true",
  ),
  CAPSTAN_TEMPLATE_IMAGES: z.string().regex(/^\//, "must be an absolute path").optional(),
  CAPSTAN_BUILD_BASE_IMAGES: z.string().regex(/^\//, "must be an absolute path").optional(),
  CAPSTAN_SNAPSHOT_DIR: z.string().min(1).optional(),
  /** restic check's --read-data-subset in each target's verification ("10%", "1/5", "500M"; "0": none). */
  CAPSTAN_SNAPSHOT_VERIFY_READ_DATA: z.string().regex(
    /^(?:0|\d{1,6}\/\d{1,6}|\d{1,3}(?:\.\d{1,3})?%|\d{1,12}[kKmMgGtT]?)$/,
    'must be like "10%", "1/5" or "500M", or "0" to read no data',
  ).default("10%"),
  CAPSTAN_BUILDS_PER_WORKER: z.coerce.number().int().min(1).max(64).default(1),
  CAPSTAN_BUILD_TIMEOUT_S: z.coerce.number().int().min(10).max(4 * 3600).default(1800),
  CAPSTAN_BUILD_LOG_MAX_BYTES: z.coerce.number().int().min(4096).max(64 * 1024 * 1024)
    .default(5 * 1024 * 1024),
  CAPSTAN_BUILD_MAX_CHECKOUT_BYTES: z.coerce.number().int().min(1024).max(2 ** 40)
    .default(1024 ** 3),
  CAPSTAN_NIX_CACHE_URL: z.string().url().optional(),
  CAPSTAN_REGISTRY_URL: z.string().regex(
    /^(?:https?:\/\/)?[a-zA-Z0-9.-]+(?::\d{1,5})?(?:\/[a-z0-9._-]+)*\/?$/,
    "must be a registry address like registry.example.com or 127.0.0.1:5000",
  ).optional(),
  CAPSTAN_REGISTRY_USERNAME: z.string().max(256).optional(),
  CAPSTAN_REGISTRY_PASSWORD_FILE: z.string().regex(/^\//, "must be an absolute path").optional(),
  // Wallet top-ups through PayPal (lib/billing/payments/paypal.ts): all three or none.
  CAPSTAN_PAYPAL_CLIENT_ID: z.string().max(256).regex(/^[\w.-]+$/, "must be a PayPal client id")
    .optional(),
  CAPSTAN_PAYPAL_CLIENT_SECRET: z.string().max(256).optional(),
  CAPSTAN_PAYPAL_WEBHOOK_ID: z.string().max(50).regex(
    /^[a-zA-Z0-9]+$/,
    "must be the webhook's id from PayPal's developer dashboard (letters and digits)",
  ).optional(),
  /**
   * Sandbox by default: an install configured by mistake takes no real money; going live is the
   * explicit https://api-m.paypal.com. Plain http only to this machine (the tests' stand-in).
   */
  CAPSTAN_PAYPAL_API_BASE: z.string().regex(
    /^(?:https:\/\/[a-z0-9.-]+(?::\d{1,5})?|http:\/\/(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?)\/?$/,
    "must be https://api-m.paypal.com or https://api-m.sandbox.paypal.com",
  ).default("https://api-m.sandbox.paypal.com"),
});

const envSchema = envFields.superRefine((e, ctx) => {
  if (e.CAPSTAN_CADDY === "run" && e.CAPSTAN_CADDY_ADMIN) {
    ctx.addIssue({
      code: "custom",
      path: ["CAPSTAN_CADDY_ADMIN"],
      message: "names a Caddy of your own; unset it to let the hub run Caddy (CAPSTAN_CADDY=run)",
    });
  }
  const paypal = [
    "CAPSTAN_PAYPAL_CLIENT_ID",
    "CAPSTAN_PAYPAL_CLIENT_SECRET",
    "CAPSTAN_PAYPAL_WEBHOOK_ID",
  ] as const;
  const paypalSet = paypal.filter((k) => e[k] !== undefined);
  if (paypalSet.length && paypalSet.length < paypal.length) {
    const missing = paypal.find((k) => e[k] === undefined)!;
    ctx.addIssue({
      code: "custom",
      path: [missing],
      message: `is needed with ${paypalSet.join(" and ")} (PayPal top-ups need all three)`,
    });
  }
  // Checked together: a timeout within one interval would call every agent unhealthy between pings.
  if (e.CAPSTAN_WORKER_HEARTBEAT_TIMEOUT <= e.CAPSTAN_WORKER_HEARTBEAT_INTERVAL) {
    ctx.addIssue({
      code: "custom",
      path: ["CAPSTAN_WORKER_HEARTBEAT_TIMEOUT"],
      message:
        `must be greater than CAPSTAN_WORKER_HEARTBEAT_INTERVAL (${e.CAPSTAN_WORKER_HEARTBEAT_INTERVAL} s)`,
    });
  }
});

const SECRET_VARS = new Set([
  "CAPSTAN_SECRET_KEY",
  "CAPSTAN_SECRET_KEY_PREVIOUS",
  "DATABASE_URL",
  "CAPSTAN_PAYPAL_CLIENT_SECRET",
]);

/** Validated runtime configuration of the hub. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** `sqlite:<path>` or a postgres URL. */
  databaseUrl: string;
  /** Origin users reach the hub at; used for links, CSRF checks and the Secure cookie flag. */
  publicUrl: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /** Base64 secret key, or undefined to generate one into the data dir. */
  secretKey?: string;
  /**
   * Keys the secret key replaced (CAPSTAN_SECRET_KEY_PREVIOUS): they decrypt what is not yet
   * re-wrapped during a key rotation, never encrypt.
   */
  secretKeyPrevious: string[];
  auditRetentionDays: number;
  /** Run the embedded agent for the local engine when its socket exists (CAPSTAN_LOCAL_AGENT). */
  localAgent: boolean;
  /** The local Docker Engine's socket, for the embedded agent. */
  dockerSocket: string;
  /** How long metric tiers are kept: raw samples (hours), minute and hour rollups (days). */
  metricsRetention: { rawHours: number; minuteDays: number; hourDays: number };
  /**
   * Series with a sample in the raw window a host may have; new series past it are dropped and
   * counted on the host's page (CAPSTAN_METRICS_MAX_SERIES_PER_HOST).
   */
  metricsMaxSeriesPerHost: number;
  /** Outbound notifications may target loopback and private addresses (CAPSTAN_ALLOW_PRIVATE_TARGETS). */
  allowPrivateTargets: boolean;
  /** How long resolved alerts and delivery records are kept (CAPSTAN_ALERTS_RETENTION_DAYS). */
  alertsRetentionDays: number;
  /** How long health check results are kept (CAPSTAN_HEALTH_RETENTION_DAYS). */
  healthRetentionDays: number;
  /**
   * Images of each app's last N deployments stay on the nodes; older ones are removed once no
   * app's last N deployments use them (CAPSTAN_APPS_KEEP_IMAGES; 0 keeps every image).
   */
  appsKeepImages: number;
  /** Days a secret's replaced versions are kept for rollbacks (CAPSTAN_SECRETS_KEEP_DAYS). */
  secretsKeepDays: number;
  /**
   * Usage metering and hourly billing run (lib/billing; CAPSTAN_BILLING_ENABLED, default true):
   * off, no usage is recorded and no hour is billed.
   */
  billingEnabled: boolean;
  /**
   * Hours an org whose wallet fell below zero may still deploy before deploys are blocked
   * (lib/billing/wallet.ts; CAPSTAN_BILLING_GRACE_HOURS, default 24; 0 blocks at once).
   */
  billingGraceHours: number;
  /**
   * Wallet top-ups through PayPal Orders v2 (CAPSTAN_PAYPAL_*), or undefined: admins top up by
   * hand only. The secret is handed to the provider and shown nowhere.
   */
  paypal?: { clientId: string; clientSecret: string; webhookId: string; apiBase: string };
  /**
   * Hours an org may use more than a quota allows (a limit lowered below what runs) before new
   * deploys are blocked (lib/quotas/watch.ts; CAPSTAN_QUOTA_GRACE_HOURS, default 72; 0 at once).
   */
  quotaGraceHours: number;
  /**
   * What a quota violation's end of grace does besides blocking deploys: `stop_lowest_priority`
   * also stops the org's running apps, lowest priority first, until the resource fits
   * (lib/enforcement; CAPSTAN_QUOTA_VIOLATION_ACTION, default `block`: deploys only).
   */
  quotaViolationAction: "block" | "stop_lowest_priority";
  /**
   * What the end of a wallet's grace period does besides blocking deploys: `stop_apps` also stops
   * the org's running apps (lib/enforcement; CAPSTAN_BILLING_GRACE_ACTION, default `block`).
   */
  billingGraceAction: "block" | "stop_apps";
  /**
   * A JSON file of image references to replace when a template is deployed
   * (`{"mariadb:11": "my-registry/mariadb:11"}`): a mirror, or stand-ins where no registry is
   * reachable (CAPSTAN_TEMPLATE_IMAGES).
   */
  templateImages?: string;
  /** Builds from Git (lib/builds). */
  builds: {
    /** A JSON file of base images for detected build plans (`{"node": "…"}`). */
    baseImages?: string;
    perWorker: number;
    timeoutS: number;
    logMaxBytes: number;
    maxCheckoutBytes: number;
    nixCacheUrl?: string;
    /**
     * Where built images go so every node can pull them; unset, images are copied to the nodes
     * through their agents. The password is read from a file (never an environment value).
     */
    registry?: { url: string; username?: string; passwordFile?: string };
  };
  /** Volume snapshots (lib/snapshots). */
  snapshots: {
    /**
     * The folder of filesystem targets that name none, on every host (the agent creates it):
     * `<it>/<org id>` is the org's restic repository. Default `<data dir>/snapshots`.
     */
    dir: string;
    /** Data read by each verification's `restic check` (--read-data-subset); undefined: none. */
    verifyReadData?: string;
  };
  /**
   * V8's old space, MB, when CAPSTAN_MAX_HEAP_MB is set (main.ts applies it).
   * Unset, the hub keeps what it was started with (`deno task start`: DEFAULT_MAX_HEAP_MB).
   */
  maxHeapMb?: number;
  /** The ingress: Caddy's admin API (unset: routes are kept, nothing is loaded), its ports and the apps' default domain. */
  proxy: {
    /** The hub runs Caddy itself (CAPSTAN_CADDY=run), with this binary. */
    runCaddy: boolean;
    caddyBinary: string;
    /** Caddy's admin API: the hub-run Caddy's socket, CAPSTAN_CADDY_ADMIN, or none. */
    caddyAdmin?: string;
    httpPort: number;
    httpsPort: number;
    appsDomain?: string;
    /** DNS servers for custom-domain checks (CAPSTAN_DNS_SERVERS); empty: the system's. */
    dnsServers: string[];
  };
  /**
   * Agent heartbeats (CAPSTAN_WORKER_HEARTBEAT_INTERVAL and _TIMEOUT, seconds): the hub pings each
   * agent every `intervalMs` over its connection; one silent for `timeoutMs` is unhealthy.
   */
  workerHeartbeat: { intervalMs: number; timeoutMs: number };
}

/** Thrown when an environment variable is invalid; the message is one line naming the variable. */
export class ConfigError extends Error {}

/** Parses configuration from an environment map, or throws ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = Deno.env.toObject()): Config {
  const relevant = Object.fromEntries(
    Object.keys(envFields.shape).map((k) => [k, env[k] === "" ? undefined : env[k]]),
  );
  const parsed = envSchema.safeParse(relevant);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0]);
    // Secrets and URLs that may carry a password are named, never echoed.
    const shown = SECRET_VARS.has(name)
      ? "(hidden)"
      : env[name] === undefined
      ? "(unset)"
      : JSON.stringify(env[name]);
    throw new ConfigError(`config: ${name}=${shown} is invalid: ${issue.message}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.CAPSTAN_DATA_DIR);
  const displayHost = e.CAPSTAN_HOST === "0.0.0.0" || e.CAPSTAN_HOST === "::"
    ? "127.0.0.1"
    : e.CAPSTAN_HOST;
  const hostPart = displayHost.includes(":") ? `[${displayHost}]` : displayHost;
  return {
    host: e.CAPSTAN_HOST,
    port: e.CAPSTAN_PORT,
    dataDir,
    databaseUrl: e.DATABASE_URL ?? `sqlite:${join(dataDir, "capstan.db")}`,
    publicUrl: (e.CAPSTAN_PUBLIC_URL ?? `http://${hostPart}:${e.CAPSTAN_PORT}`).replace(/\/+$/, ""),
    logLevel: e.CAPSTAN_LOG_LEVEL,
    secretKey: e.CAPSTAN_SECRET_KEY,
    secretKeyPrevious: e.CAPSTAN_SECRET_KEY_PREVIOUS?.split(",") ?? [],
    auditRetentionDays: e.CAPSTAN_AUDIT_RETENTION_DAYS,
    localAgent: e.CAPSTAN_LOCAL_AGENT === "1",
    dockerSocket: e.CAPSTAN_DOCKER_SOCKET,
    metricsRetention: {
      rawHours: e.CAPSTAN_METRICS_RAW_HOURS,
      minuteDays: e.CAPSTAN_METRICS_MINUTE_DAYS,
      hourDays: e.CAPSTAN_METRICS_HOUR_DAYS,
    },
    metricsMaxSeriesPerHost: e.CAPSTAN_METRICS_MAX_SERIES_PER_HOST,
    allowPrivateTargets: e.CAPSTAN_ALLOW_PRIVATE_TARGETS === "1",
    alertsRetentionDays: e.CAPSTAN_ALERTS_RETENTION_DAYS,
    healthRetentionDays: e.CAPSTAN_HEALTH_RETENTION_DAYS,
    maxHeapMb: e.CAPSTAN_MAX_HEAP_MB,
    proxy: {
      runCaddy: e.CAPSTAN_CADDY === "run",
      caddyBinary: e.CAPSTAN_CADDY_BINARY,
      caddyAdmin: e.CAPSTAN_CADDY === "run"
        ? `unix:${join(dataDir, "caddy", "admin.sock")}`
        : e.CAPSTAN_CADDY_ADMIN,
      httpPort: e.CAPSTAN_PROXY_HTTP_PORT,
      httpsPort: e.CAPSTAN_PROXY_HTTPS_PORT,
      appsDomain: e.CAPSTAN_APPS_DOMAIN,
      dnsServers: e.CAPSTAN_DNS_SERVERS?.split(",") ?? [],
    },
    workerHeartbeat: {
      intervalMs: e.CAPSTAN_WORKER_HEARTBEAT_INTERVAL * 1000,
      timeoutMs: e.CAPSTAN_WORKER_HEARTBEAT_TIMEOUT * 1000,
    },
    appsKeepImages: e.CAPSTAN_APPS_KEEP_IMAGES,
    secretsKeepDays: e.CAPSTAN_SECRETS_KEEP_DAYS,
    billingEnabled: e.CAPSTAN_BILLING_ENABLED === "true" || e.CAPSTAN_BILLING_ENABLED === "1",
    billingGraceHours: e.CAPSTAN_BILLING_GRACE_HOURS,
    paypal: e.CAPSTAN_PAYPAL_CLIENT_ID && e.CAPSTAN_PAYPAL_CLIENT_SECRET &&
        e.CAPSTAN_PAYPAL_WEBHOOK_ID
      ? {
        clientId: e.CAPSTAN_PAYPAL_CLIENT_ID,
        clientSecret: e.CAPSTAN_PAYPAL_CLIENT_SECRET,
        webhookId: e.CAPSTAN_PAYPAL_WEBHOOK_ID,
        apiBase: e.CAPSTAN_PAYPAL_API_BASE.replace(/\/+$/, ""),
      }
      : undefined,
    quotaGraceHours: e.CAPSTAN_QUOTA_GRACE_HOURS,
    quotaViolationAction: e.CAPSTAN_QUOTA_VIOLATION_ACTION,
    billingGraceAction: e.CAPSTAN_BILLING_GRACE_ACTION,
    templateImages: e.CAPSTAN_TEMPLATE_IMAGES,
    snapshots: {
      dir: e.CAPSTAN_SNAPSHOT_DIR ? resolve(e.CAPSTAN_SNAPSHOT_DIR) : join(dataDir, "snapshots"),
      verifyReadData: e.CAPSTAN_SNAPSHOT_VERIFY_READ_DATA === "0"
        ? undefined
        : e.CAPSTAN_SNAPSHOT_VERIFY_READ_DATA,
    },
    builds: {
      baseImages: e.CAPSTAN_BUILD_BASE_IMAGES,
      perWorker: e.CAPSTAN_BUILDS_PER_WORKER,
      timeoutS: e.CAPSTAN_BUILD_TIMEOUT_S,
      logMaxBytes: e.CAPSTAN_BUILD_LOG_MAX_BYTES,
      maxCheckoutBytes: e.CAPSTAN_BUILD_MAX_CHECKOUT_BYTES,
      nixCacheUrl: e.CAPSTAN_NIX_CACHE_URL,
      registry: e.CAPSTAN_REGISTRY_URL
        ? {
          url: e.CAPSTAN_REGISTRY_URL.replace(/^https?:\/\//, "").replace(/\/$/, ""),
          username: e.CAPSTAN_REGISTRY_USERNAME,
          passwordFile: e.CAPSTAN_REGISTRY_PASSWORD_FILE,
        }
        : undefined,
    },
  };
}
