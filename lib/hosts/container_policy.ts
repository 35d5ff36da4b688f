/**
 * Who may create which containers. Most options only affect the container itself; a few hand it
 * the host (privileged mode, the host's network or PID namespace, devices, added capabilities,
 * bind mounts of host paths), so only organization admins and owners (platform admins act as
 * owners) may set them, and never through a read-scoped token.
 */
import { roleAtLeast } from "../auth/principal.ts";
import type { OrgRole, TokenScope } from "../db/schema.ts";
import { Forbidden } from "../errors.ts";
import type { ContainerCreateSpec } from "../protocol/ops.ts";

/** The caller as the policy sees it: the organization role and, for tokens, the scope. */
export interface PolicyCaller {
  role: OrgRole;
  tokenScope?: TokenScope;
}

/** Whether the caller may use the powerful Docker options (org admin or owner, write access). */
export function isDockerAdmin(caller: PolicyCaller): boolean {
  return caller.tokenScope !== "read" && roleAtLeast(caller.role, "admin");
}

type PowerfulField = "privileged" | "network_mode" | "pid_mode" | "devices" | "cap_add" | "binds";

/** The options of a spec that reach outside the container, each with why it is restricted. */
export function powerfulFields(
  spec: Partial<ContainerCreateSpec>,
): Partial<Record<PowerfulField, string>> {
  const out: Partial<Record<PowerfulField, string>> = {};
  if (spec.privileged) out.privileged = "privileged containers control the whole host";
  if (spec.network_mode === "host") out.network_mode = "the host network exposes every host port";
  if (spec.pid_mode === "host") out.pid_mode = "the host PID namespace shows every host process";
  if (spec.devices?.length) out.devices = "devices give direct access to host hardware";
  if (spec.cap_add?.length) out.cap_add = "added capabilities widen what the container may do";
  if (spec.binds?.length) out.binds = "bind mounts expose host files";
  return out;
}

/** Network modes Docker knows by name rather than as a network. */
export const BUILTIN_NETWORK_MODES: ReadonlySet<string> = new Set(["bridge", "host", "none"]);

/**
 * The network a `network_mode` value names on a host, as the engine resolves it: a full id, then
 * a name, then a unique id prefix. A network given by id is the same network as by its name, so
 * the host network's id means `host` (and is as powerful); undefined when nothing matches.
 */
export function resolveNetworkMode<N extends { id: string; name: string; driver: string }>(
  mode: string,
  networks: N[],
): N | undefined {
  const byId = networks.find((n) => n.id === mode);
  if (byId) return byId;
  const byName = networks.find((n) => n.name === mode);
  if (byName) return byName;
  const prefixed = /^[a-f0-9]+$/.test(mode) ? networks.filter((n) => n.id.startsWith(mode)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** The spec as the create policy judges it: a network mode naming the host network is `host`. */
export function effectiveSpec<N extends { id: string; name: string; driver: string }>(
  spec: Partial<ContainerCreateSpec>,
  networks: N[],
): Partial<ContainerCreateSpec> {
  const mode = spec.network_mode;
  if (!mode || BUILTIN_NETWORK_MODES.has(mode)) return spec;
  const n = resolveNetworkMode(mode, networks);
  return n?.driver === "host" || n?.name === "host" ? { ...spec, network_mode: "host" } : spec;
}

/**
 * Throws 403 naming each powerful option a caller below admin tried to set; admins pass. The
 * check runs on the validated spec before anything reaches the agent.
 */
export function assertMayCreate(caller: PolicyCaller, spec: Partial<ContainerCreateSpec>): void {
  if (caller.tokenScope === "read") {
    throw new Forbidden("This token has read scope; creating needs write scope");
  }
  const found = powerfulFields(spec);
  const names = Object.keys(found);
  if (names.length === 0 || isDockerAdmin(caller)) return;
  const fields: Record<string, string> = {};
  for (const [k, why] of Object.entries(found)) {
    fields[k] = `only organization admins may set this: ${why}`;
  }
  throw new Forbidden(
    `Only organization admins may create containers with ${names.join(", ")}`,
    fields,
  );
}
