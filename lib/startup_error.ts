/**
 * A reason the hub cannot start that the operator must fix — a database it cannot reach, an
 * address it cannot listen on, a data directory it cannot write. Its message is one line naming
 * the problem; main.ts prints it instead of a stack trace.
 */
export class StartupError extends Error {}

/** Runs one start-up step; whatever it throws becomes a StartupError `<what>: <reason>`. */
export async function startupStep<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StartupError) throw err;
    throw new StartupError(`${what}: ${reason(err)}`);
  }
}

/** Network error codes (node:net, postgres.js) in words. */
const CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found (DNS lookup failed)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "timed out",
  CONNECT_TIMEOUT: "timed out",
  ENOENT: "no such socket",
  EACCES: "permission denied",
};

/** An error in a few words on one line: no stack, no syscall detail, no os error number. */
export function reason(err: unknown): string {
  if (err instanceof Deno.errors.AddrInUse) return "address already in use";
  if (err instanceof Deno.errors.AddrNotAvailable) return "address not available on this machine";
  const code = (err as { code?: unknown })?.code;
  if (typeof code === "string" && CODES[code]) return CODES[code];
  const message = err instanceof Error ? err.message : String(err);
  const line = message.split("\n")[0]
    .replace(/ \(os error \d+\)/, "")
    .replace(/: \w+ '[^']*'( -> '[^']*')?$/, "")
    .trim();
  return line ? line[0].toLowerCase() + line.slice(1) : "unknown error";
}
