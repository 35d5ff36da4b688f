import type { DockerClient } from "../../lib/docker/client.ts";
import { DockerError } from "../../lib/docker/client.ts";
import { containerAddresses } from "../../lib/docker/addresses.ts";
import { ProbeError, raceAbort } from "./probe.ts";

/** Where a container answers on the network, as the HTTP and TCP probes connect to it. */
export interface Targets {
  /** The container's address: its IP on its first network, or 127.0.0.1 on the host network. */
  address(containerId: string, signal?: AbortSignal): Promise<string>;
  /** Every address of the container (each network's IP; the host's loopback on the host network). */
  addresses(containerId: string, signal?: AbortSignal): Promise<string[]>;
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
  const cache = new Map<string, { at: number; addresses: Promise<string[]> }>();

  async function lookup(id: string): Promise<string[]> {
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
    const all = containerAddresses(c);
    if (!all.length) throw new ProbeError("container has no network address");
    return all;
  }

  function addresses(id: string, signal?: AbortSignal): Promise<string[]> {
    const now = Date.now();
    let entry = cache.get(id);
    if (!entry || now - entry.at > ttlMs) {
      entry = { at: now, addresses: lookup(id) };
      cache.set(id, entry);
      const mine = entry;
      // A failed lookup is not cached: the next attempt asks the engine again.
      mine.addresses.catch(() => cache.get(id) === mine && cache.delete(id));
    }
    return signal ? raceAbort(entry.addresses, signal, () => {}) : entry.addresses;
  }

  return {
    async address(id, signal) {
      return (await addresses(id, signal))[0];
    },
    addresses,
    forget(id) {
      cache.delete(id);
    },
    retain(keep) {
      for (const id of cache.keys()) if (!keep.has(id)) cache.delete(id);
    },
  };
}
