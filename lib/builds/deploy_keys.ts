import { Buffer } from "node:buffer";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { hostKeyBlob } from "./host_key.ts";

/**
 * SSH deploy keys, made by the hub without `ssh-keygen` (the hub must not depend on OpenSSH being
 * installed): an Ed25519 pair from node:crypto, written in OpenSSH's own `openssh-key-v1` private
 * key format (unencrypted: the hub encrypts it at rest like any secret) and the one-line public
 * key a user pastes into their Git host. Fingerprints are computed the way `ssh-keygen -l` does.
 */

/** A fresh deploy key: the private key for the builder, the public line for the Git host. */
export interface DeployKey {
  /** OpenSSH private key ("-----BEGIN OPENSSH PRIVATE KEY-----"), unencrypted. */
  privateKey: string;
  /** "ssh-ed25519 AAAA… comment", as an authorized_keys or deploy-key form expects it. */
  publicKey: string;
  /** "SHA256:…", as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

const KEY_TYPE = "ssh-ed25519";
const MAGIC = "openssh-key-v1\0";
const encoder = new TextEncoder();

/** SSH wire encoding: a big-endian uint32. */
function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** SSH wire encoding: a length-prefixed byte string. */
function sshString(data: Uint8Array | string): Uint8Array {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return concat(u32(bytes.length), bytes);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const base64 = (data: Uint8Array) => Buffer.from(data).toString("base64");

/** The SHA256 fingerprint of a public key blob, as OpenSSH prints it (base64 without padding). */
export function blobFingerprint(blob: Uint8Array): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The openssh-key-v1 private key file for one Ed25519 key (cipher and KDF "none"). */
function opensshPrivateKey(
  seed: Uint8Array,
  publicKey: Uint8Array,
  publicBlob: Uint8Array,
  comment: string,
): string {
  // Two equal random "check" words let ssh tell a wrong passphrase from a corrupt file.
  const check = new Uint8Array(randomBytes(4));
  let secret = concat(
    check,
    check,
    sshString(KEY_TYPE),
    sshString(publicKey),
    sshString(concat(seed, publicKey)), // OpenSSH keeps the 64-byte form: seed, then public key
    sshString(comment),
  );
  // Padded with 1, 2, 3… to the cipher's block size (8 for "none").
  const pad = (8 - secret.length % 8) % 8;
  secret = concat(secret, Uint8Array.from({ length: pad }, (_, i) => i + 1));
  const file = concat(
    encoder.encode(MAGIC),
    sshString("none"), // cipher
    sshString("none"), // KDF
    sshString(""), // KDF options
    u32(1), // number of keys
    sshString(publicBlob),
    sshString(secret),
  );
  const lines = base64(file).match(/.{1,70}/g) ?? [];
  return [
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    ...lines,
    "-----END OPENSSH PRIVATE KEY-----",
    "",
  ].join("\n");
}

/**
 * A new Ed25519 deploy key. `comment` ends the public line (e.g. "capstan-app-web"); it must be
 * one line of printable characters.
 */
// Async for callers' sake: a later move to WebCrypto (or a slower key type) changes no caller.
// deno-lint-ignore require-await
export async function generateDeployKey(comment: string): Promise<DeployKey> {
  if (!/^[\x21-\x7e][\x20-\x7e]{0,199}$/.test(comment)) {
    throw new Error("Cannot generate a deploy key: the comment must be 1-200 printable characters");
  }
  const jwk = generateKeyPairSync("ed25519").privateKey.export({ format: "jwk" });
  const seed = new Uint8Array(Buffer.from(jwk.d!, "base64url"));
  const publicKey = new Uint8Array(Buffer.from(jwk.x!, "base64url"));
  const blob = concat(sshString(KEY_TYPE), sshString(publicKey));
  return {
    privateKey: opensshPrivateKey(seed, publicKey, blob, comment),
    publicKey: `${KEY_TYPE} ${base64(blob)} ${comment}`,
    fingerprint: blobFingerprint(blob),
  };
}

/**
 * The SHA256 fingerprint ("SHA256:…", like `ssh-keygen -lf`) of the key on a known_hosts line
 * (`[marker] hosts keytype base64 [comment]`) or a public key line (`keytype base64 [comment]`).
 * The key is the field whose base64 decodes to a blob naming the field before it as its type.
 */
export function hostKeyFingerprint(line: string): string {
  return blobFingerprint(hostKeyBlob(line));
}
