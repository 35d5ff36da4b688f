import type { HealthCheckSpec } from "../../lib/protocol/health.ts";
import { http1 } from "./http1.ts";
import {
  guardHost,
  networkError,
  type ProbeContext,
  ProbeError,
  type ProbeOutcome,
  urlHost,
  vettedAddress,
} from "./probe.ts";

/** How much of a body is searched for the expected text: a health page, not a download. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Redirects followed at most, when following is on. */
const MAX_REDIRECTS = 5;
const decoder = new TextDecoder();

/** Reads at most `max` bytes of a body, then drops the rest of it. */
async function bodyPrefix(body: ReadableStream<Uint8Array> | null, max: number): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let len = 0;
  try {
    while (len < max) {
      const r = await reader.read();
      if (r.done) break;
      parts.push(r.value.subarray(0, max - len));
      len += Math.min(r.value.length, max - len);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return decoder.decode(all);
}

/** One answer as the probe needs it. */
interface Answer {
  status: number;
  location: string | null;
  /** The body's first bytes as text, when asked for. */
  text?: string;
}

/**
 * One request without following redirects to `address` (the vetted address of the URL's host):
 * plain http by hand (http1.ts), https with fetch.
 */
async function request(
  url: URL,
  address: string,
  method: "GET" | "HEAD",
  headers: Headers,
  wantBody: boolean,
  signal: AbortSignal,
): Promise<Answer> {
  if (url.protocol === "http:") {
    const r = await http1({
      hostname: address,
      port: Number(url.port || 80),
      method,
      target: url.pathname + url.search,
      host: url.host,
      headers,
      maxBody: wantBody ? MAX_BODY_BYTES : 0,
      signal,
    });
    return {
      status: r.status,
      location: r.headers.get("location") ?? null,
      text: wantBody ? decoder.decode(r.body) : undefined,
    };
  }
  const res = await fetch(url, { method, headers, redirect: "manual", signal });
  const location = res.headers.get("location");
  if (!wantBody) {
    await res.body?.cancel();
    return { status: res.status, location };
  }
  return { status: res.status, location, text: await bodyPrefix(res.body, MAX_BODY_BYTES) };
}

/**
 * GET or HEAD to the container (or the spec's host): the status must fall in one of the expected
 * ranges and, when asked, the body's first 64 KB must contain the expected text. A host the check
 * names itself, and every redirect's, passes the outbound policy (vettedAddress) before any
 * connection; redirects are followed by hand so that each hop is judged.
 */
export async function httpProbe(spec: HealthCheckSpec, ctx: ProbeContext): Promise<ProbeOutcome> {
  const h = spec.http;
  if (!h) throw new ProbeError("http check without http settings");
  const own = h.host === undefined;
  const host = h.host ?? await ctx.targets.address(spec.container_id, ctx.signal);
  let url = new URL(`${h.scheme}://${urlHost(host)}:${h.port}${h.path}`);
  // Judged as the URL reads it ("2130706433" is 127.0.0.1), which is where a request would go.
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  let address: string;
  if (own) {
    await guardHost(hostname);
    address = hostname;
  } else address = await vettedAddress(hostname, spec, ctx);
  const headers = new Headers(h.headers);
  if (!headers.has("user-agent")) headers.set("user-agent", "capstan-health/1");
  const wantBody = h.body_contains !== undefined && h.method !== "HEAD";
  const started = performance.now();
  for (let hop = 0;; hop++) {
    let res: Answer;
    try {
      res = await request(url, address, h.method, headers, wantBody, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw new ProbeError(networkError(err));
    }
    if (h.follow_redirects && res.status >= 300 && res.status < 400 && res.location) {
      if (hop >= MAX_REDIRECTS) {
        throw new ProbeError(`more than ${MAX_REDIRECTS} redirects`, { status_code: res.status });
      }
      const next = new URL(res.location, url);
      if (next.protocol !== "http:" && next.protocol !== "https:") {
        throw new ProbeError(`redirect to a ${next.protocol} URL refused`, {
          status_code: res.status,
        });
      }
      address = await vettedAddress(next.hostname.replace(/^\[|\]$/g, ""), spec, ctx);
      url = next;
      continue;
    }
    const status = res.status;
    const wanted = h.expect_status.some(([lo, hi]) => status >= lo && status <= hi);
    let error: string | null = wanted ? null : `unexpected status ${status}`;
    if (wanted && wantBody && !res.text!.includes(h.body_contains!)) {
      error = "expected text not found in the body";
    }
    const response_ms = Math.round((performance.now() - started) * 100) / 100;
    return { ok: error === null, response_ms, status_code: status, error };
  }
}
