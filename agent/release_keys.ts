/**
 * Public Ed25519 keys (raw 32 bytes, base64) whose signatures this agent accepts on a release
 * manifest. Add the key printed by `deno task admin release-keygen` here before building a
 * release; keep more than one while rotating. CAPSTAN_RELEASE_PUBLIC_KEYS (comma separated)
 * replaces this list, e.g. for tests or a private fork's own key. An empty list trusts nothing:
 * such an agent refuses every update.
 */
export const TRUSTED_RELEASE_KEYS: readonly string[] = [];
