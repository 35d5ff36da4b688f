/**
 * The outbound URL policy (DESIGN §5.6) for notification webhooks and SMTP servers, health-check
 * targets (judged again by the agent, which imports this from lib/net) and registries: http(s)
 * only, no credentials in the URL, and every address the name resolves to must be public.
 * Link-local and cloud metadata addresses are refused always; loopback and private ranges unless
 * the admin set CAPSTAN_ALLOW_PRIVATE_TARGETS=1 (a hub on a LAN notifying a LAN service). Checked
 * when a channel is saved (400) and again right before every send, since DNS answers change. A
 * name that resolves to an allowed address at check time may in principle answer differently to
 * the connect a moment later (DNS rebinding); redirects are never followed, which closes the
 * easier path to the same.
 */

/** Refused target; the message names the reason, never the URL's path or query (they may be secret). */
export class OutboundRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutboundRefused";
  }
}

/** Resolves a name to its addresses (injected in tests). */
export type Resolver = (hostname: string) => Promise<string[]>;

/** Names of metadata services refused whatever they resolve to. */
export const METADATA_NAMES = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "metadata.azure.internal",
  "instance-data",
  "instance-data.ec2.internal",
]);

/** Parses an IPv4 or IPv6 literal into 4 or 16 bytes; undefined when it is not one. */
export function parseIp(s: string): Uint8Array | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const b = v4.slice(1).map(Number);
    return b.every((x, i) => x <= 255 && String(x) === v4[i + 1]) ? Uint8Array.from(b) : undefined;
  }
  if (!s.includes(":") || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let head = s;
  let tail4: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    tail4 = parseIp(s.slice(lastColon + 1));
    if (!tail4 || tail4.length !== 4) return undefined;
    head = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (x: string) => (x === "" ? [] : x.split(":"));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(all[i])) return undefined;
    const n = parseInt(all[i], 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

const inV4 = (b: Uint8Array, net: number[], bits: number) => {
  for (let i = 0; i < 4 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((b[i] & mask) !== (net[i] & mask)) return false;
  }
  return true;
};

/** Why an address may not be a target: "blocked" always, "private" unless allowed, or null. */
export function classifyAddress(ip: string): "blocked" | "private" | null {
  const b = parseIp(ip);
  if (!b) return "blocked";
  if (b.length === 16) {
    const zeros = (n: number) => b.slice(0, n).every((x) => x === 0);
    // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96): judge the IPv4 inside.
    if (zeros(10) && b[10] === 0xff && b[11] === 0xff) {
      return classifyAddress(b.slice(12).join("."));
    }
    if (zeros(12) && !(b[12] === 0 && b[13] === 0 && b[14] === 0 && b[15] <= 1)) {
      return classifyAddress(b.slice(12).join("."));
    }
    if (
      b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b &&
      b.slice(4, 12).every((x) => x === 0)
    ) {
      return classifyAddress(b.slice(12).join("."));
    }
    // 6to4 (2002::/16) carries an IPv4 address in bits 16–48.
    if (b[0] === 0x20 && b[1] === 0x02) return classifyAddress(b.slice(2, 6).join("."));
    if (b.every((x) => x === 0)) return "blocked"; // ::
    if (b.slice(0, 15).every((x) => x === 0) && b[15] === 1) return "private"; // ::1
    if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return "blocked"; // fe80::/10 link-local
    if (b[0] === 0xff) return "blocked"; // multicast
    // AWS's IPv6 metadata endpoint fd00:ec2::254 sits inside the private ULA range; refuse it always.
    if (ip.toLowerCase().replace(/^\[|\]$/g, "") === "fd00:ec2::254") return "blocked";
    if ((b[0] & 0xfe) === 0xfc) return "private"; // fc00::/7 unique local
    if (b[0] === 0xfe && (b[1] & 0xc0) === 0xc0) return "private"; // fec0::/10 site-local
    return null;
  }
  const blocked: [number[], number][] = [
    [[0, 0, 0, 0], 8],
    [[169, 254, 0, 0], 16], // link-local: cloud metadata lives here
    [[100, 100, 100, 200], 32], // Alibaba Cloud metadata
    [[224, 0, 0, 0], 4],
    [[240, 0, 0, 0], 4],
  ];
  if (blocked.some(([n, bits]) => inV4(b, n, bits))) return "blocked";
  const priv: [number[], number][] = [
    [[127, 0, 0, 0], 8],
    [[10, 0, 0, 0], 8],
    [[172, 16, 0, 0], 12],
    [[192, 168, 0, 0], 16],
    [[100, 64, 0, 0], 10],
    [[192, 0, 0, 0], 24],
    [[198, 18, 0, 0], 15],
  ];
  return priv.some(([n, bits]) => inV4(b, n, bits)) ? "private" : null;
}

/** The system resolver: A and AAAA answers ("localhost" is loopback without asking DNS). */
export const systemResolver: Resolver = async (hostname) => {
  if (hostname === "localhost" || hostname.endsWith(".localhost")) return ["127.0.0.1", "::1"];
  const out: string[] = [];
  for (const type of ["A", "AAAA"] as const) {
    try {
      out.push(...await Deno.resolveDns(hostname, type));
    } catch {
      // No record of this type (or no answer): the other type may still have one.
    }
  }
  return out;
};

/** Options of the policy. */
export interface OutboundPolicy {
  allowPrivate: boolean;
  resolve?: Resolver;
}

/**
 * Checks a host name or address literal: refused when it is a metadata name, does not resolve, or
 * any of its addresses is blocked (or private without the admin's permission). Returns the addresses.
 */
export async function checkHost(host: string, policy: OutboundPolicy): Promise<string[]> {
  const name = host.replace(/^\[|\]$/g, "").toLowerCase().replace(/\.$/, "");
  if (!name || name.includes("%")) throw new OutboundRefused("Refused target: invalid host");
  if (METADATA_NAMES.has(name)) throw new OutboundRefused("Refused target: a metadata service");
  const literal = parseIp(name) ? [name] : undefined;
  const addrs = literal ?? await (policy.resolve ?? systemResolver)(name);
  if (!addrs.length) throw new OutboundRefused(`Cannot resolve host "${name}"`);
  for (const a of addrs) {
    const c = classifyAddress(a);
    if (c === "blocked") {
      throw new OutboundRefused(
        `Refused target "${name}": it resolves to a link-local, metadata or reserved address`,
      );
    }
    if (c === "private" && !policy.allowPrivate) {
      throw new OutboundRefused(
        `Refused target "${name}": it resolves to a loopback or private address (an admin may allow private targets with CAPSTAN_ALLOW_PRIVATE_TARGETS=1)`,
      );
    }
  }
  return addrs;
}

/**
 * The static part of the URL check, usable without DNS: parses, allows http(s) only, refuses
 * credentials in the URL and literal addresses that are refused anyway.
 */
export function checkUrlSyntax(raw: string, policy: { allowPrivate: boolean }): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundRefused("Invalid URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new OutboundRefused(`Refused URL: only http and https are allowed, not ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw new OutboundRefused("Refused URL: credentials in the URL");
  }
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (METADATA_NAMES.has(host.replace(/\.$/, ""))) {
    throw new OutboundRefused("Refused target: a metadata service");
  }
  if (parseIp(host)) {
    const c = classifyAddress(host);
    if (c === "blocked" || (c === "private" && !policy.allowPrivate)) {
      throw new OutboundRefused(
        `Refused target "${host}": ${
          c === "blocked"
            ? "a link-local, metadata or reserved address"
            : "a loopback or private address (an admin may allow private targets with CAPSTAN_ALLOW_PRIVATE_TARGETS=1)"
        }`,
      );
    }
  }
  return url;
}

/** Full URL check: syntax, then every resolved address. */
export async function checkUrl(raw: string, policy: OutboundPolicy): Promise<URL> {
  const url = checkUrlSyntax(raw, policy);
  await checkHost(url.hostname, policy);
  return url;
}

/** Replaces every appearance of a secret URL (or its path) in a message, e.g. a fetch error. */
export function redactUrl(message: string, url: string): string {
  let out = message;
  try {
    const u = new URL(url);
    for (const s of [url, u.href, u.pathname + u.search, u.search].filter((x) => x.length > 1)) {
      out = out.split(s).join("…");
    }
  } catch {
    out = out.split(url).join("…");
  }
  return out;
}
