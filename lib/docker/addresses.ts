import type { ContainerInspect } from "./types.ts";

/**
 * A container's own addresses from its inspect document, the one it answers on first: its IP on
 * each network in order, or the host's loopback for a container on the host network (it shares
 * the host's). Health checks connect to the first, and take the others as "the container's own".
 */
export function containerAddresses(
  i: Pick<ContainerInspect, "HostConfig" | "NetworkSettings">,
): string[] {
  // The host network named by its id leaves NetworkMode as that id; the endpoint says "host".
  const networks = i.NetworkSettings?.Networks ?? {};
  if (i.HostConfig?.NetworkMode === "host" || Object.hasOwn(networks, "host")) {
    return ["127.0.0.1", "::1"];
  }
  const out: string[] = [];
  for (const n of Object.values(networks)) {
    if (n.IPAddress) out.push(n.IPAddress);
  }
  if (i.NetworkSettings?.IPAddress) out.push(i.NetworkSettings.IPAddress);
  return [...new Set(out)];
}
