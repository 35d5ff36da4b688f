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
  /** Key id of the current key (derived from it, not secret): tells "wrong key" apart from "tampered". */
  readonly keyId: string;
  /** Key ids of every key this box opens: the current one first, then previous keys (rotation). */
  readonly keyIds: readonly string[];
  encrypt(plaintext: string, context: string): Promise<string>;
  decrypt(blob: string, context: string): Promise<string>;
  encryptBytes(plaintext: Uint8Array, context: string): Promise<string>;
  decryptBytes(blob: string, context: string): Promise<Uint8Array>;
  /**
   * The same blob with its data key wrapped by the current key (a key rotation): the ciphertext
   * is untouched, so nothing is decrypted but the 32-byte data key. A blob already under the
   * current key comes back as it is.
   */
  rewrap(blob: string, context: string): Promise<string>;
}

/** The key id a blob was written under (undefined for something that is not a blob). */
export function blobKeyId(blob: string): string | undefined {
  const parts = blob.split(".");
  return parts.length === 4 && parts[0] === VERSION ? parts[1] : undefined;
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

interface Kek {
  id: string;
  key: CryptoKey;
}

/** Derives one key-encryption key and its key id from a hub secret key. */
async function deriveKek(secretKey: string): Promise<Kek> {
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
  const key = await crypto.subtle.deriveKey(
    hkdf("key-encryption-key"),
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  const id = Array.from(
    new Uint8Array(await crypto.subtle.deriveBits(hkdf("key-id"), ikm, 64)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  return { id, key };
}

const aad = (what: string, context: string) =>
  new TextEncoder().encode(`capstan:${VERSION}:${what}:${context}`);

/**
 * A box over the hub secret key and, while a rotation is under way, the keys it replaces:
 * blobs are written under `secretKey` and opened under whichever key of the ring wrote them.
 */
export async function createSecretBox(
  secretKey: string,
  previousKeys: readonly string[] = [],
): Promise<SecretBox> {
  const current = await deriveKek(secretKey);
  const ring = new Map<string, Kek>([[current.id, current]]);
  for (const k of previousKeys) {
    const kek = await deriveKek(k);
    if (!ring.has(kek.id)) ring.set(kek.id, kek);
  }

  /** The data-key half and data half of a blob, checked; throws SecretDecryptError. */
  function split(blob: string): { kek: Kek; w: Uint8Array<ArrayBuffer>; data: string } {
    const parts = blob.split(".");
    if (parts.length !== 4 || parts[0] !== VERSION) {
      throw new SecretDecryptError("unknown format");
    }
    const kek = ring.get(parts[1]);
    if (!kek) {
      throw new SecretDecryptError(
        `it was encrypted with a different hub secret key (key id ${parts[1]})`,
      );
    }
    const w = fromB64url(parts[2]);
    if (w.length <= IV_BYTES + 16) throw new SecretDecryptError("malformed");
    return { kek, w, data: parts[3] };
  }

  async function unwrap(kek: Kek, w: Uint8Array<ArrayBuffer>, context: string) {
    try {
      return new Uint8Array(
        await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: w.slice(0, IV_BYTES), additionalData: aad("dek", context) },
          kek.key,
          w.slice(IV_BYTES),
        ),
      );
    } catch {
      throw new SecretDecryptError("the data key does not authenticate");
    }
  }

  async function wrap(dekBytes: Uint8Array<ArrayBuffer>, context: string): Promise<string> {
    const wrapIv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const wrapped = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: wrapIv, additionalData: aad("dek", context) },
        current.key,
        dekBytes,
      ),
    );
    return base64url(concat(wrapIv, wrapped));
  }

  async function encryptBytes(plaintext: Uint8Array, context: string): Promise<string> {
    const dekBytes = crypto.getRandomValues(new Uint8Array(32));
    const dek = await crypto.subtle.importKey("raw", dekBytes, "AES-GCM", false, ["encrypt"]);
    const wrapped = await wrap(dekBytes, context);
    dekBytes.fill(0);
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const ct = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: aad("data", context) },
        dek,
        plaintext as Uint8Array<ArrayBuffer>,
      ),
    );
    return [VERSION, current.id, wrapped, base64url(concat(iv, ct))].join(".");
  }

  async function decryptBytes(blob: string, context: string): Promise<Uint8Array> {
    const { kek, w, data } = split(blob);
    const d = fromB64url(data);
    if (d.length < IV_BYTES + 16) throw new SecretDecryptError("malformed");
    const dekBytes = await unwrap(kek, w, context);
    try {
      const dek = await crypto.subtle.importKey("raw", dekBytes, "AES-GCM", false, ["decrypt"]);
      return new Uint8Array(
        await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: d.slice(0, IV_BYTES), additionalData: aad("data", context) },
          dek,
          d.slice(IV_BYTES),
        ),
      );
    } catch {
      throw new SecretDecryptError("the ciphertext does not authenticate");
    } finally {
      dekBytes.fill(0);
    }
  }

  return {
    keyId: current.id,
    keyIds: [...ring.keys()],
    encryptBytes,
    decryptBytes,
    encrypt: (plaintext, context) => encryptBytes(new TextEncoder().encode(plaintext), context),
    async decrypt(blob, context) {
      const bytes = await decryptBytes(blob, context);
      try {
        return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
      } catch {
        throw new SecretDecryptError("the plaintext is not text");
      } finally {
        bytes.fill(0);
      }
    },
    async rewrap(blob, context) {
      const { kek, w, data } = split(blob);
      if (kek.id === current.id) return blob;
      const dekBytes = await unwrap(kek, w, context);
      try {
        return [VERSION, current.id, await wrap(dekBytes, context), data].join(".");
      } finally {
        dekBytes.fill(0);
      }
    },
  };
}
