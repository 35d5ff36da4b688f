/**
 * Reading SSH host keys from known_hosts and public key lines, with no `node:` import: the agent
 * uses it for a build's pinned host key, and a `node:` import would start Deno's Node layer in
 * every agent (issue 20). The hub's deploy_keys.ts builds on it.
 */

/** The key type named at the start of an SSH public key blob, or null when it is not one. */
export function blobKeyType(blob: Uint8Array): string | null {
  if (blob.length < 4) return null;
  const len = new DataView(blob.buffer, blob.byteOffset).getUint32(0);
  if (len < 1 || len > 64 || 4 + len > blob.length) return null;
  return new TextDecoder().decode(blob.subarray(4, 4 + len));
}

/**
 * The key blob on a known_hosts line (`[marker] hosts keytype base64 [comment]`) or a public key
 * line (`keytype base64 [comment]`): the field whose base64 decodes to a blob naming the field
 * before it as its type. Throws when there is none.
 */
export function hostKeyBlob(line: string): Uint8Array<ArrayBuffer> {
  const fields = line.trim().split(/\s+/);
  for (let i = 0; i + 1 < fields.length; i++) {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(fields[i + 1])) continue;
    let blob: Uint8Array<ArrayBuffer>;
    try {
      blob = Uint8Array.fromBase64(fields[i + 1]);
    } catch {
      continue;
    }
    if (blobKeyType(blob) === fields[i]) return blob;
  }
  throw new Error("Cannot read a host key fingerprint: the line holds no SSH public key");
}

/** The SHA256 fingerprint ("SHA256:…", like `ssh-keygen -lf`) of the key on such a line. */
export async function hostKeyFingerprintOf(line: string): Promise<string> {
  const blob = hostKeyBlob(line);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", blob));
  return `SHA256:${digest.toBase64({ omitPadding: true })}`;
}
