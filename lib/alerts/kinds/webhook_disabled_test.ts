import assert from "node:assert/strict";
import { webhookDisabled } from "./webhook_disabled.ts";
import type { WebhookDisabled } from "./kind.ts";
import { assertOrgOnly, harness, lastInfo, rule, T0 } from "./testing.ts";

const MIN = 60_000;
const disabled = (since: number, bad: number, forMs = 5 * MIN): WebhookDisabled => ({
  org_id: "o1",
  app: { id: "a1", name: "shop" },
  since,
  until: since + forMs,
  bad_signatures: bad,
});

Deno.test("webhook_disabled tells each disabling of an app's webhook once: for how long, after how many bad signatures, and what to do", async () => {
  const r = rule({ name: "Webhook", kind: "event", event: "webhook_disabled" });
  const h = harness([r]);
  webhookDisabled.webhookDisabled!(h.at(T0 + 10), r, disabled(T0, 10));
  assert.deepEqual(await lastInfo(h.ops), {
    hostName: null,
    containerName: null,
    title: "Webhook of app shop disabled for 5 minutes after 10 bad signatures",
    detail:
      "10 webhook requests for shop had a signature that does not match its secret; pushes build nothing until 2026-01-01 12:05 UTC. If the secret was changed at the Git host, set the same one in the app's build settings; if not, someone else is calling the webhook.",
  });
  assert.deepEqual(h.take(), ["instant app:a1/webhook ok 10"]);

  // The same disabling heard again, while it lasts or after: not told again.
  webhookDisabled.webhookDisabled!(h.at(T0 + MIN), r, disabled(T0, 10));
  webhookDisabled.webhookDisabled!(h.at(T0 + 10 * MIN), r, disabled(T0, 10));
  assert.deepEqual(h.take(), []);

  // Disabled again once it ended: told again.
  webhookDisabled.webhookDisabled!(h.at(T0 + 6 * MIN), r, disabled(T0 + 6 * MIN, 1, 90 * MIN));
  assert.equal(
    (await lastInfo(h.ops))?.title,
    "Webhook of app shop disabled for 90 minutes after 1 bad signature",
  );
  assert.deepEqual(h.take(), ["instant app:a1/webhook ok 1"]);
  webhookDisabled.webhookDisabled!(h.at(T0 + 100 * MIN), r, disabled(T0 + 100 * MIN, 3, 30_000));
  assert.match((await lastInfo(h.ops))!.title, /disabled for 30 seconds after 3 bad signatures$/);
  // Another app is its own subject.
  webhookDisabled.webhookDisabled!(h.at(T0 + 100 * MIN), r, {
    ...disabled(T0 + 100 * MIN, 3, 3 * 3600_000),
    app: { id: "a2", name: "blog" },
  });
  assert.equal(
    (await lastInfo(h.ops))?.title,
    "Webhook of app blog disabled for 3 hours after 3 bad signatures",
  );
  assert.deepEqual(h.take(), ["instant app:a1/webhook ok 3", "instant app:a2/webhook ok 3"]);
});

Deno.test("webhook_disabled rules are organization-wide: another scope is refused naming the field", () => {
  assertOrgOnly("webhook_disabled");
});
