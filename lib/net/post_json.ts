/**
 * A JSON POST through the outbound policy (lib/net/outbound.ts): the URL is checked again right
 * before the request (DNS answers change), redirects are never followed, time and answer are
 * bounded, and errors name the URL's host only (the path and query may be secret).
 */
import { checkUrl, type OutboundPolicy, redactUrl } from "./outbound.ts";

/** What came back from a POST. */
export interface PostResult {
  status: number;
  /** First bytes of the answer, for the delivery's last error. */
  snippet: string;
}

/**
 * POSTs JSON to a checked URL: checked again now, no redirects followed, bounded time and answer.
 * Errors carry no part of the URL beyond its host.
 */
export async function postJson(
  rawUrl: string,
  body: string,
  headers: Record<string, string>,
  policy: OutboundPolicy & { timeoutMs?: number },
): Promise<PostResult> {
  const url = await checkUrl(rawUrl, policy);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(policy.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new Error(`Request to ${url.host} failed: ${redactUrl(msg, rawUrl).slice(0, 300)}`);
  }
  const text = (await res.text().catch(() => "")).slice(0, 200);
  return { status: res.status, snippet: redactUrl(text, rawUrl) };
}
