import assert from "node:assert/strict";
import { generateDeployKey, hostKeyFingerprint } from "./deploy_keys.ts";
import { hostKeyFingerprintOf } from "./host_key.ts";

Deno.test("hostKeyFingerprintOf() (WebCrypto, for the agent) agrees with the hub's hostKeyFingerprint()", async () => {
  const key = await generateDeployKey("ci@example");
  for (
    const line of [
      key.publicKey,
      `github.com ${key.publicKey}`,
      `@cert-authority *.example ${key.publicKey}`,
    ]
  ) {
    assert.equal(await hostKeyFingerprintOf(line), hostKeyFingerprint(line));
    assert.equal(await hostKeyFingerprintOf(line), key.fingerprint);
  }
  await assert.rejects(
    () => hostKeyFingerprintOf("github.com ssh-ed25519 AAAA="),
    /no SSH public key/,
  );
  await assert.rejects(() => hostKeyFingerprintOf("nothing here"), /no SSH public key/);
});
