/**
 * A release's signed manifest checked before anything is stored: it parses, and one of the trusted
 * keys signed its exact bytes. Both ways a release comes in (local files, API upload) start here.
 */
import { Invalid, Rejected } from "../errors.ts";
import { type Manifest, ManifestError, parseManifest } from "../release_format/manifest.ts";
import { keyId, verifyBytes } from "../release_format/signing.ts";

/** The parsed manifest and the id of the key that signed it; Rejected when no trusted key did. */
export async function verifyRelease(
  trustedKeys: readonly string[],
  manifestText: string,
  signature: string,
): Promise<{ manifest: Manifest; keyId: string }> {
  if (!trustedKeys.length) {
    throw new Rejected(
      "No release signing keys are configured (agent/release_keys.ts or CAPSTAN_RELEASE_PUBLIC_KEYS)",
      "no_release_keys",
    );
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(manifestText);
  } catch (err) {
    if (err instanceof ManifestError) throw new Invalid(err.message, { manifest: err.message });
    throw err;
  }
  const bytes = new TextEncoder().encode(manifestText);
  for (const k of trustedKeys) {
    if (await verifyBytes([k], bytes, signature)) return { manifest, keyId: await keyId(k) };
  }
  throw new Rejected(
    `The signature of agent release ${manifest.version} does not verify with a trusted key`,
    "bad_signature",
    { signature: "does not verify" },
  );
}
