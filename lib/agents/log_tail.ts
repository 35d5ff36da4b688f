/**
 * Joining a one-shot tail of the last N log lines to a shared follow stream without gaps or
 * duplicates. The viewer subscribes to the follow stream first (buffering), then reads the tail;
 * any followed line at or before the tail's last timestamp is one the tail already showed.
 */
import type { LogLine } from "../docker/streams.ts";

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;

/**
 * A sortable key of an engine timestamp (UTC, up to nanoseconds): fractions are padded to nine
 * digits so string order is time order. Non-UTC or unparsable stamps fall back to ms precision.
 */
export function timestampKey(ts: string): string {
  const m = RFC3339.exec(ts);
  if (m) return `${m[1]}.${(m[2] ?? "").padEnd(9, "0")}`;
  const ms = Date.parse(ts);
  if (!Number.isFinite(ms)) return "";
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000000");
}

/** Decides which followed lines the tail already covered. */
export class TailCutoff {
  #last = "";
  #atLast = new Set<string>();
  #passed = false;

  /** Records the tail's lines (in order). */
  constructor(tail: LogLine[]) {
    for (const l of tail) {
      if (!l.ts) continue;
      const k = timestampKey(l.ts);
      if (k > this.#last) {
        this.#last = k;
        this.#atLast.clear();
      }
      if (k === this.#last) this.#atLast.add(`${l.stream}\0${l.line}`);
    }
    if (!this.#last) this.#passed = true;
  }

  /** The followed lines the tail did not show; once one is newer, every later line passes. */
  filter(lines: LogLine[]): LogLine[] {
    if (this.#passed) return lines;
    const out: LogLine[] = [];
    for (const l of lines) {
      if (this.#passed) {
        out.push(l);
        continue;
      }
      const k = l.ts ? timestampKey(l.ts) : "";
      if (k > this.#last) {
        this.#passed = true;
        out.push(l);
      } else if (k === this.#last && !this.#atLast.has(`${l.stream}\0${l.line}`)) {
        out.push(l);
      }
    }
    return out;
  }
}
