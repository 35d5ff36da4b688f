/**
 * The hub's key ring: the key that encrypts at rest (lib/crypto/secrets.ts) and, during a key
 * rotation, the keys it replaces, which still decrypt. From the environment (CAPSTAN_SECRET_KEY and
 * CAPSTAN_SECRET_KEY_PREVIOUS) when set, otherwise from `<dataDir>/secret-key`: its first line is
 * the current key, further lines previous keys. The file is generated (mode 0600) on first start.
 *
 * A file-based ring is followed while the hub runs: `deno task admin rotate-secret-key --generate`
 * replaces the file, and every hub on the data dir takes the new ring within KEY_FILE_RECHECK_MS
 * (or at once, on meeting a blob under a key it does not know) — a rotation without a restart.
 */
import { join } from "node:path";
import { base64url } from "./util/ids.ts";
import { blobKeyId, createSecretBox, decodeSecretKey, type SecretBox } from "./crypto/secrets.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";

/** The key file's name in the data dir. */
export const SECRET_KEY_FILE = "secret-key";

/** How often a hub looks whether its key file changed (a stat), at most. */
export const KEY_FILE_RECHECK_MS = 2000;

/** Where a ring's keys come from. */
export type KeySource =
  | { kind: "env" }
  | {
    kind: "file";
    path: string;
    /** The file was created by this process just now (a data dir without its key). */
    generated: boolean;
  };

/** The hub's key ring as one box: encrypts under the current key, opens under any key of the ring. */
export interface HubKeyRing extends SecretBox {
  readonly source: KeySource;
  /** Reads the key file again if it changed (no-op for keys from the environment). */
  refresh(): Promise<void>;
}

/** A fresh random key (32 bytes, base64url), as the hub generates on first start. */
export function generateSecretKey(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The keys of a key file, current first; a line that is not a key fails naming its line number. */
export function parseKeyFile(text: string, path: string): string[] {
  const keys: string[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (!line) continue;
    try {
      decodeSecretKey(line);
    } catch {
      // Never the line itself: it may be a key with a typo.
      throw new Error(`${path} line ${i + 1} is not a key: must be at least 32 bytes, base64`);
    }
    keys.push(line);
  }
  if (!keys.length) throw new Error(`${path} holds no key`);
  return keys;
}

/**
 * Replaces a key file atomically (a temporary file renamed over it, mode 0600): a hub reading it
 * at the same moment sees the old ring or the new one, never half a file.
 */
export async function writeKeyFile(path: string, keys: readonly string[]): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    await Deno.writeTextFile(tmp, keys.join("\n") + "\n", { mode: 0o600, createNew: true });
    await Deno.chmod(tmp, 0o600);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/** What tells one version of the key file from the next (a rename makes a new inode). */
const stampOf = (st: Deno.FileInfo) => `${st.ino}:${st.mtime?.getTime()}:${st.size}`;

/** Reads the key file, or creates it with a fresh key (unless `create` is false). */
async function readOrCreate(
  path: string,
  dataDir: string,
  create: boolean,
): Promise<{ keys: string[]; generated: boolean }> {
  try {
    return { keys: parseKeyFile(await Deno.readTextFile(path), path), generated: false };
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound) || !create) throw err;
  }
  const key = generateSecretKey();
  await Deno.mkdir(dataDir, { recursive: true });
  // createNew: two processes starting at once must not overwrite each other's key.
  try {
    await Deno.writeTextFile(path, key + "\n", { mode: 0o600, createNew: true });
    return { keys: [key], generated: true };
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    return { keys: parseKeyFile(await Deno.readTextFile(path), path), generated: false };
  }
}

/**
 * Opens the hub's key ring: `secretKey` and `previousKeys` from the environment, or the data dir's
 * key file (created on first start unless `create` is false; CAPSTAN_SECRET_KEY_PREVIOUS still
 * adds to it). Fails with a message that names the file or variable, never a key.
 */
export async function openHubKeyRing(opts: {
  dataDir: string;
  secretKey?: string;
  previousKeys?: readonly string[];
  create?: boolean;
  /** A changed key file that cannot be read: the hub keeps its ring and says why. */
  onReloadError?: (err: Error) => void;
  recheckMs?: number;
  now?: () => number;
}): Promise<HubKeyRing> {
  const previous = opts.previousKeys ?? [];
  const now = opts.now ?? Date.now;
  const recheckMs = opts.recheckMs ?? KEY_FILE_RECHECK_MS;
  if (opts.secretKey) {
    const box = await createSecretBox(opts.secretKey, previous);
    return { ...box, source: { kind: "env" }, refresh: () => Promise.resolve() };
  }

  const path = join(opts.dataDir, SECRET_KEY_FILE);
  const first = await readOrCreate(path, opts.dataDir, opts.create ?? true);
  const source: KeySource = { kind: "file", path, generated: first.generated };
  let box = await createSecretBox(first.keys[0], [...first.keys.slice(1), ...previous]);
  let stamp = stampOf(await Deno.stat(path));
  let checkedAt = now();
  let reloading: Promise<void> | undefined;

  /** Re-reads the file when its stamp changed; a broken or missing file keeps the ring we have. */
  function reload(): Promise<void> {
    reloading ??= (async () => {
      try {
        const st = await Deno.stat(path);
        if (stampOf(st) === stamp) return;
        const keys = parseKeyFile(await Deno.readTextFile(path), path);
        box = await createSecretBox(keys[0], [...keys.slice(1), ...previous]);
        stamp = stampOf(st);
      } catch (err) {
        opts.onReloadError?.(err as Error);
      } finally {
        reloading = undefined;
      }
    })();
    return reloading;
  }

  /** The ring to encrypt with: looked at again once KEY_FILE_RECHECK_MS has passed. */
  async function current(): Promise<SecretBox> {
    if (now() - checkedAt >= recheckMs) {
      checkedAt = now();
      await reload();
    }
    return box;
  }

  /** The ring to open `blob` with: read again at once when the blob's key is not in it. */
  async function opening(blob: string): Promise<SecretBox> {
    const b = await current();
    const id = blobKeyId(blob);
    if (id === undefined || b.keyIds.includes(id)) return b;
    await reload();
    return box;
  }

  return {
    source,
    get keyId() {
      return box.keyId;
    },
    get keyIds() {
      return box.keyIds;
    },
    refresh: reload,
    encrypt: async (plaintext, context) => (await current()).encrypt(plaintext, context),
    encryptBytes: async (plaintext, context) => (await current()).encryptBytes(plaintext, context),
    decrypt: async (blob, context) => (await opening(blob)).decrypt(blob, context),
    decryptBytes: async (blob, context) => (await opening(blob)).decryptBytes(blob, context),
    rewrap: async (blob, context) => (await opening(blob)).rewrap(blob, context),
  };
}

/**
 * The hub's ring as configured: CAPSTAN_SECRET_KEY (+ _PREVIOUS), or the data dir's key file
 * (created unless `create` is false); a changed key file that cannot be read is logged.
 */
export function configuredKeyRing(
  config: Pick<Config, "dataDir" | "secretKey" | "secretKeyPrevious">,
  opts: { log?: Logger; create?: boolean } = {},
): Promise<HubKeyRing> {
  return openHubKeyRing({
    dataDir: config.dataDir,
    secretKey: config.secretKey,
    previousKeys: config.secretKeyPrevious,
    create: opts.create,
    onReloadError: (err) =>
      opts.log?.warn(
        "secret key: the key file changed but cannot be read; keeping the keys in use",
        {
          error: err.message,
        },
      ),
  });
}
