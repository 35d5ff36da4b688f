/**
 * Generic JSON webhooks, signed so receivers can check that a POST came from this hub:
 *
 *   X-Capstan-Timestamp: <unix seconds>            (also `timestamp` in the body, so it is signed)
 *   X-Capstan-Signature: sha256=<hex HMAC-SHA256(secret, raw request body)>
 *   X-Capstan-Delivery:  <delivery id>             (the same on every retry: deduplicate on it)
 *
 * To verify: compute HMAC-SHA256 over the raw body bytes with the channel's secret, compare it in
 * constant time with the header's hex, and refuse a timestamp more than a few minutes old.
 */
import type { AlertMessage } from "./message.ts";

/** Hex HMAC-SHA256 of `body` (text as UTF-8, or raw bytes) under `secret`. */
export async function hmacHex(secret: string, body: string | Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = new Uint8Array(
    await crypto.subtle.sign(
      "HMAC",
      key,
      (typeof body === "string" ? new TextEncoder().encode(body) : body) as BufferSource,
    ),
  );
  return Array.from(sig, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The body and headers of a signed webhook POST. */
export async function webhookRequest(
  m: AlertMessage,
  secret: string,
  deliveryId: string,
  now: number,
): Promise<{ body: string; headers: Record<string, string> }> {
  const timestamp = Math.floor(now / 1000);
  const body = JSON.stringify({ ...m, delivery_id: deliveryId, timestamp });
  return {
    body,
    headers: {
      "x-capstan-timestamp": String(timestamp),
      "x-capstan-signature": `sha256=${await hmacHex(secret, body)}`,
      "x-capstan-delivery": deliveryId,
      "x-capstan-event": m.event,
    },
  };
}
