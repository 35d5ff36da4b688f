/**
 * Schemas and helpers shared by the Docker resource endpoints (containers, images, networks,
 * volumes). Names and ids are validated with the protocol's own schemas, so what the API accepts
 * is exactly what the agent would accept, and a bad value is a 400 naming the field before any
 * host is looked up.
 */
import { z } from "../../../lib/http/openapi.ts";
import { ContainerRef, ImageRef, NetworkName, VolumeName } from "../../../lib/protocol/ops.ts";
import { HostId } from "../../_schemas/docker.ts";
import { jsonResponse, OrgParam } from "./schemas.ts";

/** Path parameters of per-host endpoints. */
export const HostParams = OrgParam.extend({ hostId: HostId });
/** Path parameters naming a container (name or hex id). */
export const ContainerParams = HostParams.extend({ id: ContainerRef });
/** Path parameters naming an image (reference or id). */
export const ImageParams = HostParams.extend({
  // describe(), not openapi(): protocol schemas may be built before zod-openapi extends zod.
  ref: ImageRef.describe(
    "Image reference or id, URL-encoded (`capstan-test%2Fbusybox%3Alatest`)",
  ),
});
/** Path parameters naming a network (name or id). */
export const NetworkParams = HostParams.extend({ id: NetworkName });
/** Path parameters naming a volume. */
export const VolumeParams = HostParams.extend({ name: VolumeName });

/** Query booleans as scripts and forms send them. */
export const QueryBool = z.enum(["true", "false", "1", "0"]).default("false").transform((v) =>
  v === "true" || v === "1"
);

/** `204 No Content`. */
export const NO_CONTENT = { description: "Done" } as const;

/** Documented errors of calls that reach a host's agent. */
export const AGENT_ERRORS = {
  409: jsonResponse(z.any(), "Conflict with the resource's state (in use, protected, exists)"),
  503: jsonResponse(z.any(), "The host's agent is not connected, or did not answer in time"),
} as const;

const ResourceUser = z.object({ id: z.string(), name: z.string(), state: z.string() });

/** A container as the cross-host list returns it. */
export const ContainerSchema = z.object({
  host_id: z.string(),
  host_name: z.string(),
  id: z.string(),
  name: z.string(),
  image: z.string(),
  image_id: z.string(),
  command: z.string(),
  state: z.string(),
  status: z.string(),
  created: z.number().openapi({ description: "ms since the epoch" }),
  labels: z.record(z.string(), z.string()),
  ports: z.array(z.object({
    private_port: z.number(),
    public_port: z.number().optional(),
    type: z.string(),
    ip: z.string().optional(),
  })),
  updated_at: z.number().openapi({ description: "When the hub last heard of it, ms" }),
}).openapi("Container");

/** An image of a host with its in-use count. */
export const ImageSchema = z.object({
  id: z.string(),
  tags: z.array(z.string()),
  digests: z.array(z.string()),
  size: z.number(),
  created: z.number(),
  containers: z.number().int().openapi({ description: "Containers on the host using it" }),
  dangling: z.boolean(),
}).openapi("Image");

/** A network of a host with its attached containers. */
export const NetworkSchema = z.object({
  id: z.string(),
  name: z.string(),
  driver: z.string(),
  scope: z.string(),
  subnet: z.string().nullable(),
  gateway: z.string().nullable(),
  internal: z.boolean(),
  created: z.number().nullable(),
  protected: z.boolean().openapi({ description: "A system network; cannot be removed" }),
  containers: z.array(ResourceUser),
  labels: z.record(z.string(), z.string()),
}).openapi("Network");

/** A volume of a host with the containers using it. */
export const VolumeSchema = z.object({
  name: z.string(),
  driver: z.string(),
  mountpoint: z.string(),
  scope: z.string(),
  created: z.number().nullable(),
  size: z.number().nullable().openapi({ description: "Bytes; only with sizes=true" }),
  containers: z.array(ResourceUser),
  labels: z.record(z.string(), z.string()),
}).openapi("Volume");
