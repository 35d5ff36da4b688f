/**
 * Ed25519 release signatures with WebCrypto. Keys travel as base64 of their raw 32 bytes (public)
 * or PKCS#8 DER (private); a signature is base64 of its 64 bytes over the manifest's exact bytes.
 */

const ALG = { name: "Ed25519" } as const;

/** Standard base64 of bytes. */
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const x of bytes) s += String.fromCharCode(x);
  return btoa(s);
}

/** Bytes of standard base64; throws on anything else. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t)) throw new Error("not base64");
  return Uint8Array.from(atob(t), (c) => c.charCodeAt(0));
}

/** A new signing key pair: public key (raw, base64) and private key (PKCS#8, base64). */
export async function generateReleaseKeys(): Promise<{ publicKey: string; privateKey: string }> {
  const pair = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const priv = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { publicKey: toBase64(pub), privateKey: toBase64(priv) };
}

/** Signs `data` with a PKCS#8 private key (base64); returns the signature in base64. */
export async function signBytes(
  privateKey: string,
  data: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const key = await crypto.subtle.importKey("pkcs8", fromBase64(privateKey), ALG, false, ["sign"]);
  return toBase64(new Uint8Array(await crypto.subtle.sign(ALG, key, data)));
}

/** Whether `signature` (base64) over `data` verifies with one of `publicKeys` (raw, base64). */
export async function verifyBytes(
  publicKeys: readonly string[],
  data: Uint8Array<ArrayBuffer>,
  signature: string,
): Promise<boolean> {
  let sig: Uint8Array<ArrayBuffer>;
  try {
    sig = fromBase64(signature);
  } catch {
    return false;
  }
  if (sig.length !== 64) return false;
  for (const k of publicKeys) {
    try {
      const raw = fromBase64(k);
      if (raw.length !== 32) continue;
      const key = await crypto.subtle.importKey("raw", raw, ALG, false, ["verify"]);
      if (await crypto.subtle.verify(ALG, key, sig, data)) return true;
    } catch {
      // A malformed key in the list is skipped, never trusted.
    }
  }
  return false;
}

/** Hex SHA-256 of bytes. */
export async function sha256OfBytes(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Short id of a public key (first 16 hex digits of its SHA-256), to name keys in logs. */
export async function keyId(publicKey: string): Promise<string> {
  return (await sha256OfBytes(fromBase64(publicKey))).slice(0, 16);
}

/** Parses a comma/space/newline separated list of base64 public keys (as env vars carry them). */
export function parseKeyList(text: string | undefined): string[] {
  return (text ?? "").split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}
