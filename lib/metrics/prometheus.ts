/**
 * Renders latest metric values in the Prometheus text exposition format (version 0.0.4), clean for
 * `promtool check metrics`: every family has HELP and TYPE, values are in base units (ratios 0–1,
 * not percent), counters end in `_total` and gauges do not, and samples carry no timestamps (a
 * scrape endpoint reports the present; a value older than the freshness window is left out).
 *
 * Series keys are mapped to node_exporter's names (host) and cAdvisor's (containers) where they
 * measure the same quantity, with their label names (`device`, `mountpoint`, `cpu`); the rest are
 * `capstan_*`. Rates the agent computes (`*_bps`, `ctr.cpu_cores`) are not exposed: their counters
 * are, and Prometheus takes rates itself. node_exporter's meminfo names (`node_memory_MemTotal_bytes`)
 * are camelCase, which promtool reports, so memory uses `capstan_memory_*`.
 */

export interface PromHost {
  id: string;
  name: string;
  online: boolean;
}

export interface PromValue {
  host_id: string;
  container_id: string;
  key: string;
  t: number;
  v: number;
}

interface Family {
  name: string;
  type: "gauge" | "counter";
  help: string;
}

/** How one series key (by name, before `{`) appears: its family, value scale and labels. */
interface Mapping {
  family: Family;
  /** Multiplies the value (percent → ratio). */
  scale?: number;
  /** The exposed name of the key's own label (`iface` → `device`). */
  label?: string;
  /** Labels the key implies (`cpu.user_pct` → `mode="user"`). */
  fixed?: Record<string, string>;
}

const gauge = (name: string, help: string): Family => ({ name, type: "gauge", help });
const counter = (name: string, help: string): Family => ({ name, type: "counter", help });
const PCT = 0.01;

const CPU_MODE = gauge(
  "capstan_cpu_mode_ratio",
  "Share of all CPUs' time per mode over the last sample interval, 0-1 (user includes nice, system includes irq and softirq).",
);

/** The known series keys, in the order their families are written. */
export const MAPPINGS: Record<string, Mapping> = {
  "cpu.total_pct": {
    family: gauge(
      "capstan_cpu_usage_ratio",
      "Share of all CPUs' time spent busy (not idle or iowait) over the last sample interval, 0-1.",
    ),
    scale: PCT,
  },
  "cpu.user_pct": { family: CPU_MODE, scale: PCT, fixed: { mode: "user" } },
  "cpu.system_pct": { family: CPU_MODE, scale: PCT, fixed: { mode: "system" } },
  "cpu.iowait_pct": { family: CPU_MODE, scale: PCT, fixed: { mode: "iowait" } },
  "cpu.steal_pct": { family: CPU_MODE, scale: PCT, fixed: { mode: "steal" } },
  "cpu.core_pct": {
    family: gauge(
      "capstan_cpu_core_usage_ratio",
      "Share of one CPU's time spent busy over the last sample interval, 0-1.",
    ),
    scale: PCT,
    label: "cpu",
  },
  "load.1": { family: gauge("node_load1", "1m load average.") },
  "load.5": { family: gauge("node_load5", "5m load average.") },
  "load.15": { family: gauge("node_load15", "15m load average.") },
  "mem.total_bytes": {
    family: gauge("capstan_memory_total_bytes", "Memory the kernel manages (MemTotal), bytes."),
  },
  "mem.available_bytes": {
    family: gauge(
      "capstan_memory_available_bytes",
      "Memory available for new work without swapping (MemAvailable), bytes.",
    ),
  },
  "mem.used_bytes": {
    family: gauge("capstan_memory_used_bytes", "Memory in use: total minus available, bytes."),
  },
  "mem.used_pct": {
    family: gauge("capstan_memory_used_ratio", "Memory in use as a share of the total, 0-1."),
    scale: PCT,
  },
  "mem.cached_bytes": {
    family: gauge(
      "capstan_memory_cached_bytes",
      "Page cache and reclaimable kernel memory (Buffers + Cached + SReclaimable), bytes.",
    ),
  },
  "swap.total_bytes": {
    family: gauge("capstan_memory_swap_total_bytes", "Swap space (SwapTotal), bytes."),
  },
  "swap.used_bytes": {
    family: gauge("capstan_memory_swap_used_bytes", "Swap in use (SwapTotal - SwapFree), bytes."),
  },
  "fs.total_bytes": {
    family: gauge("node_filesystem_size_bytes", "Filesystem size in bytes."),
    label: "mountpoint",
  },
  "fs.used_bytes": {
    family: gauge("capstan_filesystem_used_bytes", "Filesystem space in use (size - free), bytes."),
    label: "mountpoint",
  },
  "fs.used_pct": {
    family: gauge(
      "capstan_filesystem_used_ratio",
      "Filesystem space in use as df's Use% counts it (used / (used + available)), 0-1.",
    ),
    scale: PCT,
    label: "mountpoint",
  },
  "fs.inodes_total": {
    family: gauge("node_filesystem_files", "Filesystem total file nodes."),
    label: "mountpoint",
  },
  "fs.inodes_used": {
    family: gauge("capstan_filesystem_files_used", "Filesystem file nodes in use."),
    label: "mountpoint",
  },
  "fs.inodes_used_pct": {
    family: gauge(
      "capstan_filesystem_files_used_ratio",
      "Filesystem file nodes in use as a share of the total, 0-1.",
    ),
    scale: PCT,
    label: "mountpoint",
  },
  "disk.read_bytes_total": {
    family: counter("node_disk_read_bytes_total", "The total number of bytes read successfully."),
    label: "device",
  },
  "disk.written_bytes_total": {
    family: counter(
      "node_disk_written_bytes_total",
      "The total number of bytes written successfully.",
    ),
    label: "device",
  },
  "net.rx_bytes_total": {
    family: counter(
      "node_network_receive_bytes_total",
      "Network device statistic receive_bytes.",
    ),
    label: "device",
  },
  "net.tx_bytes_total": {
    family: counter(
      "node_network_transmit_bytes_total",
      "Network device statistic transmit_bytes.",
    ),
    label: "device",
  },
  "host.uptime_s": {
    family: gauge("capstan_host_uptime_seconds", "Time since the host booted, seconds."),
  },
  "gpu.util_pct": {
    family: gauge(
      "capstan_gpu_utilization_ratio",
      "Share of time a GPU was busy (nvidia-smi utilization.gpu), 0-1.",
    ),
    scale: PCT,
    label: "gpu",
  },
  "gpu.mem_used_bytes": {
    family: gauge("capstan_gpu_memory_used_bytes", "GPU memory in use, bytes."),
    label: "gpu",
  },
  "gpu.mem_total_bytes": {
    family: gauge("capstan_gpu_memory_total_bytes", "GPU memory installed, bytes."),
    label: "gpu",
  },
  "gpu.temp_c": {
    family: gauge("capstan_gpu_temperature_celsius", "GPU core temperature, degrees Celsius."),
    label: "gpu",
  },
  "gpu.power_w": {
    family: gauge("capstan_gpu_power_watts", "GPU power draw, watts."),
    label: "gpu",
  },
  "docker.root_bytes": {
    family: gauge(
      "capstan_docker_data_root_bytes",
      "Disk space under the Docker data root (images, containers, volumes), bytes, as du counts it.",
    ),
  },
  "docker.root_partial": {
    family: gauge(
      "capstan_docker_data_root_partial",
      "1 when the last walk of the Docker data root stopped at its budget (the size is a lower bound).",
    ),
  },
  "ctr.cpu_seconds_total": {
    family: counter(
      "container_cpu_usage_seconds_total",
      "Cumulative cpu time consumed in seconds.",
    ),
  },
  "ctr.cpu_pct": {
    family: gauge(
      "capstan_container_cpu_usage_ratio",
      "A container's CPU use as a share of all the host's CPUs over the last interval, 0-1.",
    ),
    scale: PCT,
  },
  "ctr.cpu_limit_pct": {
    family: gauge(
      "capstan_container_cpu_limit_usage_ratio",
      "A container's CPU use as a share of its CPU limit over the last interval, 0-1 (limited containers only).",
    ),
    scale: PCT,
  },
  "ctr.mem_used_bytes": {
    family: gauge("container_memory_working_set_bytes", "Current working set in bytes."),
  },
  "ctr.mem_limit_bytes": {
    family: gauge(
      "capstan_container_memory_limit_bytes",
      "A container's memory limit, bytes; the host's memory when it has none.",
    ),
  },
  "ctr.mem_pct": {
    family: gauge(
      "capstan_container_memory_used_ratio",
      "A container's working set as a share of its memory limit, 0-1.",
    ),
    scale: PCT,
  },
  "ctr.pids": {
    family: gauge("capstan_container_pids", "Tasks (processes and threads) in a container."),
  },
  "ctr.blk_read_bytes_total": {
    family: counter("container_fs_reads_bytes_total", "Cumulative count of bytes read."),
  },
  "ctr.blk_write_bytes_total": {
    family: counter("container_fs_writes_bytes_total", "Cumulative count of bytes written."),
  },
  "ctr.net_rx_bytes_total": {
    family: counter(
      "container_network_receive_bytes_total",
      "Cumulative count of bytes received.",
    ),
  },
  "ctr.net_tx_bytes_total": {
    family: counter(
      "container_network_transmit_bytes_total",
      "Cumulative count of bytes transmitted.",
    ),
  },
};

/** Rates whose counters are exposed instead. */
const NOT_EXPOSED = new Set([
  "net.rx_bps",
  "net.tx_bps",
  "disk.read_bps",
  "disk.write_bps",
  "ctr.cpu_cores",
  "ctr.net_rx_bps",
  "ctr.net_tx_bps",
  "ctr.blk_read_bps",
  "ctr.blk_write_bps",
]);

const UP = gauge("capstan_host_up", "1 when the host's agent is connected to the hub, else 0.");
/** Labels every series gets; a key's own label of the same name is renamed `exported_<name>`. */
const RESERVED = new Set(["host", "host_id", "container", "container_id"]);
const KNOWN = new Set([UP.name, ...Object.values(MAPPINGS).map((m) => m.family.name)]);

/**
 * Keys without a mapping (an agent newer than this hub, a custom collector) still appear, by a
 * generic rule: `capstan_` + the name in snake case, `_pct` as a ratio, `_bps` as
 * `_bytes_per_second`, `_s`/`_c`/`_w` spelled out, `_total` as a counter; a name taken by a mapped
 * family or ending in a suffix Prometheus reserves gets `_value`.
 */
function generic(name: string): Mapping | undefined {
  if (NOT_EXPOSED.has(name)) return undefined;
  let n = "capstan_" + name.replace(/[^a-zA-Z0-9_]/g, "_");
  let scale: number | undefined;
  const units: [RegExp, string][] = [
    [/_bps$/, "_bytes_per_second"],
    [/_s$/, "_seconds"],
    [/_c$/, "_celsius"],
    [/_w$/, "_watts"],
  ];
  if (n.endsWith("_pct")) {
    n = n.slice(0, -4) + "_ratio";
    scale = PCT;
  }
  for (const [suffix, to] of units) n = n.replace(suffix, to);
  const type = n.endsWith("_total") ? "counter" : "gauge";
  if (KNOWN.has(n) || /_(count|sum|bucket)$/.test(n)) n += "_value";
  return { family: { name: n, type, help: `Capstan series ${name} (no description).` }, scale };
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** `cpu.core_pct{core=3}` → name `cpu.core_pct`, label `core`, value `3`. */
export function splitKey(key: string): { name: string; label?: string; value?: string } {
  const m = /^([^{]+)(?:\{([a-z_]+)=(.*)\})?$/.exec(key);
  if (!m) return { name: key };
  return m[2] ? { name: m[1], label: m[2], value: m[3] } : { name: m[1] };
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  // Scaling by 0.01 leaves binary noise (0.07 * 100 = 7.000000000000001): 12 significant digits.
  return String(Number(v.toPrecision(12)));
}

/** The exposition text: an up gauge per host, then every latest value grouped by family. */
export function renderPrometheus(
  hosts: PromHost[],
  values: PromValue[],
  containerNames: Map<string, string>,
): string {
  const byHost = new Map(hosts.map((h) => [h.id, h]));
  const groups = new Map<string, { family: Family; lines: string[] }>();
  const emit = (family: Family, line: string) => {
    let g = groups.get(family.name);
    if (!g) groups.set(family.name, g = { family, lines: [] });
    g.lines.push(line);
  };
  for (const h of hosts) {
    emit(UP, `${UP.name}${labels({ host: h.name, host_id: h.id })} ${h.online ? 1 : 0}`);
  }
  for (const v of values) {
    const host = byHost.get(v.host_id);
    if (!host) continue;
    const key = splitKey(v.key);
    const m = MAPPINGS[key.name] ?? generic(key.name);
    if (!m) continue;
    const l: Record<string, string> = { host: host.name, host_id: host.id };
    if (v.container_id) {
      l.container_id = v.container_id;
      const cname = containerNames.get(v.container_id);
      if (cname) l.container = cname;
    }
    Object.assign(l, m.fixed);
    if (key.label !== undefined) {
      const name = m.label ?? key.label;
      l[RESERVED.has(name) || name in l ? `exported_${name}` : name] = key.value!;
    }
    emit(m.family, `${m.family.name}${labels(l)} ${formatValue(v.v * (m.scale ?? 1))}`);
  }
  // Mapped families in table order (up first), then the generic ones by name: a stable page.
  const order = [UP.name, ...new Set(Object.values(MAPPINGS).map((m) => m.family.name))];
  const rank = (name: string) => {
    const i = order.indexOf(name);
    return i < 0 ? order.length : i;
  };
  const out: string[] = [];
  for (
    const g of [...groups.values()].sort((a, b) =>
      rank(a.family.name) - rank(b.family.name) || a.family.name.localeCompare(b.family.name)
    )
  ) {
    out.push(`# HELP ${g.family.name} ${escapeHelp(g.family.help)}`);
    out.push(`# TYPE ${g.family.name} ${g.family.type}`);
    out.push(...g.lines);
  }
  return out.join("\n") + "\n";
}
