/**
 * Per-container CPU, memory, network, block I/O and pids from cgroup files (cgroup_stats.ts),
 * read every 10 s by default. The engine is asked only for the list of running containers and,
 * once per container (refreshed rarely), for its CPU limit.
 */
import type { DockerClient } from "../../lib/docker/client.ts";
import type { ContainerInspect } from "../../lib/docker/types.ts";
import {
  type CgroupLayout,
  type CgroupSnapshot,
  detectLayout,
  parseNetDev,
  rates,
  readSnapshots,
} from "./cgroup_stats.ts";
import {
  type ContainerCollector,
  counterRate,
  readKernelFile,
  round,
  type Series,
} from "./common.ts";

/** What the series of one container need besides its counters. */
export interface ContainerFacts {
  hostCpus: number;
  /** Host memory, the "limit" of a container without one (as docker stats shows it). */
  hostMemBytes?: number;
  /** Cores the container may use, when limited. */
  cpuLimitCores?: number;
}

/** Network counters of a container's namespace, when it has one of its own. */
export interface NetCounters {
  rx: number;
  tx: number;
}

/** CPU cores a container may use from its HostConfig (NanoCpus, or CpuQuota/CpuPeriod). */
export function cpuLimitCores(hc: ContainerInspect["HostConfig"] | undefined): number | undefined {
  if (!hc) return undefined;
  if (hc.NanoCpus && hc.NanoCpus > 0) return hc.NanoCpus / 1e9;
  // The kernel's default CFS period is 100 ms; Docker leaves CpuPeriod 0 to mean that.
  if (hc.CpuQuota && hc.CpuQuota > 0) return hc.CpuQuota / (hc.CpuPeriod || 100_000);
  return undefined;
}

/** ctr.* series of one container; rates need the previous snapshot of the same container. */
export function containerSeries(
  cur: CgroupSnapshot,
  prev: CgroupSnapshot | undefined,
  facts: ContainerFacts,
  net?: { cur: NetCounters; prev?: NetCounters },
): Series {
  const out: Series = { "ctr.pids": cur.pids };
  const memUsed = Math.max(0, cur.memoryUsageBytes - cur.memoryInactiveFileBytes);
  const memLimit = cur.memoryLimitBytes ?? facts.hostMemBytes;
  out["ctr.mem_used_bytes"] = memUsed;
  if (memLimit) {
    out["ctr.mem_limit_bytes"] = memLimit;
    out["ctr.mem_pct"] = round((memUsed / memLimit) * 100);
  }
  if (prev && cur.at > prev.at) {
    const r = rates(prev, cur, facts.hostCpus);
    out["ctr.cpu_cores"] = round(r.cpuCores, 4);
    out["ctr.cpu_pct"] = round(r.cpuPercentOfHost);
    if (facts.cpuLimitCores) {
      out["ctr.cpu_limit_pct"] = round((r.cpuCores / facts.cpuLimitCores) * 100);
    }
    out["ctr.blk_read_bps"] = Math.round(r.blockReadPerSec);
    out["ctr.blk_write_bps"] = Math.round(r.blockWritePerSec);
  }
  if (net?.prev && prev && cur.at > prev.at) {
    const seconds = (cur.at - prev.at) / 1000;
    const rx = counterRate(net.prev.rx, net.cur.rx, seconds);
    const tx = counterRate(net.prev.tx, net.cur.tx, seconds);
    if (rx !== undefined) out["ctr.net_rx_bps"] = Math.round(rx);
    if (tx !== undefined) out["ctr.net_tx_bps"] = Math.round(tx);
  }
  return out;
}

/**
 * ctr.*_total series of one container: its cgroup's CPU time and block I/O bytes and its network
 * namespace's bytes (when it has one of its own) since it started, as they are, for Prometheus
 * (which takes rates itself and expects counters, not rates).
 */
export function containerCounters(cur: CgroupSnapshot, net?: NetCounters): Series {
  const out: Series = {
    "ctr.cpu_seconds_total": round(cur.cpuNanos / 1e9, 3),
    "ctr.blk_read_bytes_total": cur.blockReadBytes,
    "ctr.blk_write_bytes_total": cur.blockWriteBytes,
  };
  if (net) {
    out["ctr.net_rx_bytes_total"] = net.rx;
    out["ctr.net_tx_bytes_total"] = net.tx;
  }
  return out;
}

/** The engine calls the collector makes. */
export type ContainerDocker = Pick<DockerClient, "listContainers" | "inspectContainer" | "info">;

/** Options of the container collector. */
export interface ContainerCollectorOptions {
  docker: ContainerDocker;
  cgroupRoot?: string;
  /** Containers read at once. */
  concurrency?: number;
  /** How long a container's inspected CPU limit is trusted (`docker update` can change it). */
  inspectTtlMs?: number;
  /** Timeout of each engine call. */
  engineTimeoutMs?: number;
}

interface Tracked {
  snap?: CgroupSnapshot;
  net?: NetCounters;
  cpuLimitCores?: number;
  inspectedAt: number;
  /** host or container:<id> network mode: the namespace is not the container's own. */
  sharedNet: boolean;
}

/** The protocol accepts at most this many containers per sample. */
const MAX_CONTAINERS = 1000;

/** A process of the container, for its network namespace; read fresh so a restart is followed. */
function containerPid(layout: CgroupLayout, id: string): number | undefined {
  const procs = readKernelFile(`${layout.dirs(id).pids}/cgroup.procs`);
  const pid = Number(procs?.split("\n", 1)[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Collects every running container's series. */
export function createContainerCollector(opts: ContainerCollectorOptions): ContainerCollector {
  const { docker } = opts;
  const cgroupRoot = opts.cgroupRoot ?? "/sys/fs/cgroup";
  const inspectTtlMs = opts.inspectTtlMs ?? 5 * 60_000;
  const timeout = () => ({ signal: AbortSignal.timeout(opts.engineTimeoutMs ?? 10_000) });
  const tracked = new Map<string, Tracked>();
  let layout: CgroupLayout | undefined;
  let host: { cpus: number; memBytes?: number } | undefined;

  const hostFacts = async () => {
    if (!host) {
      const info = await docker.info(timeout()).catch(() => undefined);
      const h = {
        cpus: info?.NCPU || navigator.hardwareConcurrency || 1,
        memBytes: info?.MemTotal,
      };
      if (info) host = h; // without the engine's answer, ask again next time
      return h;
    }
    return host;
  };

  const inspect = async (id: string, t: Tracked, now: number) => {
    const c = await docker.inspectContainer(id, timeout()).catch(() => undefined);
    t.inspectedAt = now;
    if (c) t.cpuLimitCores = cpuLimitCores(c.HostConfig);
  };

  return {
    name: "containers",
    async collect(now) {
      const running =
        (await docker.listContainers({ filters: { status: ["running"] }, ...timeout() }))
          .slice(0, MAX_CONTAINERS);
      const live = new Set(running.map((c) => c.Id));
      for (const id of tracked.keys()) if (!live.has(id)) tracked.delete(id);
      if (!running.length) return {};
      const facts = await hostFacts();
      // Limits of new containers (and stale ones), a few at a time.
      const due = running.filter((c) => {
        const t = tracked.get(c.Id);
        return !t || now - t.inspectedAt >= inspectTtlMs;
      });
      for (let i = 0; i < due.length; i += 8) {
        await Promise.all(
          due.slice(i, i + 8).map((c) => {
            let t = tracked.get(c.Id);
            const mode = c.HostConfig?.NetworkMode ?? "";
            const sharedNet = mode === "host" || mode.startsWith("container:");
            if (!t) tracked.set(c.Id, t = { inspectedAt: 0, sharedNet });
            t.sharedNet = sharedNet;
            return inspect(c.Id, t, now);
          }),
        );
      }
      layout ??= await detectLayout(cgroupRoot, running[0].Id);
      const snaps = await readSnapshots(
        layout,
        running.map((c) => ({ id: c.Id })),
        opts.concurrency ?? 8,
      );
      // Every running container unreadable: the layout guess was wrong (e.g. detected before the
      // first container existed); detect again next time.
      if (!snaps.length) layout = undefined;
      const out: Record<string, Series> = {};
      for (const snap of snaps) {
        const t = tracked.get(snap.id);
        if (!t) continue;
        let net: { cur: NetCounters; prev?: NetCounters } | undefined;
        const pid = t.sharedNet || !layout ? undefined : containerPid(layout, snap.id);
        const text = pid ? readKernelFile(`/proc/${pid}/net/dev`) : undefined;
        if (text !== undefined) net = { cur: parseNetDev(text), prev: t.net };
        out[snap.id] = {
          ...containerSeries(snap, t.snap, {
            hostCpus: facts.cpus,
            hostMemBytes: facts.memBytes,
            cpuLimitCores: t.cpuLimitCores,
          }, net),
          ...containerCounters(snap, net?.cur),
        };
        t.snap = snap;
        t.net = net?.cur;
      }
      return out;
    },
    close() {
      tracked.clear();
    },
  };
}
