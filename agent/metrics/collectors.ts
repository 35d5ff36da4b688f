/** The default set of host collectors, wired to the engine for the Docker data root. */
import type { DockerClient } from "../../lib/docker/client.ts";
import type { Logger } from "../../lib/log.ts";
import type { HostCollector } from "../collectors/common.ts";
import { createCpuCollector } from "../collectors/cpu.ts";
import { createDiskIoCollector } from "../collectors/disk_io.ts";
import { createDockerRootCollector } from "../collectors/docker_root.ts";
import { createFilesystemsCollector } from "../collectors/filesystems.ts";
import { createGpuCollector } from "../collectors/gpu.ts";
import { createLoadCollector } from "../collectors/load.ts";
import { createMemoryCollector } from "../collectors/memory.ts";
import { createNetworkCollector } from "../collectors/network.ts";
import { createUptimeCollector } from "../collectors/uptime.ts";

/** Options of the host collector set. */
export interface HostCollectorOptions {
  /** Where the host's /proc and /sys are; default "/". */
  root?: string;
  /** The engine, for its data root; without it there is no docker.root_bytes. */
  docker?: Pick<DockerClient, "info">;
  /** Where the data-root size is cached between runs; no cache without it. */
  stateDir?: string;
  gpuIntervalMs?: number;
  /** Time between data-root walks; default 5 minutes. */
  dockerRootIntervalMs?: number;
  /** Share of a core the data-root walk may use; default 1% (tests raise it to finish quickly). */
  dockerRootDutyCycle?: number;
  log?: Logger;
}

/** cpu, load, memory, uptime, network, disk I/O, filesystems, GPU and the Docker data root. */
export function createHostCollectors(opts: HostCollectorOptions = {}): HostCollector[] {
  const root = opts.root ?? "/";
  const { docker } = opts;
  let dockerRoot: string | undefined;
  // Asked until the engine answers once; the data root does not move while the engine runs.
  const dockerRootDir = async () => {
    if (dockerRoot || !docker) return dockerRoot;
    const info = await docker.info({ signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    dockerRoot = info?.DockerRootDir || undefined;
    return dockerRoot;
  };
  const collectors = [
    createCpuCollector({ root }),
    createLoadCollector({ root }),
    createMemoryCollector({ root }),
    createUptimeCollector({ root }),
    // Byte counters too (for Prometheus), every 10 s: the rates above are what the hub charts.
    createNetworkCollector({ root, countersEveryMs: 10_000 }),
    createDiskIoCollector({ root, countersEveryMs: 10_000 }),
    // A data root elsewhere than /var/lib/docker holds container mounts too: leave them out.
    createFilesystemsCollector({ root, exclude: () => (dockerRoot ? [dockerRoot] : []) }),
    createGpuCollector({ intervalMs: opts.gpuIntervalMs }),
  ];
  if (docker) {
    collectors.push(createDockerRootCollector({
      path: async () => {
        const dir = await dockerRootDir();
        return dir && root !== "/" ? `${root.replace(/\/+$/, "")}${dir}` : dir;
      },
      refreshMs: opts.dockerRootIntervalMs,
      dutyCycle: opts.dockerRootDutyCycle,
      cacheFile: opts.stateDir ? `${opts.stateDir}/docker-root-size.json` : undefined,
      onError: (err) => opts.log?.debug("metrics: data-root walk failed", { error: String(err) }),
    }));
  }
  return collectors;
}
