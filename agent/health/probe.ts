import type { DockerClient } from "../../lib/docker/client.ts";
import { checkHost, classifyAddress, OutboundRefused, parseIp } from "../../lib/net/outbound.ts";
import type { HealthCheckSpec, HealthResult } from "../../lib/protocol/health.ts";
import type { Targets } from "./targets.ts";

/** What one attempt measured; the runner adds the check id and the start time. */
export type ProbeOutcome = Omit<HealthResult, "check_id" | "at">;

/** What a probe may use for one attempt. */
export interface ProbeContext {
  docker: DockerClient;
  targets: Targets;
  /** Aborts at the check's timeout or when the check is removed. */
  signal: AbortSignal;
}

/** Runs one attempt of one kind of check. */
export type Probe = (spec: HealthCheckSpec, ctx: ProbeContext) => Promise<ProbeOutcome>;

/** A failed attempt with its one-line reason (connection refused, container is not running, …). */
export class ProbeError extends Error {
  constructor(message: string, readonly extra: Partial<ProbeOutcome> = {}) {
    super(message);
    this.name = "ProbeError";
  }
}

/**
 * Refuses link-local and metadata targets even when the hub sent them: the agent trusts nothing
 * it is sent. Loopback and private addresses are the point here (containers live on them).
 */
export async function guardHost(host: string): Promise<void> {
  try {
    await checkHost(host, { allowPrivate: true });
  } catch (err) {
    if (err instanceof OutboundRefused) throw new ProbeError(err.message);
    throw err;
  }
}

/** Whether two address literals are the same address (IPv6 has many spellings). */
function sameIp(a: string, b: string): boolean {
  const x = parseIp(a);
  const y = parseIp(b);
  return x !== undefined && y !== undefined && x.join() === y.join();
}

/**
 * The address to connect to for a host a check names itself (its `host`, or a redirect's): never
 * a metadata name or a link-local, metadata or reserved address; a loopback or private address
 * only when an admin allowed it (`allow_private`, set by the hub) or it is the container's own.
 * The answer is one of the addresses judged, so the connection goes where the check was allowed
 * to go (fetch, for https, resolves the name once more).
 */
export async function vettedAddress(
  host: string,
  spec: HealthCheckSpec,
  ctx: ProbeContext,
): Promise<string> {
  let addrs: string[];
  try {
    addrs = await checkHost(host, { allowPrivate: true });
  } catch (err) {
    if (err instanceof OutboundRefused) throw new ProbeError(err.message);
    throw err;
  }
  if (spec.http?.allow_private) return addrs[0];
  const own = addrs.some((a) => classifyAddress(a) === "private")
    ? await ctx.targets.addresses(spec.container_id, ctx.signal).catch((): string[] => [])
    : [];
  for (const a of addrs) {
    if (classifyAddress(a) === "private" && !own.some((o) => sameIp(o, a))) {
      throw new ProbeError(
        `Refused target "${host.replace(/^\[|\]$/g, "")}": a loopback or private address that ` +
          "is not the container's own (only an admin may allow it)",
      );
    }
  }
  return addrs[0];
}

/** A host as it goes into a URL (IPv6 literals in brackets). */
export function urlHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** A network error as one short line, without the URL the runtime puts in its message. */
export function networkError(err: unknown): string {
  // fetch says "fetch failed" and keeps the reason in its cause.
  const cause = err instanceof Error && err.cause instanceof Error ? ` ${err.cause.message}` : "";
  const msg = (err instanceof Error ? err.message : String(err)) + cause;
  const known: [RegExp, string][] = [
    [/connection refused/i, "connection refused"],
    [/connection reset/i, "connection reset"],
    [/no route to host/i, "no route to host"],
    [/network is unreachable/i, "network unreachable"],
    [/host is unreachable/i, "host unreachable"],
    [/certificate|tls|ssl/i, "TLS error"],
    [/failed to lookup|name or service not known|dns/i, "cannot resolve host"],
  ];
  for (const [re, short] of known) if (re.test(msg)) return short;
  return msg.replace(/https?:\/\/\S+/g, "…").slice(0, 300);
}

/** Waits for `p` unless `signal` aborts first; a value that arrives too late is handed to `discard`. */
export function raceAbort<T>(
  p: Promise<T>,
  signal: AbortSignal,
  discard: (v: T) => void,
): Promise<T> {
  if (signal.aborted) {
    p.then(discard, () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    let late = false;
    const onAbort = () => {
      late = true;
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    p.then((v) => {
      signal.removeEventListener("abort", onAbort);
      if (late) discard(v);
      else resolve(v);
    }, (err) => {
      signal.removeEventListener("abort", onAbort);
      reject(err);
    });
  });
}
