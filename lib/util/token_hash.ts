/**
 * How the hub stores tokens and session ids: their hex SHA-256, the same digest as
 * lib/util/ids.ts `sha256Hex`. node:crypto's hash is synchronous and ~10× cheaper than
 * crypto.subtle.digest for a token, and every agent report and API request hashes one; it lives
 * apart from ids.ts because the agent reaches that file and must not load a `node:` module.
 */
import { createHash } from "node:crypto";

/** Hex SHA-256 of a token (a Promise, like `sha256Hex`, so callers need not care which). */
export function tokenHash(text: string): Promise<string> {
  return Promise.resolve(createHash("sha256").update(text).digest("hex"));
}
