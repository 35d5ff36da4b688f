/**
 * Where an image pull may make a host's engine connect. The registry host of a reference is an
 * outbound target like any other (DESIGN §5.6): a link-local or cloud metadata address is refused
 * for everyone, and a loopback one (the host's own services: on the embedded agent, the hub's)
 * for everyone below organization admin. LAN registries on private addresses stay usable. Numeric
 * spellings the engine's resolver would read as an address ("127.1", "2130706433", "0x7f.1") are
 * judged as the address they mean; names are judged by what they resolve to here, when they do.
 */
import { Forbidden } from "../errors.ts";
import { classifyAddress, METADATA_NAMES, parseIp } from "../net/outbound.ts";
import { isDockerAdmin, type PolicyCaller } from "./container_policy.ts";
import { urlHostname } from "../net/url_host.ts";

/** Resolves a name to addresses (injected in tests); [] when it does not resolve. */
export type RegistryResolver = (name: string) => Promise<string[]>;

/** How long a registry name may take to resolve before it is judged unresolved. */
const RESOLVE_TIMEOUT_MS = 2_000;

/** The system resolver, bounded in time (a pull must not hang on a dead DNS server). */
export const quickResolver: RegistryResolver = async (name) => {
  const out: string[] = [];
  for (const type of ["A", "AAAA"] as const) {
    try {
      out.push(
        ...await Deno.resolveDns(name, type, { signal: AbortSignal.timeout(RESOLVE_TIMEOUT_MS) }),
      );
    } catch {
      // No record of this type, or no answer in time.
    }
  }
  return out;
};

/** The registry host of an image reference (lower case, without port), or null for Docker Hub. */
export function registryHost(ref: string): string | null {
  const slash = ref.indexOf("/");
  if (slash < 0) return null;
  const first = ref.slice(0, slash);
  // Docker's rule: the first component names a registry when it has a dot or a port, or is localhost.
  if (!first.includes(".") && !first.includes(":") && first !== "localhost") return null;
  return first.replace(/:\d+$/, "").toLowerCase().replace(/\.$/, "");
}

/** What a registry address is to this policy. */
function kindOf(addr: string): "blocked" | "loopback" | null {
  const c = classifyAddress(addr);
  if (c === "blocked") return "blocked";
  const b = parseIp(addr);
  const loopback = b !== undefined &&
    (b.length === 4 ? b[0] === 127 : b.slice(0, 15).every((x) => x === 0) && b[15] === 1);
  return loopback ? "loopback" : null;
}

/** Why the caller may not pull `ref`, or null when the pull may go ahead. */
export async function refusedRegistry(
  caller: PolicyCaller,
  ref: string,
  resolve: RegistryResolver = quickResolver,
): Promise<string | null> {
  const host = registryHost(ref);
  if (host === null) return null;
  // As a URL reads it, which is how the engine's resolver reads numeric spellings too.
  const name = urlHostname(host);
  let kind: "blocked" | "loopback" | null = null;
  if (METADATA_NAMES.has(name)) kind = "blocked";
  else if (name === "localhost" || name.endsWith(".localhost")) kind = "loopback";
  else {
    const addrs = parseIp(name) ? [name] : await resolve(name).catch((): string[] => []);
    for (const a of addrs) {
      const k = kindOf(a);
      if (k === "blocked" || (k === "loopback" && kind === null)) kind = k;
    }
  }
  if (kind === "blocked") {
    return `the registry "${host}" is a link-local or metadata address, which is never allowed`;
  }
  if (kind === "loopback" && !isDockerAdmin(caller)) {
    return `the registry "${host}" is on the host's loopback; only organization admins may ` +
      "pull from it";
  }
  return null;
}

/** 403 naming `ref` when the caller may not pull from the reference's registry. */
export async function assertMayPull(
  caller: PolicyCaller,
  ref: string,
  resolve?: RegistryResolver,
): Promise<void> {
  const why = await refusedRegistry(caller, ref, resolve);
  if (why) {
    throw new Forbidden(`Cannot pull ${ref}: ${why}`, { ref: why });
  }
}
