import * as z from "zod";

/**
 * Health checks on the wire (issue 6). The hub owns the checks; it hands each agent the complete
 * set for its host with the `health.sync` call (after every connect and on every change), and the
 * agent runs them close to the containers and sends results back in `health` messages.
 *
 * The hub keeps the state machine (retries before a state change, alerts): the agent only measures.
 * Results are best effort: a batch lost with a dropped connection is a gap in the history, never
 * a wrong state, because the next result moves the state on.
 */

/** Status codes a check accepts: [low, high] inclusive ranges, e.g. [[200, 299], [301, 301]]. */
export const StatusRanges = z.array(
  z.tuple([z.number().int().min(100).max(599), z.number().int().min(100).max(599)])
    .refine(([lo, hi]) => lo <= hi, "range low must be ≤ high"),
).min(1).max(16);

/** One header line: no CR, LF or NUL anywhere (header injection). */
const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, "not a header name");
const HeaderValue = z.string().max(1024).refine(
  (v) => !/[\r\n\0]/.test(v),
  "header values must not contain CR, LF or NUL",
);

/** An HTTP request made by the agent to the container (its address on its first network). */
export const HttpProbe = z.object({
  method: z.enum(["GET", "HEAD"]).default("GET"),
  scheme: z.enum(["http", "https"]).default("http"),
  /**
   * Address to connect to instead of the container's own (e.g. 127.0.0.1 for a container on the
   * host network). Link-local and cloud metadata addresses are refused on both sides.
   */
  host: z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/, "must be a host name or IP address")
    .optional(),
  port: z.number().int().min(1).max(65535),
  path: z.string().regex(/^\/[^\s\0]{0,2047}$/, "must be a path starting with /").default("/"),
  expect_status: StatusRanges.default([[200, 399]]),
  body_contains: z.string().max(1024).optional(),
  headers: z.record(HeaderName, HeaderValue).refine(
    (h) => Object.keys(h).length <= 32,
    "at most 32 headers",
  ).default({}),
  follow_redirects: z.boolean().default(false),
  /**
   * An admin allowed `host` to be a loopback or private address (set by the hub, never taken from
   * users). Without it the agent connects to such an address only when it is the container's own.
   */
  allow_private: z.boolean().optional(),
});

/** A TCP connect to a port of the container. */
export const TcpProbe = z.object({ port: z.number().int().min(1).max(65535) });

/**
 * A command run inside the container through the Engine exec API, as an argument array. A single
 * string (a shell line) is refused by the schema: there is no shell anywhere on this path.
 */
export const CommandProbe = z.object({
  argv: z.array(z.string().min(1).max(4096).refine((s) => !s.includes("\0"), "no NUL"))
    .min(1).max(64),
});

/** One check as the agent runs it. */
export const HealthCheckSpec = z.object({
  id: z.string().uuid(),
  container_id: z.string().regex(/^[a-f0-9]{64}$/),
  kind: z.enum(["http", "tcp", "docker", "command"]),
  interval_s: z.number().int().min(1).max(86_400),
  timeout_s: z.number().int().min(1).max(300),
  start_delay_s: z.number().int().min(0).max(3600),
  http: HttpProbe.optional(),
  tcp: TcpProbe.optional(),
  command: CommandProbe.optional(),
});
export type HealthCheckSpec = z.infer<typeof HealthCheckSpec>;

/** Parameters of the `health.sync` call: the whole desired set for this host (replaces the old). */
export const HealthSync = z.object({ checks: z.array(HealthCheckSpec).max(5000) });
export type HealthSync = z.infer<typeof HealthSync>;

/** Largest command output kept per result. */
export const MAX_CHECK_OUTPUT_BYTES = 4096;

/** One measurement. */
export const HealthResult = z.object({
  check_id: z.string().uuid(),
  /** When the attempt started (agent clock, ms since the epoch). */
  at: z.number().int(),
  ok: z.boolean(),
  /** Time to the answer (HTTP: headers and body check; TCP: connect; command: exit). */
  response_ms: z.number().min(0).max(3_600_000).nullable(),
  status_code: z.number().int().nullable().optional(),
  /** Command checks: the exit code. */
  exit_code: z.number().int().nullable().optional(),
  /** Why it failed, one line (timeout, connection refused, unexpected status 503, …). */
  error: z.string().max(500).nullable().optional(),
  /** Command checks: combined output, capped at MAX_CHECK_OUTPUT_BYTES. */
  output: z.string().max(MAX_CHECK_OUTPUT_BYTES * 2).nullable().optional(),
  /** The command wrote more than MAX_CHECK_OUTPUT_BYTES: `output` is its beginning. */
  output_truncated: z.boolean().optional(),
});
export type HealthResult = z.infer<typeof HealthResult>;

/** The agent→hub message carrying results (sent at most every second, at most 1000 per message). */
export const HealthResultsMessage = z.object({
  t: z.literal("health"),
  results: z.array(HealthResult).min(1).max(1000),
});
export type HealthResultsMessage = z.infer<typeof HealthResultsMessage>;
