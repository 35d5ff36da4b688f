/**
 * Request schemas of the Docker resources that the API and the pages both validate with, so a
 * form and a script are held to the same rules. Names and ids use the protocol's own schemas:
 * what is accepted here is exactly what the agent would accept.
 */
import { z } from "../../lib/http/openapi.ts";
import { CONTAINER_STATES, parseLabelFilter } from "../../lib/hosts/container_list.ts";
import { Labels, NetworkName, VolumeName } from "../../lib/protocol/ops.ts";

/** Host ids are UUIDs. */
export const HOST_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A host id (validated before any lookup). */
export const HostId = z.string().regex(HOST_ID_RE, "must be a host id");

/** A container name or hex id (Docker's name rule covers both), capped at 128 characters. */
const CONTAINER_REF_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** Path parameters naming one container on one host (streams, logs, the container page). */
export const ContainerRefParams = z.object({
  hostId: z.string().regex(HOST_ID_RE, "must be a host id").openapi({
    param: { name: "hostId", in: "path" },
  }),
  id: z.string().regex(CONTAINER_REF_RE, "must be a container name or a hex id").openapi({
    param: { name: "id", in: "path" },
    example: "3f4e8a9b2c1d",
  }),
});

/** Filters of the cross-host container list (the API and the containers page). */
export const ContainerListQuery = z.object({
  host: HostId.optional(),
  state: z.enum(CONTAINER_STATES).optional(),
  q: z.string().trim().max(200).optional().openapi({
    description: "Case-insensitive substring of the name or image",
  }),
  label: z.string().max(1200).optional().transform((v, ctx) => {
    if (v === undefined || v === "") return undefined;
    const parsed = parseLabelFilter(v);
    if (!parsed) {
      ctx.addIssue({ code: "custom", message: "must be key or key=value" });
      return z.NEVER;
    }
    return parsed;
  }).openapi({ type: "string", description: "`key` (present) or `key=value`" }),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

/** Body of a network create (the API; the page's form leaves out labels). */
export const NetworkCreateInput = z.object({
  name: NetworkName,
  driver: z.enum(["bridge", "overlay", "macvlan"]).default("bridge"),
  subnet: z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, "must be CIDR like 10.10.0.0/24")
    .optional(),
  gateway: z.union([z.ipv4(), z.ipv6()], { error: "must be an IP address" }).optional(),
  parent: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/, "must be an interface name")
    .optional(),
  labels: Labels.optional(),
});

/** Body of a volume create. */
export const VolumeCreateInput = z.object({ name: VolumeName, labels: Labels.optional() });
