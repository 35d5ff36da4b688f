/**
 * The metrics an alert rule may name: what the agents' collectors report (host series, and `ctr.*`
 * series per container), with units, plus every series an organization's hosts have actually sent
 * and the label values seen (mounts, interfaces, devices, GPUs). The rule form offers it, the API
 * lists it, and a rule naming anything else is refused with the closest names: `load.1m` saved
 * happily would have watched a series that never comes.
 */
import { Invalid } from "../errors.ts";
import type { AlertFacts } from "./facts.ts";
// The same suffix rules the host page's charts use (a pure module, shared with the browser).
import { type Unit, unitOf as seriesUnit } from "../../islands/client/keys.ts";

/** One metric family: a series name, or a name whose series carry one label (`fs.used_pct{mount=…}`). */
export interface MetricFamily {
  key: string;
  /** Host series, or per-container series (rules with `container: true`). */
  scope: "host" | "container";
  /** Unit of its values, for people: "%", "bytes", "bytes/s", "seconds"… ("" for plain numbers). */
  unit: string;
  /** The label its series carry, if any (`mount`, `iface`, `dev`, `core`, `gpu`). */
  label: string | null;
  /** Label values seen on this organization's hosts, sorted (at most `MAX_VALUES`). */
  values: string[];
  /** Whether any host of the organization has sent it yet. */
  seen: boolean;
}

/** What the collectors in agent/collectors report: name, and the label of labelled families. */
const COLLECTED: readonly (readonly [string, string?])[] = [
  ["cpu.total_pct"],
  ["cpu.user_pct"],
  ["cpu.system_pct"],
  ["cpu.iowait_pct"],
  ["cpu.steal_pct"],
  ["cpu.core_pct", "core"],
  ["load.1"],
  ["load.5"],
  ["load.15"],
  ["mem.total_bytes"],
  ["mem.available_bytes"],
  ["mem.used_bytes"],
  ["mem.used_pct"],
  ["mem.cached_bytes"],
  ["swap.total_bytes"],
  ["swap.used_bytes"],
  ["fs.used_bytes", "mount"],
  ["fs.total_bytes", "mount"],
  ["fs.used_pct", "mount"],
  ["fs.inodes_used", "mount"],
  ["fs.inodes_total", "mount"],
  ["fs.inodes_used_pct", "mount"],
  ["disk.read_bps", "dev"],
  ["disk.write_bps", "dev"],
  ["net.rx_bps", "iface"],
  ["net.tx_bps", "iface"],
  ["host.uptime_s"],
  ["docker.root_bytes"],
  ["docker.root_partial"],
  ["gpu.util_pct", "gpu"],
  ["gpu.mem_used_bytes", "gpu"],
  ["gpu.mem_total_bytes", "gpu"],
  ["gpu.temp_c", "gpu"],
  ["gpu.power_w", "gpu"],
  ["ctr.cpu_pct"],
  ["ctr.cpu_cores"],
  ["ctr.cpu_limit_pct"],
  ["ctr.mem_used_bytes"],
  ["ctr.mem_limit_bytes"],
  ["ctr.mem_pct"],
  ["ctr.pids"],
  ["ctr.blk_read_bps"],
  ["ctr.blk_write_bps"],
  ["ctr.net_rx_bps"],
  ["ctr.net_tx_bps"],
];

/** Label values listed per family; the form and the API stay small however many mounts exist. */
const MAX_VALUES = 50;
/** Distinct series keys read per organization. */
const MAX_KEYS = 5000;

/** Container series are the `ctr.*` family. */
const scopeOf = (name: string): MetricFamily["scope"] =>
  name.startsWith("ctr.") ? "container" : "host";

/** How the host page's charts read each unit (islands/client/keys.ts), in words. */
const UNIT_WORDS: Record<Unit, string> = {
  pct: "%",
  bytes: "bytes",
  bps: "bytes/s",
  celsius: "°C",
  watts: "W",
  seconds: "seconds",
  num: "",
};

/** Counts that the name's suffix does not say, in words. */
const COUNTS: Record<string, string> = {
  "ctr.cpu_cores": "cores",
  "ctr.pids": "processes",
  "fs.inodes_used": "inodes",
  "fs.inodes_total": "inodes",
  "docker.root_partial": "0 or 1",
};

/** The unit a series name implies (the collectors name them by unit), in words. */
export function unitOf(name: string): string {
  return COUNTS[name] ?? UNIT_WORDS[seriesUnit(name)];
}

/** `fs.used_pct{mount=/}` → name, label and value; a plain name has no label. */
export function splitKey(
  key: string,
): { name: string; label: string | null; value: string | null } {
  const m = /^([^{]+)\{([^=]+)=(.*)\}$/.exec(key);
  return m ? { name: m[1], label: m[2], value: m[3] } : { name: key, label: null, value: null };
}

/** The families every organization can use, before any host has reported. */
function collected(): Map<string, MetricFamily> {
  return new Map(COLLECTED.map(([key, label]) => [key, {
    key,
    scope: scopeOf(key),
    unit: unitOf(key),
    label: label ?? null,
    values: [],
    seen: false,
  }]));
}

/**
 * The catalogue of an organization: the collected families, marked seen and with their label
 * values when its hosts have sent them, plus any other series they sent (a newer agent's).
 */
export async function metricCatalog(
  facts: Pick<AlertFacts, "seriesSeen">,
  orgId: string,
): Promise<MetricFamily[]> {
  const rows = await facts.seriesSeen(orgId, MAX_KEYS);
  const families = collected();
  const values = new Map<string, Set<string>>();
  for (const r of rows) {
    const { name, label, value } = splitKey(r.key);
    let f = families.get(name);
    if (!f) {
      f = {
        key: name,
        scope: r.container ? "container" : "host",
        unit: unitOf(name),
        label,
        values: [],
        seen: true,
      };
      families.set(name, f);
    }
    f.seen = true;
    if (label && value !== null && label === f.label) {
      const set = values.get(name) ?? new Set<string>();
      if (set.size < MAX_VALUES) set.add(value);
      values.set(name, set);
    }
  }
  for (const [name, set] of values) families.get(name)!.values = [...set].sort();
  return [...families.values()].sort((a, b) =>
    a.scope === b.scope ? a.key.localeCompare(b.key) : a.scope === "host" ? -1 : 1
  );
}

/** Edit distance of two short strings (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/** Up to `n` family names closest to `name`: same group (`load.`) or a few edits away. */
export function closeMatches(name: string, families: readonly MetricFamily[], n = 4): string[] {
  const group = name.split(".")[0];
  const limit = Math.max(3, Math.ceil(name.length * 0.4));
  return families
    .map((f) => ({ key: f.key, d: distance(name, f.key), same: f.key.split(".")[0] === group }))
    .filter((c) => c.d <= limit || c.same)
    .sort((a, b) => a.d - b.d || a.key.localeCompare(b.key))
    .slice(0, n).map((c) => c.key);
}

/** "a", "a or b", "a, b or c". */
const orList = (xs: string[]) =>
  xs.length <= 1 ? xs.join("") : `${xs.slice(0, -1).join(", ")} or ${xs.at(-1)}`;

/**
 * Why a metric rule's series cannot work, or null: an unknown name (with the closest ones), a
 * label its family does not carry, or a container metric on a host rule and the other way round.
 */
export function metricProblem(
  metric: string,
  container: boolean,
  families: readonly MetricFamily[],
): string | null {
  const { name, label } = splitKey(metric);
  const f = families.find((x) => x.key === name);
  if (!f) {
    const near = closeMatches(name, families);
    return `"${name}" is not a metric the agents report` +
      (near.length ? `; did you mean ${orList(near)}?` : "; see the metric catalogue");
  }
  if (label !== null && label !== f.label) {
    return f.label
      ? `${name} is labelled by ${f.label}, as in ${name}{${f.label}=${f.values[0] ?? "…"}}`
      : `${name} has no labels: name it without {${label}=…}`;
  }
  if (container && f.scope === "host") {
    return `${name} is a host metric; a rule on each container needs a ctr.* metric such as ctr.cpu_pct`;
  }
  if (!container && f.scope === "container") {
    return `${name} is a container metric: evaluate the rule on each container (container: true)`;
  }
  return null;
}

/** Refuses a metric rule whose series no agent reports (400 naming `metric`, with close matches). */
export async function checkRuleMetric(
  facts: Pick<AlertFacts, "seriesSeen">,
  orgId: string,
  spec: { kind: string; metric: string | null; container: boolean },
): Promise<void> {
  if (spec.kind !== "metric" || !spec.metric) return;
  const problem = metricProblem(spec.metric, spec.container, await metricCatalog(facts, orgId));
  if (problem) {
    throw new Invalid(`Invalid rule: metric: ${problem}`, { metric: problem });
  }
}
