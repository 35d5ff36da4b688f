/**
 * Writes stored values as OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`:
 * each family's samples together, each series' in time order, timestamps in seconds with
 * millisecond precision, values in JavaScript's shortest round-trip form (the same float64 after
 * Go parses it), and the closing `# EOF`.
 */
import { type HostHourPoint, pointLabels } from "./host_hour.ts";

const escapeValue = (v: string) =>
  v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");

/** The OpenMetrics text of `points` (any order) of host `host`. */
export function toOpenMetrics(host: string, points: Iterable<HostHourPoint>): string {
  // family → series (its label text) → values in arrival order
  const families = new Map<string, Map<string, { t: number; v: number }[]>>();
  for (const p of points) {
    const { name, labels } = pointLabels(host, p);
    let family = families.get(name);
    if (!family) families.set(name, family = new Map());
    const text = Object.entries(labels).map(([k, v]) => `${k}="${escapeValue(v)}"`).join(",");
    let values = family.get(text);
    if (!values) family.set(text, values = []);
    values.push({ t: p.t, v: p.v });
  }
  const lines: string[] = [];
  for (const [name, family] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
    // The type does not change how the TSDB stores a sample; gauge needs no name suffix.
    lines.push(`# TYPE ${name} gauge`);
    for (const [labels, values] of family) {
      values.sort((a, b) => a.t - b.t);
      for (const { t, v } of values) {
        lines.push(`${name}{${labels}} ${String(v)} ${(t / 1000).toFixed(3)}`);
      }
    }
  }
  lines.push("# EOF", "");
  return lines.join("\n");
}
