import assert from "node:assert/strict";
import {
  deliveryMeta,
  detectProvider,
  type NormalizedDelivery,
  parseDelivery,
  PROVIDERS,
  verifyDelivery,
} from "./webhooks.ts";
import { pushBody, signWebhook } from "../../tests/support/webhook_signing.ts";

const SECRET = "shared-secret-for-tests";

/** What the endpoint does with a request, in the documented order. */
async function receive(headers: Headers, body: Uint8Array, secret: string) {
  const provider = detectProvider(headers);
  if (!provider) return { refused: "unknown_provider" as const };
  const verified = await verifyDelivery(provider, headers, body, secret);
  if (!verified.ok) return { refused: verified.reason };
  const meta = deliveryMeta(provider, headers);
  const delivery: NormalizedDelivery = parseDelivery(
    provider,
    meta.event,
    JSON.parse(new TextDecoder().decode(body)),
  );
  return { provider, ...meta, delivery };
}

for (const provider of PROVIDERS) {
  Deno.test(`webhooks ${provider}: a signed push goes from raw bytes to a normalised push`, async () => {
    const body = new TextEncoder().encode(pushBody(provider));
    const headers = await signWebhook(provider, body, SECRET, { deliveryId: `${provider}-1` });
    const got = await receive(headers, body, SECRET);
    assert.ok("delivery" in got, JSON.stringify(got));
    assert.equal(got.provider, provider);
    assert.equal(got.deliveryId, `${provider}-1`);
    const d = got.delivery;
    assert.equal(d.kind, "push");
    if (d.kind !== "push") return;
    assert.ok(d.branch, "a branch");
    assert.match(d.commit, /^[0-9a-f]{40}$/);
    assert.notEqual(d.commit, "0".repeat(40));
    assert.ok(d.author && d.message, "author and message");
    assert.ok(d.repoUrls.length >= 2);
    assert.equal(d.deleted, false);

    assert.deepEqual(await receive(headers, body, ""), { refused: "disabled" });
    assert.deepEqual(await receive(headers, body, "not the secret"), { refused: "bad_signature" });
  });
}

Deno.test("webhooks: a refusal says nothing of the secret", async () => {
  const body = new TextEncoder().encode(pushBody("gitlab"));
  const headers = await signWebhook("gitlab", body, "the-real-secret");
  const got = await receive(headers, body, "the-real-secret-2");
  assert.doesNotMatch(JSON.stringify(got), /real-secret/);
});
