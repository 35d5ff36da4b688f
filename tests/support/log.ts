import type { Logger } from "../../lib/log.ts";

/** A logger that keeps its lines as `level message {fields}` (debug dropped), for assertions. */
export function keptLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const keep = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  return {
    log: { debug() {}, info: keep("info"), warn: keep("warn"), error: keep("error") },
    lines,
  };
}
