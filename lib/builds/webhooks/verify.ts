/**
 * Verifies a webhook delivery on its raw bytes, before anything parses the body.
 *
 * GitHub, Bitbucket Cloud and Gitea/Forgejo sign the body with HMAC-SHA256; GitLab sends the
 * secret itself as a token. Every comparison is `timingSafeEqual` on two 32-byte values: the HMAC
 * against the decoded hex signature, or SHA-256 of the token against SHA-256 of the secret (so
 * neither the secret's length nor a matching prefix shows in the timing).
 *
 * Why not `@octokit/webhooks-methods`' `verify` for GitHub: it takes the payload as a JS string
 * (and throws on anything else or on an empty one) and HMACs that string's UTF-8 encoding. Turning
 * the received bytes into a string is lossy — invalid UTF-8 becomes U+FFFD and TextDecoder drops a
 * BOM — so it would verify different bytes than the ones received, and two different bodies could
 * share one signature. One HMAC path for the three signing providers also keeps this short. The
 * tests check that what that package signs verifies here (webhooks_test.ts).
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Provider } from "./providers.ts";

/** Why a delivery was refused: no secret configured, no signature sent, or a wrong one. */
export type VerifyRefusal = "missing_signature" | "bad_signature" | "disabled";

/** The outcome of `verifyDelivery`. */
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyRefusal };

// Signature headers longer than this are refused unread: a valid one is 71 bytes ("sha256=" + 64).
const MAX_SIGNATURE_HEADER = 256;
// GitLab's token is whatever the user typed; this is far above any sane secret.
const MAX_TOKEN_HEADER = 1024;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/** How each provider carries its proof: the header(s) and the prefix before the hex. */
const SIGNATURES: Record<Exclude<Provider, "gitlab">, { headers: string[]; prefix: string }> = {
  github: { headers: ["x-hub-signature-256"], prefix: "sha256=" },
  bitbucket: { headers: ["x-hub-signature"], prefix: "sha256=" },
  // Forgejo sends both with the same value; plain Gitea only the first.
  gitea: { headers: ["x-gitea-signature", "x-forgejo-signature"], prefix: "" },
};

/** Verifies the signature/token on the raw body. Never throws on bad input. */
// deno-lint-ignore require-await -- async so that a throw anywhere still ends as a refusal
export async function verifyDelivery(
  provider: Provider,
  headers: Headers,
  body: Uint8Array,
  secret: string,
): Promise<VerifyResult> {
  try {
    return verifyNow(provider, headers, body, secret);
  } catch {
    return refuse("bad_signature");
  }
}

function verifyNow(
  provider: Provider,
  headers: Headers,
  body: Uint8Array,
  secret: string,
): VerifyResult {
  // An empty secret means the endpoint is off, whatever the request carries.
  if (typeof secret !== "string" || secret === "") return refuse("disabled");
  if (provider === "gitlab") return verifyToken(headers.get("x-gitlab-token"), secret);
  const how = SIGNATURES[provider];
  if (!how) return refuse("bad_signature");
  const sent = how.headers.map((h) => headers.get(h)).find((v) => v !== null && v !== "");
  if (sent === undefined || sent === null) return refuse("missing_signature");
  return verifyHmac(sent, how.prefix, body, secret);
}

function verifyHmac(sent: string, prefix: string, body: Uint8Array, secret: string): VerifyResult {
  if (sent.length > MAX_SIGNATURE_HEADER) return refuse("bad_signature");
  const value = sent.trim();
  if (!value.toLowerCase().startsWith(prefix)) return refuse("bad_signature");
  const hex = value.slice(prefix.length);
  // The shape of a signature is public; only its value is compared in constant time.
  if (!HEX_SHA256.test(hex)) return refuse("bad_signature");
  const expected = createHmac("sha256", secret).update(body).digest();
  const given = hexBytes(hex);
  return timingSafeEqual(expected, given) ? { ok: true } : refuse("bad_signature");
}

function verifyToken(sent: string | null, secret: string): VerifyResult {
  if (sent === null || sent === "") return refuse("missing_signature");
  if (sent.length > MAX_TOKEN_HEADER) return refuse("bad_signature");
  const given = createHash("sha256").update(sent, "utf8").digest();
  const expected = createHash("sha256").update(secret, "utf8").digest();
  return timingSafeEqual(given, expected) ? { ok: true } : refuse("bad_signature");
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function refuse(reason: VerifyRefusal): VerifyResult {
  return { ok: false, reason };
}
