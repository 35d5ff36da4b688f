import type { Logger } from "../../lib/log.ts";

/** One line a RecordingLogger kept. */
export interface LoggedLine {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields?: Record<string, unknown>;
}

/** A logger that keeps every line (tests assert on levels and messages). */
export function recordingLogger(): Logger & { lines: LoggedLine[]; text(): string } {
  const lines: LoggedLine[] = [];
  const at = (level: LoggedLine["level"]) => (msg: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, msg, fields });
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    text: () =>
      lines.map((l) => `${l.level} ${l.msg}${l.fields ? " " + JSON.stringify(l.fields) : ""}`)
        .join("\n"),
  };
}
