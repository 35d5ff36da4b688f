/**
 * A host as a URL would name it, the way the WHATWG URL parser reads it: numeric spellings become
 * the address they mean ("2130706433" and "0x7f.1" are 127.0.0.1), names are lower-cased, IPv6
 * literals lose their brackets. Judge this form, not the raw text, or a check may be judged for
 * one target and connect to another.
 */
export function urlHostname(host: string): string {
  const bare = host.replace(/^\[|\]$/g, "");
  try {
    const h = new URL(`http://${bare.includes(":") ? `[${bare}]` : bare}/`).hostname;
    return h.replace(/^\[|\]$/g, "").replace(/\.$/, "");
  } catch {
    return bare.toLowerCase().replace(/\.$/, "");
  }
}
