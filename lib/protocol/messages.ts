import * as z from "zod";
import { HealthResultsMessage } from "./health.ts";

/** Version of the hub↔agent wire protocol; bumped on incompatible changes. */
export const PROTOCOL_VERSION = 1;
/** Largest frame either side accepts (log chunks are batched below this). */
export const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * WebSocket close codes the hub uses with agents (4000–4999 is the application range). The agent
 * acts on them: a refused token or a removed host stops it (retrying cannot help and would only
 * hammer the hub); everything else is a reason to reconnect with backoff.
 */
export const CLOSE = {
  /** Generic "disconnected by the hub": reconnect with backoff. */
  DISCONNECTED: 4001,
  /** The token was presented by another machine than the one it is bound to: stop. */
  TOKEN_REFUSED: 4003,
  /** The host was removed: its token no longer works; stop. */
  HOST_REMOVED: 4004,
  /** No pong in time. */
  PING_TIMEOUT: 4008,
  /** A newer connection of the same host took over. */
  REPLACED: 4009,
  /** The token was rotated and delivered over this connection: reconnect now with the new one. */
  TOKEN_ROTATED: 4010,
  /** No (valid) hello within the time limit, or an unsupported protocol version. */
  BAD_HELLO: 4011,
} as const;

/** Close codes after which an agent must stop instead of reconnecting. */
export const FATAL_CLOSE_CODES: readonly number[] = [CLOSE.TOKEN_REFUSED, CLOSE.HOST_REMOVED];

/** Error shape carried in results: an HTTP-like status so the hub can map it to its one error type. */
export const WireError = z.object({
  status: z.number().int(),
  code: z.string().max(64),
  message: z.string().max(2000),
  field: z.string().max(200).optional(),
});
export type WireError = z.infer<typeof WireError>;

const Id = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** Messages the hub sends to an agent. */
export const HubMessage = z.discriminatedUnion("t", [
  z.object({ t: z.literal("call"), id: Id, op: z.string().max(64), params: z.unknown() }),
  z.object({ t: z.literal("cancel"), id: Id }),
  z.object({ t: z.literal("ping"), at: z.number() }),
  z.object({ t: z.literal("welcome"), host_id: z.string(), protocol: z.number().int() }),
  // A new host token (an admin rotated it): the agent stores it and answers "rotated"; the hub then
  // closes with CLOSE.TOKEN_ROTATED and the agent reconnects with the new token at once.
  z.object({ t: z.literal("rotate"), token: z.string().regex(/^caph_[\w-]{43}$/) }),
]);
export type HubMessage = z.infer<typeof HubMessage>;

/** Facts an agent reports about itself when it connects. */
export const Hello = z.object({
  t: z.literal("hello"),
  protocol: z.number().int(),
  agent_version: z.string().max(64),
  machine_id: z.string().regex(/^[A-Za-z0-9-]{8,128}$/),
  hostname: z.string().max(255),
  /**
   * The restic on the host (volume snapshots, lib/protocol/snapshots.ts), null when it has none;
   * absent from agents older than snapshots (then the hub keeps what it knew).
   */
  restic_version: z.string().max(64).nullable().optional(),
  engine: z.object({
    docker_version: z.string().max(64),
    api_version: z.string().max(16),
    os: z.string().max(255),
    kernel: z.string().max(255),
    arch: z.string().max(64),
    cpus: z.number().int(),
    memory_bytes: z.number(),
    containers_running: z.number().int(),
    containers_total: z.number().int(),
    images: z.number().int(),
    storage_driver: z.string().max(64),
    docker_root_dir: z.string().max(4096),
    name: z.string().max(255),
  }).nullable(),
});
export type Hello = z.infer<typeof Hello>;

/** A container as the hub keeps it (a summary of the Engine's list entry). */
export const ContainerState = z.object({
  id: z.string().regex(/^[a-f0-9]{64}$/),
  name: z.string().max(256),
  image: z.string().max(512),
  image_id: z.string().max(128),
  command: z.string().max(4096),
  state: z.string().max(32),
  status: z.string().max(256),
  created: z.number(),
  labels: z.record(z.string(), z.string()),
  ports: z.array(z.object({
    private_port: z.number().int(),
    public_port: z.number().int().optional(),
    type: z.string(),
    ip: z.string().optional(),
  })),
});
export type ContainerState = z.infer<typeof ContainerState>;

/** Messages an agent sends to the hub. */
export const AgentMessage = z.discriminatedUnion("t", [
  Hello,
  // ok: true carries data; ok: false carries error (one variant: discriminated unions need unique tags).
  z.object({
    t: z.literal("result"),
    id: Id,
    ok: z.boolean(),
    data: z.unknown().optional(),
    error: WireError.optional(),
  }),
  z.object({ t: z.literal("chunk"), id: Id, data: z.unknown() }),
  z.object({ t: z.literal("end"), id: Id, error: WireError.optional() }),
  // A Docker event about a container (already reduced to what the hub uses).
  z.object({
    t: z.literal("event"),
    event: z.object({
      type: z.string().max(32),
      action: z.string().max(64),
      id: z.string().max(128),
      name: z.string().max(256).optional(),
      time_nano: z.number(),
      container: ContainerState.optional(),
    }),
  }),
  // The full container list: sent after (re)connecting and after an event gap, to reconcile.
  z.object({
    t: z.literal("snapshot"),
    containers: z.array(ContainerState).max(10_000),
    engine: Hello.shape.engine,
  }),
  z.object({ t: z.literal("pong"), at: z.number() }),
  // Answer to "rotate": ok when the new token is safely on disk.
  z.object({ t: z.literal("rotated"), ok: z.boolean() }),
  // Health check results (lib/protocol/health.ts).
  HealthResultsMessage,
]);
export type AgentMessage = z.infer<typeof AgentMessage>;

/** Parses a frame, or returns undefined when it is not valid JSON of the schema. */
export function parseFrame<T>(schema: z.ZodType<T>, text: unknown): T | undefined {
  if (typeof text !== "string" || text.length > MAX_FRAME_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = schema.safeParse(value);
  return r.success ? r.data : undefined;
}
