import type { DockerClient } from "../../lib/docker/client.ts";
import { DockerError } from "../../lib/docker/client.ts";
import { ProbeError, raceAbort } from "./probe.ts";

/** Where a container answers on the network, as the HTTP and TCP probes connect to it. */
export interface Targets {
  /** The container's address: its IP on its first network, or 127.0.0.1 on the host network. */
  address(containerId: string, signal?: AbortSignal): Promise<string>;
  /** Drops the cached address (after a failure: the container may have restarted elsewhere). */
  forget(containerId: string): void;
  /** Drops every entry not in `keep`. */
  retain(keep: Set<string>): void;
}

/** How long an address is trusted without a failure; a restart can hand the IP to another container. */
const ADDRESS_TTL_MS = 60_000;

/**
 * Container addresses from `inspect`, cached per container so 500 checks of one container cost
 * one engine call a minute. Concurrent lookups of one container share one inspect.
 */
export function createTargets(docker: DockerClient, ttlMs = ADDRESS_TTL_MS): Targets {
  const cache = new Map<string, { at: number; address: Promise<string> }>();

  async function lookup(id: string): Promise<string> {
    let c;
    try {
      c = await docker.inspectContainer(id, { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      if (err instanceof DockerError && err.status === 404) {
        throw new ProbeError("container not found");
      }
      throw err;
    }
    if (!c.State.Running) throw new ProbeError("container is not running");
    if (c.HostConfig.NetworkMode === "host") return "127.0.0.1";
    for (const n of Object.values(c.NetworkSettings.Networks ?? {})) {
      if (n.IPAddress) return n.IPAddress;
    }
    if (c.NetworkSettings.IPAddress) return c.NetworkSettings.IPAddress;
    throw new ProbeError("container has no network address");
  }

  return {
    address(id, signal) {
      const now = Date.now();
      let entry = cache.get(id);
      if (!entry || now - entry.at > ttlMs) {
        entry = { at: now, address: lookup(id) };
        cache.set(id, entry);
        const mine = entry;
        // A failed lookup is not cached: the next attempt asks the engine again.
        mine.address.catch(() => cache.get(id) === mine && cache.delete(id));
      }
      return signal ? raceAbort(entry.address, signal, () => {}) : entry.address;
    },
    forget(id) {
      cache.delete(id);
    },
    retain(keep) {
      for (const id of cache.keys()) if (!keep.has(id)) cache.delete(id);
    },
  };
}
