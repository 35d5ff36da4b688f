import { TRUSTED_RELEASE_KEYS } from "../../agent/release_keys.ts";
import { parseKeyList } from "./signing.ts";

/**
 * Keys the hub accepts a release's signature from: CAPSTAN_RELEASE_PUBLIC_KEYS when set (the same
 * variable the agent honours), otherwise the list the agent is built with, so the hub never stores
 * a release its agents would refuse.
 */
export function hubReleaseKeys(): readonly string[] {
  const name = "CAPSTAN_RELEASE_PUBLIC_KEYS";
  const granted = Deno.permissions.querySync({ name: "env", variable: name }).state === "granted";
  const v = granted ? Deno.env.get(name) : undefined;
  return v !== undefined ? parseKeyList(v) : TRUSTED_RELEASE_KEYS;
}
