import assert from "node:assert/strict";
import { deliveryMeta, detectProvider, PROVIDERS } from "./providers.ts";
import { PUSH_EVENT, signWebhook } from "../../../tests/support/webhook_signing.ts";

Deno.test("detectProvider() names the sender of each provider's real headers", async () => {
  for (const provider of PROVIDERS) {
    const headers = await signWebhook(provider, "{}", "secret");
    assert.equal(detectProvider(headers), provider);
  }
  // Gitea carries GitHub's headers too; Forgejo carries both its own and Gitea's.
  const forgejo = await signWebhook("gitea", "{}", "secret", { forgejo: true });
  for (const h of ["x-gitea-event", "x-gitea-delivery", "x-gitea-signature"]) forgejo.delete(h);
  assert.equal(detectProvider(forgejo), "gitea");
  assert.equal(detectProvider(new Headers({ "x-gitlab-token": "t" })), "gitlab");
  assert.equal(detectProvider(new Headers({ "x-event-key": "repo:push" })), "bitbucket");
  assert.equal(detectProvider(new Headers({ "content-type": "application/json" })), undefined);
  assert.equal(detectProvider(new Headers({ "x-hub-signature-256": "sha256=00" })), undefined);
});

Deno.test("deliveryMeta() reads the delivery id and event of each provider", async () => {
  for (const provider of PROVIDERS) {
    const id = crypto.randomUUID();
    const headers = await signWebhook(provider, "{}", "secret", { deliveryId: id });
    assert.deepEqual(deliveryMeta(provider, headers), {
      deliveryId: id,
      event: PUSH_EVENT[provider],
    });
  }
  const tag = await signWebhook("gitlab", "{}", "s", { event: "Tag Push Hook", deliveryId: "a-1" });
  assert.deepEqual(deliveryMeta("gitlab", tag), { deliveryId: "a-1", event: "Tag Push Hook" });
  const forgejo = new Headers({ "x-forgejo-event": "push", "x-forgejo-delivery": "f-1" });
  assert.deepEqual(deliveryMeta("gitea", forgejo), { deliveryId: "f-1", event: "push" });
  // Bitbucket's hook UUID is the same for every delivery, so it never stands in for the id.
  const hookOnly = new Headers({ "x-event-key": "repo:push", "x-hook-uuid": "{h-1}" });
  assert.deepEqual(deliveryMeta("bitbucket", hookOnly), {
    deliveryId: undefined,
    event: "repo:push",
  });
});

Deno.test("deliveryMeta() drops values that are too long or outside the charset", () => {
  const bad = ["x".repeat(129), "<script>", "a b", "id;rm", "ü"];
  for (const id of bad) {
    const h = new Headers({ "x-github-delivery": id, "x-github-event": "push" });
    assert.deepEqual(deliveryMeta("github", h), { deliveryId: undefined, event: "push" }, id);
  }
  for (const event of ["e".repeat(65), " push", "push\t", "push;", "<b>"]) {
    const h = new Headers({ "x-github-delivery": "d", "x-github-event": event });
    assert.equal(deliveryMeta("github", h).event, event.trim() === "push" ? "push" : undefined);
  }
  assert.deepEqual(deliveryMeta("github", new Headers()), {
    deliveryId: undefined,
    event: undefined,
  });
  // A malformed Gitea value is not quietly replaced by Forgejo's.
  const h = new Headers({ "x-gitea-delivery": "<x>", "x-forgejo-delivery": "ok-1" });
  assert.equal(deliveryMeta("gitea", h).deliveryId, undefined);
});
