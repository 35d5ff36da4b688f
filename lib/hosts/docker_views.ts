/**
 * What the API and pages show of a host's images, networks and volumes, made from the Engine's
 * answers as the agent relays them. Pure functions, so the rules (which networks are protected,
 * what "in use" means, how pull progress reads) are unit-tested without an engine.
 */
import type { ImageSummary, NetworkInspect, PullProgress, Volume } from "../docker/types.ts";

/** A container using a network or volume (the agent adds these to its lists). */
export interface ResourceUser {
  id: string;
  name: string;
  state: string;
}

/** Networks the engine creates itself; removing them would break every container on the host. */
export const SYSTEM_NETWORKS: ReadonlySet<string> = new Set([
  "bridge",
  "host",
  "none",
  "docker_gwbridge",
  "ingress",
]);

/** Whether a network is one of the engine's own (by name, or by what it is when renamed). */
export function isSystemNetwork(
  n: Pick<NetworkInspect, "Name"> & Partial<NetworkInspect>,
): boolean {
  return SYSTEM_NETWORKS.has(n.Name) || n.Ingress === true ||
    n.Options?.["com.docker.network.bridge.default_bridge"] === "true" ||
    n.Driver === "host" || n.Driver === "null";
}

/** An image as listed. */
export interface ImageView {
  id: string;
  tags: string[];
  digests: string[];
  size: number;
  /** Milliseconds since the epoch. */
  created: number;
  /** Containers (any state) on the host using this image, from the container cache. */
  containers: number;
  dangling: boolean;
}

/** Images of a host, newest first, with how many containers use each. */
export function imageViews(images: ImageSummary[], usage: Map<string, number>): ImageView[] {
  return images.map((i) => {
    const tags = (i.RepoTags ?? []).filter((t) => t !== "<none>:<none>");
    return {
      id: i.Id,
      tags,
      digests: (i.RepoDigests ?? []).filter((d) => d !== "<none>@<none>"),
      size: i.Size,
      created: i.Created * 1000,
      containers: usage.get(i.Id) ?? 0,
      dangling: tags.length === 0,
    };
  }).sort((a, b) => b.created - a.created || a.id.localeCompare(b.id));
}

/** The id of the image a reference names in a list (a tag, a digest, or an id or its prefix). */
export function findImage(images: ImageSummary[], ref: string): ImageSummary | undefined {
  const hex = ref.replace(/^sha256:/, "");
  const tag = /:[^/]+$/.test(ref) || ref.includes("@") ? ref : `${ref}:latest`;
  return images.find((i) =>
    (i.RepoTags ?? []).includes(tag) || (i.RepoDigests ?? []).includes(ref) ||
    (/^[a-f0-9]{12,64}$/.test(hex) && i.Id.replace(/^sha256:/, "").startsWith(hex))
  );
}

/** A network as listed. */
export interface NetworkView {
  id: string;
  name: string;
  driver: string;
  scope: string;
  subnet: string | null;
  gateway: string | null;
  internal: boolean;
  /** Milliseconds since the epoch, or null when the engine gave none. */
  created: number | null;
  /** One of the engine's own networks: never removed through Capstan. */
  protected: boolean;
  containers: ResourceUser[];
  labels: Record<string, string>;
}

/** Networks of a host, system networks first, then by name. */
export function networkViews(
  networks: (NetworkInspect & { UsedBy?: ResourceUser[] })[],
): NetworkView[] {
  return networks.map((n) => {
    const ipam = n.IPAM?.Config?.[0];
    return {
      id: n.Id,
      name: n.Name,
      driver: n.Driver,
      scope: n.Scope,
      subnet: ipam?.Subnet ?? null,
      gateway: ipam?.Gateway ?? null,
      internal: Boolean(n.Internal),
      created: Date.parse(n.Created) || null,
      protected: isSystemNetwork(n),
      containers: n.UsedBy ?? [],
      labels: n.Labels ?? {},
    };
  }).sort((a, b) => Number(b.protected) - Number(a.protected) || a.name.localeCompare(b.name));
}

/** The network a name or (short) id refers to. */
export function findNetwork<N extends { id: string; name: string }>(
  networks: N[],
  ref: string,
): N | undefined {
  return networks.find((n) => n.name === ref) ??
    (/^[a-f0-9]{12,64}$/.test(ref) ? networks.find((n) => n.id.startsWith(ref)) : undefined);
}

/** A volume as listed. */
export interface VolumeView {
  name: string;
  driver: string;
  mountpoint: string;
  scope: string;
  created: number | null;
  /** Bytes, when sizes were asked for and the engine computed them; otherwise null. */
  size: number | null;
  containers: ResourceUser[];
  labels: Record<string, string>;
}

/** Volumes of a host by name. */
export function volumeViews(volumes: (Volume & { UsedBy?: ResourceUser[] })[]): VolumeView[] {
  return volumes.map((v) => {
    const size = v.UsageData?.Size;
    return {
      name: v.Name,
      driver: v.Driver,
      mountpoint: v.Mountpoint,
      scope: v.Scope,
      created: Date.parse(v.CreatedAt ?? "") || null,
      size: typeof size === "number" && size >= 0 ? size : null,
      containers: v.UsedBy ?? [],
      labels: v.Labels ?? {},
    };
  }).sort((a, b) => a.name.localeCompare(b.name));
}

/** One line of the NDJSON a pull streams to the client. */
export type PullEvent =
  | { type: "progress"; id?: string; status: string; current?: number; total?: number }
  | { type: "dropped"; count: number }
  | { type: "done"; ref: string; status?: string }
  | { type: "error"; status: number; code: string; message: string };

/** Reads one chunk of the agent's pull stream (engine progress, or a count of dropped chunks). */
export function pullEvent(chunk: unknown): PullEvent | undefined {
  if (!chunk || typeof chunk !== "object") return undefined;
  const c = chunk as PullProgress & { dropped?: number };
  if (typeof c.dropped === "number") return { type: "dropped", count: c.dropped };
  if (typeof c.status !== "string") return undefined;
  const out: PullEvent = { type: "progress", status: c.status.slice(0, 200) };
  // "Pulling from repo" carries the tag as its id; it is about the image, not a layer.
  if (typeof c.id === "string" && !c.status.startsWith("Pulling from ")) {
    out.id = c.id.slice(0, 100);
  }
  const cur = c.progressDetail?.current;
  const total = c.progressDetail?.total;
  if (typeof cur === "number" && Number.isFinite(cur)) out.current = cur;
  if (typeof total === "number" && Number.isFinite(total)) out.total = total;
  return out;
}
