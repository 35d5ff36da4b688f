// What the host page draws from a host's series keys: human labels and units per key, the
// history charts and the keys of the statistics table. Shared by the server (static render,
// initial stats) and the HostCharts island (refetches), so both ask for the same series.
import { bytes, duration, labelOf, nameOf, num, pct, rate } from "../../components/format.ts";

/** How a series' values read. */
export type Unit = "pct" | "bytes" | "bps" | "num" | "celsius" | "watts" | "seconds";

/** Interfaces, disks, mounts or GPUs drawn per family: beyond this the page would be a wall. */
export const FAMILY_CAP = 8;

const NAMES: Record<string, string> = {
  "cpu.total_pct": "CPU",
  "cpu.user_pct": "CPU user",
  "cpu.system_pct": "CPU system",
  "cpu.iowait_pct": "CPU I/O wait",
  "cpu.steal_pct": "CPU steal",
  "cpu.core_pct": "CPU core",
  "load.1": "Load (1 min)",
  "load.5": "Load (5 min)",
  "load.15": "Load (15 min)",
  "mem.used_pct": "Memory used",
  "mem.used_bytes": "Memory used",
  "mem.available_bytes": "Memory available",
  "mem.cached_bytes": "Memory cached",
  "mem.total_bytes": "Memory total",
  "swap.used_bytes": "Swap used",
  "swap.total_bytes": "Swap total",
  "fs.used_pct": "Disk used",
  "fs.used_bytes": "Disk used",
  "fs.total_bytes": "Disk size",
  "fs.inodes_used_pct": "Inodes used",
  "disk.read_bps": "Disk read",
  "disk.write_bps": "Disk write",
  "net.rx_bps": "Network in",
  "net.tx_bps": "Network out",
  "gpu.util_pct": "GPU utilisation",
  "gpu.mem_used_bytes": "GPU memory used",
  "gpu.temp_c": "GPU temperature",
  "gpu.power_w": "GPU power",
  "host.uptime_s": "Uptime",
  "docker.root_bytes": "Docker data",
};

/** The unit of a series, from its name's suffix. */
export function unitOf(key: string): Unit {
  const name = nameOf(key);
  if (name.endsWith("_pct")) return "pct";
  if (name.endsWith("_bps")) return "bps";
  if (name.endsWith("_bytes")) return "bytes";
  if (name.endsWith("_c")) return "celsius";
  if (name.endsWith("_w")) return "watts";
  if (name.endsWith("_s")) return "seconds";
  return "num";
}

/** A value in its unit: "42.5 %", "1.2 GiB", "3.4 MiB/s". */
export function formatUnit(unit: Unit, v: number | null | undefined): string {
  switch (unit) {
    case "pct":
      return pct(v);
    case "bytes":
      return bytes(v);
    case "bps":
      return rate(v);
    case "celsius":
      return v === null || v === undefined ? "—" : `${num(v, 0)} °C`;
    case "watts":
      return v === null || v === undefined ? "—" : `${num(v, 0)} W`;
    case "seconds":
      return duration(v);
    default:
      return num(v);
  }
}

/** A key for people: `net.rx_bps{iface=eth0}` → "Network in eth0". */
export function labelKey(key: string): string {
  const name = nameOf(key);
  const label = labelOf(key);
  const base = NAMES[name] ?? name;
  if (label === undefined) return base;
  return name.startsWith("gpu.") ? `GPU ${label} ${base.slice(4).trim()}` : `${base} ${label}`;
}

/** Keys of one family (`net.rx_bps{…}`), sorted, at most FAMILY_CAP. */
export function family(keys: string[], name: string): string[] {
  return keys.filter((k) => k.startsWith(`${name}{`)).sort().slice(0, FAMILY_CAP);
}

/** One line of a history chart: the sum of its keys at each time (one key, or a family). */
export interface ChartLine {
  label: string;
  keys: string[];
  /** CSS custom property the line takes its colour from. */
  color: string;
  dashed?: boolean;
}

/** One history chart. */
export interface ChartSpec {
  id: "cpu" | "mem" | "net" | "disk" | "load";
  title: string;
  unit: Unit;
  lines: ChartLine[];
}

/** The charts a host's keys allow, each with only the lines it has data for. */
export function chartSpecs(keys: string[]): ChartSpec[] {
  const has = new Set(keys);
  const one = (label: string, key: string, color: string, dashed = false): ChartLine[] =>
    has.has(key) ? [{ label, keys: [key], color, dashed }] : [];
  const fam = (label: string, name: string, color: string): ChartLine[] => {
    const f = family(keys, name);
    return f.length ? [{ label, keys: f, color }] : [];
  };
  const specs: ChartSpec[] = [
    {
      id: "cpu",
      title: "CPU",
      unit: "pct",
      lines: [
        ...one("Total", "cpu.total_pct", "--accent"),
        ...one("User", "cpu.user_pct", "--ok"),
        ...one("System", "cpu.system_pct", "--warn"),
        ...one("I/O wait", "cpu.iowait_pct", "--err"),
      ],
    },
    {
      id: "mem",
      title: "Memory",
      unit: "bytes",
      lines: [
        ...one("Used", "mem.used_bytes", "--warn"),
        ...one("Cached", "mem.cached_bytes", "--accent"),
        ...one("Total", "mem.total_bytes", "--muted", true),
      ],
    },
    {
      id: "net",
      title: "Network",
      unit: "bps",
      lines: [...fam("In", "net.rx_bps", "--accent"), ...fam("Out", "net.tx_bps", "--ok")],
    },
    {
      id: "disk",
      title: "Disk I/O",
      unit: "bps",
      lines: [
        ...fam("Read", "disk.read_bps", "--accent"),
        ...fam("Write", "disk.write_bps", "--warn"),
      ],
    },
    {
      id: "load",
      title: "Load average",
      unit: "num",
      lines: [
        ...one("1 min", "load.1", "--accent"),
        ...one("5 min", "load.5", "--warn"),
        ...one("15 min", "load.15", "--muted"),
      ],
    },
  ];
  return specs.filter((s) => s.lines.length > 0);
}

/** The series the statistics table covers (≤ 50, the API's limit per request). */
export function statsKeys(keys: string[]): string[] {
  const has = new Set(keys);
  const pick = ["cpu.total_pct", "cpu.iowait_pct", "mem.used_pct", "swap.used_bytes", "load.1"]
    .filter((k) => has.has(k));
  return [
    ...pick,
    ...family(keys, "fs.used_pct"),
    ...family(keys, "net.rx_bps").slice(0, 4),
    ...family(keys, "net.tx_bps").slice(0, 4),
    ...family(keys, "disk.read_bps").slice(0, 4),
    ...family(keys, "disk.write_bps").slice(0, 4),
    ...family(keys, "gpu.util_pct").slice(0, 4),
  ].slice(0, 50);
}
