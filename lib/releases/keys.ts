import { join } from "node:path";
import { TRUSTED_RELEASE_KEYS } from "../../agent/release_keys.ts";
import { parseKeyList } from "../release_format/signing.ts";

/** File in the data dir with more trusted public keys, one per line (for a hub's own key). */
export const RELEASE_KEYS_FILE = "release-keys.pub";

/**
 * Keys the hub accepts a release's signature from: CAPSTAN_RELEASE_PUBLIC_KEYS when set (the same
 * variable the agent honours), otherwise the list the agent is built with, plus the keys in
 * `<dataDir>/release-keys.pub`. The hub refuses to store a release none of them signed.
 */
export function hubReleaseKeys(dataDir: string): readonly string[] {
  const name = "CAPSTAN_RELEASE_PUBLIC_KEYS";
  const granted = Deno.permissions.querySync({ name: "env", variable: name }).state === "granted";
  const v = granted ? Deno.env.get(name) : undefined;
  const base = v !== undefined ? parseKeyList(v) : TRUSTED_RELEASE_KEYS;
  let extra: string[] = [];
  try {
    extra = parseKeyList(Deno.readTextFileSync(join(dataDir, RELEASE_KEYS_FILE)));
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return [...new Set([...base, ...extra])];
}
