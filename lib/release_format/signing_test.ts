import assert from "node:assert/strict";
import { generateReleaseKeys, keyId, signBytes, verifyBytes } from "./signing.ts";
import { compareVersions } from "./semver.ts";
import { ManifestError, parseManifest } from "./manifest.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("verifyBytes() accepts the signer's key and refuses tampered data, a wrong key and junk", async () => {
  const a = await generateReleaseKeys();
  const b = await generateReleaseKeys();
  const text = '{"version":"1.2.3"}\n';
  const sig = await signBytes(a.privateKey, enc(text));
  assert.equal(await verifyBytes([a.publicKey], enc(text), sig), true);
  assert.equal(
    await verifyBytes([b.publicKey, a.publicKey], enc(text), sig),
    true,
    "any listed key",
  );
  assert.equal(await verifyBytes([a.publicKey], enc(text.replace("3", "4")), sig), false);
  assert.equal(await verifyBytes([a.publicKey], enc(text + " "), sig), false, "exact bytes");
  assert.equal(await verifyBytes([b.publicKey], enc(text), sig), false, "wrong key");
  assert.equal(await verifyBytes([], enc(text), sig), false, "no keys trust nothing");
  assert.equal(await verifyBytes(["not a key", "AAAA"], enc(text), sig), false);
  assert.equal(await verifyBytes([a.publicKey], enc(text), "!!"), false);
  assert.equal(await verifyBytes([a.publicKey], enc(text), sig.slice(4)), false);
  assert.match(await keyId(a.publicKey), /^[a-f0-9]{16}$/);
});

Deno.test("compareVersions() orders by semver precedence", () => {
  const ordered = [
    "0.1.0",
    "0.1.1",
    "0.2.0-alpha",
    "0.2.0-alpha.2",
    "0.2.0-beta",
    "0.2.0",
    "0.10.0",
    "1.0.0",
  ];
  for (let i = 0; i < ordered.length; i++) {
    for (let j = 0; j < ordered.length; j++) {
      assert.equal(
        compareVersions(ordered[i], ordered[j]),
        Math.sign(i - j),
        `${ordered[i]} vs ${ordered[j]}`,
      );
    }
  }
});

Deno.test("parseManifest() names the bad field", () => {
  const good = {
    format: 1,
    product: "capstan-agent",
    version: "1.0.0",
    created_at: "2025-01-01T00:00:00Z",
    files: [{
      name: "capstan-agent-1.0.0-x86_64-unknown-linux-gnu",
      target: "x86_64-unknown-linux-gnu",
      arch: "x86_64",
      sha256: "a".repeat(64),
      size: 10,
    }],
  };
  assert.equal(parseManifest(JSON.stringify(good)).version, "1.0.0");
  assert.throws(() => parseManifest("{"), ManifestError);
  assert.throws(
    () => parseManifest(JSON.stringify({ ...good, files: [{ ...good.files[0], name: "../x" }] })),
    /files\.0\.name/,
  );
  assert.throws(() => parseManifest(JSON.stringify({ ...good, version: "v1" })), /version/);
});
