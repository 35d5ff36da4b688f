import assert from "node:assert/strict";
import { blobKeyId, createSecretBox, decodeSecretKey, SecretDecryptError } from "./secrets.ts";
import { base64url } from "../util/ids.ts";

const key = () => base64url(crypto.getRandomValues(new Uint8Array(32)));

Deno.test("createSecretBox() round trip, fresh key and nonce per secret", async () => {
  const box = await createSecretBox(key());
  const a = await box.encrypt("https://hooks.slack.com/services/T/B/x", "channel:1");
  const b = await box.encrypt("https://hooks.slack.com/services/T/B/x", "channel:1");
  assert.notEqual(a, b);
  assert.ok(!a.includes("slack"));
  assert.equal(await box.decrypt(a, "channel:1"), "https://hooks.slack.com/services/T/B/x");
  assert.equal(await box.decrypt(await box.encrypt("", "c"), "c"), "");
  assert.equal(await box.decrypt(await box.encrypt("é ✓", "c"), "c"), "é ✓");
});

Deno.test("createSecretBox() decrypt fails closed on any tampering", async () => {
  const box = await createSecretBox(key());
  const blob = await box.encrypt("password", "channel:1");
  const parts = blob.split(".");
  const flip = (s: string, i: number) =>
    s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
  const tampered = [
    [parts[0], parts[1], flip(parts[2], 5), parts[3]].join("."),
    [parts[0], parts[1], parts[2], flip(parts[3], 5)].join("."),
    [parts[0], parts[1], parts[2], flip(parts[3], parts[3].length - 3)].join("."),
    [parts[0], parts[1], parts[2], parts[3].slice(0, -4)].join("."),
    ["v2", parts[1], parts[2], parts[3]].join("."),
    [parts[0], parts[1], parts[2]].join("."),
    "garbage",
  ];
  for (const t of tampered) {
    await assert.rejects(() => box.decrypt(t, "channel:1"), SecretDecryptError, t);
  }
  // A blob copied into another row does not open there.
  await assert.rejects(() => box.decrypt(blob, "channel:2"), SecretDecryptError);
});

Deno.test("createSecretBox() refuses a blob written under another hub key", async () => {
  const blob = await (await createSecretBox(key())).encrypt("password", "c");
  const other = await createSecretBox(key());
  await assert.rejects(() => other.decrypt(blob, "c"), /different hub secret key/);
  // Even with the key id forged to match, authentication fails.
  const [v, , w, d] = blob.split(".");
  await assert.rejects(
    () => other.decrypt([v, other.keyId, w, d].join("."), "c"),
    SecretDecryptError,
  );
});

Deno.test("decodeSecretKey() accepts base64 and base64url, refuses short keys", () => {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const std = btoa(String.fromCharCode(...bytes));
  assert.deepEqual(decodeSecretKey(std), bytes);
  assert.deepEqual(decodeSecretKey(base64url(bytes)), bytes);
  assert.throws(() => decodeSecretKey(base64url(new Uint8Array(16))), /at least 32 bytes/);
});

Deno.test("createSecretBox() keeps bytes exact (binary secrets) and refuses them as text", async () => {
  const box = await createSecretBox(key());
  const bytes = Uint8Array.from({ length: 65_536 }, (_, i) => (i * 7) & 0xff);
  const blob = await box.encryptBytes(bytes, "secret:1:v1");
  assert.deepEqual(await box.decryptBytes(blob, "secret:1:v1"), bytes);
  await assert.rejects(() => box.decrypt(blob, "secret:1:v1"), SecretDecryptError);
  await assert.rejects(() => box.decryptBytes(blob, "secret:1:v2"), SecretDecryptError);
});

Deno.test("a key ring opens blobs of a previous key, rewrap moves them to the current key without touching the ciphertext", async () => {
  const [oldKey, newKey] = [key(), key()];
  const before = await createSecretBox(oldKey);
  const blob = await before.encrypt("hunter2", "secret:a");
  const ring = await createSecretBox(newKey, [oldKey]);
  assert.deepEqual(ring.keyIds, [ring.keyId, before.keyId]);
  assert.equal(blobKeyId(blob), before.keyId);
  assert.equal(await ring.decrypt(blob, "secret:a"), "hunter2");
  const moved = await ring.rewrap(blob, "secret:a");
  assert.equal(blobKeyId(moved), ring.keyId);
  assert.equal(moved.split(".")[3], blob.split(".")[3], "the data part is unchanged");
  assert.equal(await ring.rewrap(moved, "secret:a"), moved);
  // Only the new key now: the moved blob opens, the old one does not (named by its key id).
  const after = await createSecretBox(newKey);
  assert.equal(await after.decrypt(moved, "secret:a"), "hunter2");
  await assert.rejects(() => after.decrypt(blob, "secret:a"), new RegExp(before.keyId));
  // Rewrapping under the wrong context fails closed, like decrypting.
  await assert.rejects(() => ring.rewrap(blob, "secret:b"), SecretDecryptError);
});
