/**
 * Custom-domain DNS: the records a user creates for a hostname, and the check that they resolve
 * to the ingress (verified), not yet (pending) or somewhere else (wrong target). ACME is attempted
 * only for a verified domain, so a certificate order never fails on DNS the user has not set up.
 * The resolver is injected (`node:dns/promises` `Resolver` pointed at the system's or a configured
 * server), so tests run the check against a real responder on loopback.
 */
import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import { getDomain } from "tldts";
import { invalidFields } from "../errors.ts";
import { normalizeHostname } from "./spec.ts";

/** Where custom domains must point: the ingress's public addresses and, optionally, its name. */
export interface IngressTarget {
  ipv4: string[];
  ipv6: string[];
  /** A name resolving to the ingress (`ingress.capstan.example`), offered as a CNAME target. */
  cname?: string;
}

/** One record for the user to create at their DNS provider. */
export interface DnsRecordToCreate {
  type: "A" | "AAAA" | "CNAME";
  /** The full name (ASCII), e.g. `shop.example.com` or `*.example.com`. */
  name: string;
  value: string;
}

/** What the check found: the addresses at the end of the CNAME chain, and the chain itself. */
export interface DnsFound {
  a: string[];
  aaaa: string[];
  /** The CNAME targets in the order followed (`[]` when the name has addresses directly). */
  cname: string[];
}

export type DomainStatus = "verified" | "pending" | "wrong_target";

export interface DomainCheck {
  status: DomainStatus;
  found: DnsFound;
  /** One sentence for the user: what was found, and for a pending check why. */
  detail: string;
}

/** The part of `node:dns/promises` `Resolver` the check uses. */
export interface DnsResolver {
  resolve4(hostname: string): Promise<string[]>;
  resolve6(hostname: string): Promise<string[]>;
  resolveCname(hostname: string): Promise<string[]>;
}

export interface DomainCheckOptions {
  /** Bound of one query (default 3 s). */
  queryTimeoutMs?: number;
  /** Bound of the whole check, CNAME chain included (default 10 s). */
  totalTimeoutMs?: number;
  /** The label checked under a wildcard hostname (default a random `capstan-probe-…`). */
  probeLabel?: string;
}

const QUERY_TIMEOUT_MS = 3_000;
const TOTAL_TIMEOUT_MS = 10_000;
/** Longer chains are a misconfiguration (resolvers give up around 8–16 too). */
const MAX_CNAME_DEPTH = 8;

/**
 * A resolver asking `servers` (`["127.0.0.1:5353", "[::1]:53"]`), or the system's when none are
 * given, with one try per query within the check's per-query bound.
 */
export function createDnsResolver(servers: string[] = []): Resolver {
  const resolver = new Resolver({ timeout: QUERY_TIMEOUT_MS, tries: 1 });
  if (servers.length) resolver.setServers(servers);
  return resolver;
}

/** The ASCII hostname, or an Invalid error naming the `hostname` field. */
function asciiHostname(hostname: string): string {
  const host = normalizeHostname(hostname);
  if (host === null) {
    throw invalidFields({ hostname: "must be a domain name like shop.example.com" });
  }
  return host;
}

/** The ingress name in ASCII; a bad one is a configuration error, not the user's input. */
function ingressName(ingress: IngressTarget): string | null {
  if (!ingress.cname) return null;
  const name = normalizeHostname(ingress.cname);
  if (name === null || name.startsWith("*.")) {
    throw new Error(`The ingress name "${ingress.cname}" is not a domain name`);
  }
  return name;
}

/**
 * The records to create for `hostname`: A/AAAA to the ingress addresses at a zone apex (where a
 * CNAME is not allowed: the registrable domain, by the Public Suffix List), a CNAME to the ingress
 * name for a subdomain when one is configured, else A/AAAA. Empty when the ingress has nothing to
 * point at (an apex with only an ingress name).
 */
export function dnsRecordsToCreate(hostname: string, ingress: IngressTarget): DnsRecordToCreate[] {
  const name = asciiHostname(hostname);
  const apex = !name.startsWith("*.") && (getDomain(name) ?? name) === name;
  const target = ingressName(ingress);
  if (!apex && target) return [{ type: "CNAME", name, value: target }];
  return [
    ...ingress.ipv4.map((value) => ({ type: "A" as const, name, value: canonicalIp(value) })),
    ...ingress.ipv6.map((value) => ({ type: "AAAA" as const, name, value: canonicalIp(value) })),
  ];
}

/** The records to create for a hostname, or none when the ingress target is not set up (yet). */
export function dnsRecordsOrNone(hostname: string, ingress: IngressTarget): DnsRecordToCreate[] {
  try {
    return dnsRecordsToCreate(hostname, ingress);
  } catch {
    return [];
  }
}

/** One spelling per address (`2001:DB8:0::1` → `2001:db8::1`), so configured and resolved compare. */
function canonicalIp(address: string): string {
  const a = address.trim();
  return isIP(a) === 6 ? new URL(`http://[${a}]/`).hostname.slice(1, -1) : a;
}

type Answer =
  | { kind: "records"; values: string[] }
  | { kind: "absent" }
  | { kind: "failed"; reason: string };

const ABSENT_CODES = new Set(["ENOTFOUND", "ENODATA"]);
const RECORD_TYPE = { resolve4: "A", resolve6: "AAAA", resolveCname: "CNAME" } as const;

/**
 * Asks one question within `boundMs`; NXDOMAIN and NODATA are both "absent" (so is SERVFAIL under
 * Deno, whose node:dns reports it as ENOTFOUND: still pending, with a vaguer reason).
 */
async function ask(
  resolver: DnsResolver,
  method: keyof typeof RECORD_TYPE,
  name: string,
  boundMs: number,
): Promise<Answer> {
  const what = `the ${RECORD_TYPE[method]} record of ${name}`;
  if (boundMs <= 0) return { kind: "failed", reason: `no time left to ask for ${what}` };
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<Answer>((resolve) => {
    timer = setTimeout(
      () => resolve({ kind: "failed", reason: timedOut(what, boundMs) }),
      boundMs,
    );
  });
  const query = resolver[method](name).then(
    (values): Answer => values.length ? { kind: "records", values } : { kind: "absent" },
    (e): Answer => {
      const code = (e as { code?: string }).code ?? "";
      if (ABSENT_CODES.has(code)) return { kind: "absent" };
      // The resolver may give up before our bound (Deno's caps one try at about 2 s).
      if (code === "ETIMEOUT") {
        return { kind: "failed", reason: timedOut(what, Date.now() - started) };
      }
      return {
        kind: "failed",
        reason: `the DNS server failed to answer for ${what} (${code || e})`,
      };
    },
  );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function timedOut(what: string, ms: number): string {
  return `no answer for ${what} within ${Math.round(ms / 100) / 10} s`;
}

const dnsName = (name: string) => name.toLowerCase().replace(/\.$/, "");

/**
 * Checks that `hostname` resolves to the ingress: follows its CNAME chain (at most 8 steps), then
 * resolves A and AAAA at its end. Verified when there is at least one address and every address
 * is an ingress address (or the chain passes through the ingress name, whose addresses are the
 * ingress's); wrong_target when any address is another; pending when the name does not resolve
 * yet, or a query failed or timed out (the reason is in `detail`). A wildcard hostname is checked
 * at a probe label under it.
 */
export async function checkDomain(
  hostname: string,
  ingress: IngressTarget,
  resolver: DnsResolver,
  opts: DomainCheckOptions = {},
): Promise<DomainCheck> {
  const queryMs = opts.queryTimeoutMs ?? QUERY_TIMEOUT_MS;
  const deadline = Date.now() + (opts.totalTimeoutMs ?? TOTAL_TIMEOUT_MS);
  const bound = () => Math.min(queryMs, deadline - Date.now());
  const host = asciiHostname(hostname);
  const name = host.startsWith("*.")
    ? `${opts.probeLabel ?? `capstan-probe-${crypto.randomUUID().slice(0, 8)}`}.${host.slice(2)}`
    : host;
  const found: DnsFound = { a: [], aaaa: [], cname: [] };
  const result = (status: DomainStatus, detail: string) => ({ status, found, detail });

  let end = name;
  for (let depth = 0;; depth++) {
    const answer = await ask(resolver, "resolveCname", end, bound());
    if (answer.kind === "failed") {
      return result("pending", `Cannot check ${name} yet: ${answer.reason}.`);
    }
    if (answer.kind === "absent") break;
    const next = dnsName(answer.values[0]);
    if (next === name || found.cname.includes(next)) {
      found.cname.push(next);
      return result("wrong_target", `${name} has a CNAME loop: ${chain(name, found.cname)}.`);
    }
    found.cname.push(next);
    end = next;
    if (depth + 1 >= MAX_CNAME_DEPTH) {
      return result(
        "wrong_target",
        `${name} has a CNAME chain longer than ${MAX_CNAME_DEPTH}: ${chain(name, found.cname)}.`,
      );
    }
  }

  const [a, aaaa] = await Promise.all([
    ask(resolver, "resolve4", end, bound()),
    ask(resolver, "resolve6", end, bound()),
  ]);
  if (a.kind === "records") found.a = a.values.map(canonicalIp);
  if (aaaa.kind === "records") found.aaaa = aaaa.values.map(canonicalIp);
  return classify(name, ingress, found, [a, aaaa]);
}

function classify(
  name: string,
  ingress: IngressTarget,
  found: DnsFound,
  answers: Answer[],
): DomainCheck {
  const result = (status: DomainStatus, detail: string) => ({ status, found, detail });
  const target = ingressName(ingress);
  const viaIngressName = target !== null && found.cname.includes(target);
  const ingressAddresses = new Set([...ingress.ipv4, ...ingress.ipv6].map(canonicalIp));
  const addresses = [...found.a, ...found.aaaa];
  const others = viaIngressName ? [] : addresses.filter((ip) => !ingressAddresses.has(ip));
  const via = found.cname.length ? ` (${chain(name, found.cname)})` : "";
  const expected = [...ingressAddresses, ...(target ? [target] : [])].join(", ");

  if (others.length) {
    return result(
      "wrong_target",
      `${name} resolves to ${addresses.join(", ")}${via}; ${others.join(", ")} ${
        others.length === 1 ? "is" : "are"
      } not the ingress (${expected || "no ingress address is configured"}).`,
    );
  }
  const failure = answers.find((x) => x.kind === "failed");
  if (failure) return result("pending", `Cannot check ${name} yet: ${failure.reason}.`);
  if (addresses.length) {
    return result("verified", `${name} resolves to ${addresses.join(", ")}${via}: the ingress.`);
  }
  const last = found.cname.at(-1);
  if (last === undefined) {
    return result("pending", `${name} does not resolve yet (no A, AAAA or CNAME record).`);
  }
  if (last === target) {
    return result("pending", `${name} points at ${target}, which has no address yet.`);
  }
  return result(
    "wrong_target",
    `${name} is a CNAME${via} to a name without addresses, not the ingress (${expected}).`,
  );
}

const chain = (name: string, targets: string[]) => [name, ...targets].join(" → ");
