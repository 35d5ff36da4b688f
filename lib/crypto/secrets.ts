/**
 * Secrets at rest (DESIGN §5.4): AES-256-GCM under a fresh data key per secret, the data key wrapped
 * (AES-256-GCM again) by a key-encryption key derived with HKDF-SHA256 from the hub's secret key.
 * A per-secret key means no two secrets share a key/nonce space however many are written, and a
 * future key rotation only has to rewrap data keys. Every failure — wrong hub key, a flipped bit,
 * a blob moved to another row — is the same `SecretDecryptError`: fail closed, never a guess.
 *
 * Blob: `v1.<key id>.<b64url(wrap iv ‖ wrapped data key)>.<b64url(iv ‖ ciphertext)>`.
 */
import { base64url } from "../util/ids.ts";

const VERSION = "v1";
const SALT = new TextEncoder().encode("capstan/secrets/v1");
const IV_BYTES = 12;

/** Thrown whenever a secret cannot be decrypted; the message never carries secret material. */
export class SecretDecryptError extends Error {
  constructor(reason: string) {
    super(`Cannot decrypt secret: ${reason}`);
    this.name = "SecretDecryptError";
  }
}

/** Encrypts and decrypts secrets bound to a context (e.g. `channel:<id>`), so a blob only opens where it was written. */
export interface SecretBox {
  /** Key id (derived from the hub key, not secret): tells "wrong key" apart from "tampered". */
  readonly keyId: string;
  encrypt(plaintext: string, context: string): Promise<string>;
  decrypt(blob: string, context: string): Promise<string>;
}

/** Decodes the hub secret key (base64 or base64url, ≥ 32 bytes). */
export function decodeSecretKey(key: string): Uint8Array<ArrayBuffer> {
  const b64 = key.trim().replaceAll("-", "+").replaceAll("_", "/").replace(/=+$/, "");
  let bin: string;
  try {
    bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  } catch {
    throw new Error("The hub secret key is not base64");
  }
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  if (bytes.length < 32) throw new Error("The hub secret key must be at least 32 bytes");
  return bytes;
}

function fromB64url(s: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) throw new SecretDecryptError("malformed");
  const b64 = s.replaceAll("-", "+").replaceAll("_", "/");
  try {
    return Uint8Array.from(
      atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)),
      (c) => c.charCodeAt(0),
    );
  } catch {
    throw new SecretDecryptError("malformed");
  }
}

const concat = (a: Uint8Array, b: Uint8Array) => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
};

/** Derives the key-encryption key and key id from the hub secret key. */
export async function createSecretBox(secretKey: string): Promise<SecretBox> {
  const ikm = await crypto.subtle.importKey("raw", decodeSecretKey(secretKey), "HKDF", false, [
    "deriveKey",
    "deriveBits",
  ]);
  const hkdf = (info: string) => ({
    name: "HKDF",
    hash: "SHA-256",
    salt: SALT,
    info: new TextEncoder().encode(info),
  });
  const kek = await crypto.subtle.deriveKey(
    hkdf("key-encryption-key"),
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  const kid = Array.from(
    new Uint8Array(await crypto.subtle.deriveBits(hkdf("key-id"), ikm, 64)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const aad = (what: string, context: string) =>
    new TextEncoder().encode(`capstan:${VERSION}:${what}:${context}`);

  return {
    keyId: kid,

    async encrypt(plaintext, context) {
      const dekBytes = crypto.getRandomValues(new Uint8Array(32));
      const dek = await crypto.subtle.importKey("raw", dekBytes, "AES-GCM", false, ["encrypt"]);
      const wrapIv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const wrapped = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: "AES-GCM", iv: wrapIv, additionalData: aad("dek", context) },
          kek,
          dekBytes,
        ),
      );
      dekBytes.fill(0);
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const ct = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: "AES-GCM", iv, additionalData: aad("data", context) },
          dek,
          new TextEncoder().encode(plaintext),
        ),
      );
      return [VERSION, kid, base64url(concat(wrapIv, wrapped)), base64url(concat(iv, ct))].join(
        ".",
      );
    },

    async decrypt(blob, context) {
      const parts = blob.split(".");
      if (parts.length !== 4 || parts[0] !== VERSION) {
        throw new SecretDecryptError("unknown format");
      }
      if (parts[1] !== kid) {
        throw new SecretDecryptError("it was encrypted with a different hub secret key");
      }
      const w = fromB64url(parts[2]);
      const d = fromB64url(parts[3]);
      if (w.length <= IV_BYTES + 16 || d.length < IV_BYTES + 16) {
        throw new SecretDecryptError("malformed");
      }
      let dekBytes: Uint8Array<ArrayBuffer>;
      try {
        dekBytes = new Uint8Array(
          await crypto.subtle.decrypt(
            { name: "AES-GCM", iv: w.slice(0, IV_BYTES), additionalData: aad("dek", context) },
            kek,
            w.slice(IV_BYTES),
          ),
        );
      } catch {
        throw new SecretDecryptError("the data key does not authenticate");
      }
      try {
        const dek = await crypto.subtle.importKey("raw", dekBytes, "AES-GCM", false, ["decrypt"]);
        const pt = await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: d.slice(0, IV_BYTES), additionalData: aad("data", context) },
          dek,
          d.slice(IV_BYTES),
        );
        return new TextDecoder("utf-8", { fatal: true }).decode(pt);
      } catch {
        throw new SecretDecryptError("the ciphertext does not authenticate");
      } finally {
        dekBytes.fill(0);
      }
    },
  };
}
