import type { HealthCheckSpec } from "../../lib/protocol/health.ts";
import {
  guardHost,
  networkError,
  type ProbeContext,
  ProbeError,
  type ProbeOutcome,
  urlHost,
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

/**
 * GET or HEAD to the container (or the spec's host): the status must fall in one of the expected
 * ranges and, when asked, the body's first 64 KB must contain the expected text. Redirects are
 * followed by hand, so every hop's host passes the same address check as the first.
 */
export async function httpProbe(spec: HealthCheckSpec, ctx: ProbeContext): Promise<ProbeOutcome> {
  const h = spec.http;
  if (!h) throw new ProbeError("http check without http settings");
  const host = h.host ?? await ctx.targets.address(spec.container_id, ctx.signal);
  await guardHost(host);
  let url = new URL(`${h.scheme}://${urlHost(host)}:${h.port}${h.path}`);
  const headers = new Headers(h.headers);
  if (!headers.has("user-agent")) headers.set("user-agent", "capstan-health/1");
  const started = performance.now();
  for (let hop = 0;; hop++) {
    let res: Response;
    try {
      res = await fetch(url, { method: h.method, headers, redirect: "manual", signal: ctx.signal });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      throw new ProbeError(networkError(err));
    }
    const location = res.headers.get("location");
    if (h.follow_redirects && res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS) {
        throw new ProbeError(`more than ${MAX_REDIRECTS} redirects`, { status_code: res.status });
      }
      const next = new URL(location, url);
      if (next.protocol !== "http:" && next.protocol !== "https:") {
        throw new ProbeError(`redirect to a ${next.protocol} URL refused`, {
          status_code: res.status,
        });
      }
      await guardHost(next.hostname.replace(/^\[|\]$/g, ""));
      url = next;
      continue;
    }
    const status = res.status;
    const wanted = h.expect_status.some(([lo, hi]) => status >= lo && status <= hi);
    let error: string | null = wanted ? null : `unexpected status ${status}`;
    if (wanted && h.body_contains !== undefined && h.method !== "HEAD") {
      const text = await bodyPrefix(res.body, MAX_BODY_BYTES);
      if (!text.includes(h.body_contains)) error = "expected text not found in the body";
    } else await res.body?.cancel();
    const response_ms = Math.round((performance.now() - started) * 100) / 100;
    return { ok: error === null, response_ms, status_code: status, error };
  }
}
