import * as z from "zod";
import { DockerInputError, imageRef } from "../docker/validate.ts";
import { serviceBody, type ServiceSpec } from "../docker/services.ts";

/**
 * Swarm operations of the closed list: cluster membership, nodes, services and tasks. The hub
 * reaches Swarm only through a manager's agent with these; the agent validates again (the service
 * spec through the same `serviceBody` mapping that builds the engine's request).
 */

const SwarmId = z.string().regex(/^[a-z0-9]{25}$/, "must be a swarm id");
const Addr = z.string().regex(
  /^(?:[0-9.]{7,15}|\[[0-9a-fA-F:]{2,45}\]|[a-zA-Z][a-zA-Z0-9_.-]{0,31})(?::[0-9]{1,5})?$/,
  "must be an IP address or interface name, with an optional port",
);
const LabelValue = z.string().max(1024).refine((s) => !/[\r\n\0]/.test(s), "must be one line");
const NodeLabels = z.record(
  z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.\/-]{0,127}$/, "label keys: letters, digits, _ . / -"),
  LabelValue,
).refine((r) => Object.keys(r).length <= 64, "at most 64 labels");

/** Explains why a wire service spec is invalid, naming the field (for the agent's 400). */
export function serviceSpecProblem(v: unknown): { field: string; message: string } | undefined {
  try {
    serviceBody(v as ServiceSpec);
    return undefined;
  } catch (err) {
    if (err instanceof DockerInputError) return { field: err.field, message: err.message };
    return { field: "spec", message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * A service spec on the wire: the lib/docker ServiceSpec, checked by `serviceBody` (which the
 * agent runs again when it builds the engine's request).
 */
export const WireServiceSpec = z.looseObject({}).superRefine((v, ctx) => {
  const p = serviceSpecProblem(v);
  if (!p) return;
  const path = p.field.split(/[.[\]]+/).filter(Boolean).map((k) => /^\d+$/.test(k) ? Number(k) : k);
  ctx.addIssue({ code: "custom", message: p.message, path });
}).transform((v) => v as unknown as ServiceSpec);

/** Task filters the hub may ask for. */
const TaskFilter = z.object({
  service: z.array(SwarmId).max(100).optional(),
  node: z.array(SwarmId).max(100).optional(),
  label: z.array(z.string().max(300).regex(/^[a-zA-Z0-9_.\/-]+(=[^\0\r\n]*)?$/)).max(8).optional(),
  "desired-state": z.array(z.enum(["running", "shutdown", "accepted"])).max(3).optional(),
});

/** Swarm operations answered once. */
export const SWARM_CALL_OPS = {
  /** This engine's swarm membership (node id, state, manager or not, cluster id). */
  "swarm.state": z.lazy(() => z.object({})),
  "swarm.init": z.lazy(() => z.object({ advertise_addr: Addr, listen_addr: Addr.optional() })),
  /**
   * The join tokens and a manager address (managers only). The answer is a secret: the hub passes
   * it straight to the joining agent and never stores, logs or shows it.
   */
  "swarm.join_tokens": z.lazy(() => z.object({})),
  "swarm.join": z.lazy(() =>
    z.object({
      remote_addrs: z.array(Addr).min(1).max(7),
      // Checked by the Docker client (never echoed in errors).
      token: z.string().max(200),
      advertise_addr: Addr.optional(),
    })
  ),
  "swarm.leave": z.lazy(() => z.object({ force: z.boolean().default(false) })),
  "nodes.list": z.lazy(() => z.object({})),
  "node.update": z.lazy(() =>
    z.object({
      id: SwarmId,
      role: z.enum(["worker", "manager"]).optional(),
      availability: z.enum(["active", "pause", "drain"]).optional(),
      labels: NodeLabels.optional(),
    })
  ),
  "node.remove": z.lazy(() => z.object({ id: SwarmId, force: z.boolean().default(false) })),
  "services.list": z.lazy(() =>
    z.object({
      label: z.array(z.string().max(300).regex(/^[a-zA-Z0-9_.\/-]+(=[^\0\r\n]*)?$/)).max(8)
        .optional(),
    })
  ),
  /**
   * Makes sure an attachable overlay network of this name exists (created when missing, with the
   * labels and, when asked, IPsec encryption); answers its id and whether it was created.
   */
  "swarm.network_ensure": z.lazy(() =>
    z.object({
      name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, "must be a network name"),
      labels: NodeLabels.optional(),
      encrypted: z.boolean().default(false),
    })
  ),
  /**
   * Removes an overlay network Capstan created (it carries the `capstan.org` label; any other is
   * refused); answers whether it was there. The engine refuses while tasks still use it.
   */
  "swarm.network_remove": z.lazy(() =>
    z.object({
      name: z.string().regex(/^capstan_[a-z]{3}_[a-f0-9]{1,32}$/, "must be a Capstan network name"),
    })
  ),
  /**
   * Makes sure a Swarm secret of this name exists (Capstan's: its name starts `capstan_` and it
   * carries the `capstan.org` label), created from `data` (base64) when missing; answers its id.
   * A name is made per secret version, so an existing one already holds that version's value.
   */
  "swarm.secret_ensure": z.lazy(() =>
    z.object({
      name: z.string().regex(/^capstan_[a-z0-9_]{1,55}$/, "must be a Capstan secret name"),
      labels: NodeLabels.refine((l) => Boolean(l["capstan.org"]), "needs the capstan.org label"),
      data: z.string().max(700_000).regex(/^[A-Za-z0-9+/]+={0,2}$/, "must be base64"),
    })
  ),
  /**
   * Removes the Swarm secrets Capstan made for an organization that no service (nor a
   * service's previous spec, kept for Swarm's own rollback) refers to any more.
   */
  "swarm.secrets_prune": z.lazy(() =>
    z.object({
      org: z.string().regex(/^[a-zA-Z0-9-]{1,64}$/, "must be an organization id"),
      /** Names a deployment in progress is about to use. */
      keep: z.array(z.string().max(64)).max(1000).default([]),
      /** Secrets younger than this are kept too (a deployment on another hub may be starting). */
      min_age_s: z.number().int().min(0).max(86_400).default(30),
    })
  ),
  "service.inspect": z.lazy(() => z.object({ id: SwarmId })),
  "service.create": z.lazy(() => z.object({ spec: WireServiceSpec })),
  /** Replaces the spec (a rolling update as its update policy says). */
  "service.update": z.lazy(() => z.object({ id: SwarmId, spec: WireServiceSpec })),
  /** Asks Swarm to go back to the service's previous spec. */
  "service.rollback": z.lazy(() => z.object({ id: SwarmId })),
  "service.remove": z.lazy(() => z.object({ id: SwarmId })),
  /** Sets a replicated service's replica count, leaving the rest of its spec as Swarm has it. */
  "service.scale": z.lazy(() =>
    z.object({ id: SwarmId, replicas: z.number().int().min(0).max(1000) })
  ),
  "tasks.list": z.lazy(() => z.object({ filters: TaskFilter.default({}) })),
  /** The local image's id and repo digests (what a deployment records as resolved). */
  "image.inspect": z.lazy(() =>
    z.object({
      ref: z.string().superRefine((v, ctx) => {
        try {
          imageRef(v);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: (err as Error).message });
        }
      }),
    })
  ),
} as const;

/** Swarm operations that stream. */
export const SWARM_STREAM_OPS = {
  /** Log lines of all the service's tasks, each with its task and node. */
  "service.logs": z.lazy(() =>
    z.object({
      id: SwarmId,
      tail: z.number().int().min(0).max(10_000).default(200),
      follow: z.boolean().default(true),
      timestamps: z.boolean().default(true),
    })
  ),
} as const;
