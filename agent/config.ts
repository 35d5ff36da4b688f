import * as z from "zod";
import { DEFAULT_DOCKER_SOCKET } from "../lib/docker/client.ts";

/** What the agent needs to run, from flags first and the environment second. */
export interface AgentConfig {
  /** Origin (and optional path prefix) of the hub, without a trailing slash. */
  hubUrl: string;
  /** Single-use enrollment token; only needed until the host token file exists. */
  enrollToken?: string;
  /** Holds `host-token` (0600) and, where /etc/machine-id is missing, `machine-id`. */
  stateDir: string;
  dockerSocket: string;
  /** Where the machine id is read from (tests point it at a file of their own). */
  machineIdFile: string;
  logLevel: "debug" | "info" | "warn" | "error";
  /** Host sampling interval (ms); 0 turns metrics off. */
  metricsIntervalMs: number;
  /** How often a batch of samples is sent (ms). */
  reportIntervalMs: number;
}

/** Bad flags or environment: the message is one line naming the setting. */
export class AgentConfigError extends Error {}

/** The help text of `--help` and of a bad flag. */
export const USAGE = `Usage: capstan-agent [--hub URL] [--enroll-token TOKEN] [--state-dir DIR]
                     [--docker-socket PATH] [--log-level LEVEL] | --version | --help

  --hub            hub URL (env CAPSTAN_HUB_URL), e.g. https://capstan.example.com
  --enroll-token   single-use enrollment token from "Add host" (env CAPSTAN_ENROLL_TOKEN);
                   needed only until the host token file exists
  --state-dir      state directory (env CAPSTAN_AGENT_DIR, default /var/lib/capstan-agent)
  --docker-socket  Docker Engine socket (env CAPSTAN_DOCKER_SOCKET, default ${DEFAULT_DOCKER_SOCKET})
  --log-level      debug, info, warn or error (env CAPSTAN_AGENT_LOG_LEVEL, default info)

  Metrics: CAPSTAN_METRICS_INTERVAL_MS (sampling, default 1000; 0 turns metrics off),
           CAPSTAN_REPORT_INTERVAL_MS (batches, default 10000)`;

const Schema = z.object({
  hubUrl: z.url({ protocol: /^https?$/ }).refine(
    (u) => !new URL(u).search && !new URL(u).hash,
    "must not have a query or fragment",
  ),
  enrollToken: z.string().regex(/^cape_[\w-]{43}$/, "must look like cape_…").optional(),
  stateDir: z.string().min(1).refine((p) => p.startsWith("/"), "must be an absolute path"),
  dockerSocket: z.string().min(1).refine((p) => p.startsWith("/"), "must be an absolute path"),
  machineIdFile: z.string().min(1),
  logLevel: z.enum(["debug", "info", "warn", "error"]),
  metricsIntervalMs: z.coerce.number().int().refine(
    (n) => n === 0 || (n >= 100 && n <= 600_000),
    "must be 0 or 100-600000",
  ),
  reportIntervalMs: z.coerce.number().int().min(100).max(3_600_000),
});

const NAMES: Record<keyof AgentConfig, string> = {
  hubUrl: "--hub / CAPSTAN_HUB_URL",
  enrollToken: "--enroll-token / CAPSTAN_ENROLL_TOKEN",
  stateDir: "--state-dir / CAPSTAN_AGENT_DIR",
  dockerSocket: "--docker-socket / CAPSTAN_DOCKER_SOCKET",
  machineIdFile: "CAPSTAN_MACHINE_ID_FILE",
  logLevel: "--log-level / CAPSTAN_AGENT_LOG_LEVEL",
  metricsIntervalMs: "CAPSTAN_METRICS_INTERVAL_MS",
  reportIntervalMs: "CAPSTAN_REPORT_INTERVAL_MS",
};

/** The command line's intent: run, or just print something. */
export type AgentCommand = { kind: "version" } | { kind: "help" } | {
  kind: "run";
  config: AgentConfig;
};

const STRING_FLAGS = ["hub", "enroll-token", "state-dir", "docker-socket", "log-level"] as const;
const BOOLEAN_FLAGS: Record<string, "version" | "help"> = {
  "--version": "version",
  "--help": "help",
  "-h": "help",
};
type Flags = Partial<Record<(typeof STRING_FLAGS)[number], string>> & {
  version?: boolean;
  help?: boolean;
};

/**
 * The agent's flags, strictly (as node:util's parseArgs with `strict: true`, which is not used
 * because a `node:` import starts Deno's Node layer, MBs in every agent): `--name value` or
 * `--name=value`, the booleans bare, anything else an error.
 */
function parseFlags(args: string[]): Flags {
  const out: Flags = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      if (i + 1 < args.length) throw new Error(`Unexpected argument '${args[i + 1]}'`);
      break;
    }
    const bool = BOOLEAN_FLAGS[arg];
    if (bool) {
      out[bool] = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") ? arg.slice(2, eq < 0 ? undefined : eq) : undefined;
    const flag = STRING_FLAGS.find((f) => f === name);
    if (!flag) {
      if (!arg.startsWith("-")) throw new Error(`Unexpected argument '${arg}'`);
      throw new Error(`Unknown option '${eq < 0 ? arg : arg.slice(0, eq)}'`);
    }
    if (eq >= 0) out[flag] = arg.slice(eq + 1);
    else if (i + 1 < args.length && !args[i + 1].startsWith("-")) out[flag] = args[++i];
    else throw new Error(`Option '--${flag} <value>' argument missing`);
  }
  return out;
}

/**
 * Parses flags and environment; throws AgentConfigError naming the first bad setting. The
 * environment is read only when needed, so `--version` runs without env permission.
 */
export function parseAgentArgs(
  args: string[],
  readEnv: () => Record<string, string | undefined>,
): AgentCommand {
  let values;
  try {
    values = parseFlags(args);
  } catch (err) {
    throw new AgentConfigError(`agent: ${(err as Error).message}\n${USAGE}`);
  }
  if (values.version) return { kind: "version" };
  if (values.help) return { kind: "help" };
  const env = readEnv();
  const blank = (v: string | undefined) => (v === "" ? undefined : v);
  const raw = {
    hubUrl: blank(values.hub ?? env.CAPSTAN_HUB_URL),
    enrollToken: blank(values["enroll-token"] ?? env.CAPSTAN_ENROLL_TOKEN),
    stateDir: blank(values["state-dir"] ?? env.CAPSTAN_AGENT_DIR) ?? "/var/lib/capstan-agent",
    dockerSocket: blank(values["docker-socket"] ?? env.CAPSTAN_DOCKER_SOCKET) ??
      DEFAULT_DOCKER_SOCKET,
    machineIdFile: blank(env.CAPSTAN_MACHINE_ID_FILE) ?? "/etc/machine-id",
    logLevel: blank(values["log-level"] ?? env.CAPSTAN_AGENT_LOG_LEVEL) ?? "info",
    metricsIntervalMs: blank(env.CAPSTAN_METRICS_INTERVAL_MS) ?? "1000",
    reportIntervalMs: blank(env.CAPSTAN_REPORT_INTERVAL_MS) ?? "10000",
  };
  const r = Schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = String(issue.path[0]) as keyof AgentConfig;
    const hint = raw[key] === undefined ? "is required" : `is invalid: ${issue.message}`;
    // The enrollment token is a secret: named, never echoed.
    throw new AgentConfigError(`agent: ${NAMES[key] ?? key} ${hint}`);
  }
  return { kind: "run", config: { ...r.data, hubUrl: r.data.hubUrl.replace(/\/+$/, "") } };
}
