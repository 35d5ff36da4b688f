import { z } from "zod";

/** Host names follow Docker's name rule with a length cap, so they are safe in paths and labels. */
export const HostName = z.string().min(1, "is required").max(64, "at most 64 characters").regex(
  /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/,
  "letters, digits and _ . - (starting with a letter or digit)",
);

const LabelKey = z.string().regex(
  /^[a-zA-Z0-9][a-zA-Z0-9_.\/-]{0,62}$/,
  "label keys: letters, digits and _ . / - (at most 63)",
);
const LabelValue = z.string().max(256, "label values: at most 256 characters").refine(
  (s) => ![...s].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f),
  "label values must be one line of printable text",
);

/** Labels of a host: a small map of short, printable strings. */
export const HostLabels = z.record(LabelKey, LabelValue).refine(
  (r) => Object.keys(r).length <= 32,
  "at most 32 labels",
);
export type HostLabels = z.infer<typeof HostLabels>;

/**
 * Reads labels written one `key=value` per line (the pages' textarea). Blank lines are skipped;
 * a line without `=` is an error naming it, so a typo is never silently dropped.
 */
export function parseLabelLines(text: string): { ok: true; labels: HostLabels } | {
  ok: false;
  error: string;
} {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) return { ok: false, error: `line ${i + 1}: write labels as key=value` };
    const key = line.slice(0, eq).trim();
    if (Object.hasOwn(out, key)) {
      return { ok: false, error: `line ${i + 1}: "${key}" appears twice` };
    }
    out[key] = line.slice(eq + 1).trim();
  }
  const r = HostLabels.safeParse(out);
  if (!r.success) return { ok: false, error: r.error.issues[0].message };
  return { ok: true, labels: r.data };
}

/** Labels as the textarea shows them. */
export function labelLines(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join("\n");
}
