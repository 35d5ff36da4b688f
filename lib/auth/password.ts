import { base64url, constantTimeEqual } from "../util/ids.ts";
import { createHashQueue } from "./hash_queue.ts";

/** OWASP's 2023 floor for PBKDF2-HMAC-SHA256; stored with each hash so it can rise later. */
export const PBKDF2_ITERATIONS = 600_000;
const MIN_ITERATIONS = 600_000;

/** Every hash of this process goes through one bounded queue (see hash_queue.ts). */
export const hashQueue = createHashQueue();

function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  return hashQueue.run(() => deriveNow(password, salt, iterations));
}

async function deriveNow(
  password: string,
  salt: Uint8Array,
  iterations: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    [
      "deriveBits",
    ],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

/** Hashes a password as `pbkdf2-sha256$<iterations>$<salt>$<hash>` (base64url parts). */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, PBKDF2_ITERATIONS);
  return `pbkdf2-sha256$${PBKDF2_ITERATIONS}$${base64url(salt)}$${base64url(hash)}`;
}

function fromBase64url(s: string): Uint8Array {
  const b = atob(
    s.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (s.length % 4)) % 4),
  );
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

/** Checks a password against a stored hash in constant time; malformed or weak hashes never verify. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iter, salt, hash] = stored.split("$");
  const iterations = Number(iter);
  if (
    scheme !== "pbkdf2-sha256" || !Number.isInteger(iterations) || iterations < MIN_ITERATIONS ||
    !salt || !hash
  ) {
    return false;
  }
  const actual = await derive(password, fromBase64url(salt), iterations);
  return constantTimeEqual(base64url(actual), hash);
}

/** A hash that no password matches, verified against for unknown accounts so timing does not reveal them. */
export const DUMMY_HASH = `pbkdf2-sha256$${PBKDF2_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA$invalid`;
