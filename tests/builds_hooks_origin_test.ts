/**
 * Git hosts post webhooks without an Origin, Referer or Sec-Fetch-Site header and without a
 * cookie: the webhook endpoint answers them (here 404 for an unknown hook, 401 for an unsigned
 * delivery) instead of the CSRF check's 403, while every other unsafe route still refuses them.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { ORIGIN, testApp } from "./support/app.ts";

dbTest(
  "[e2e] builds: the webhook endpoint takes posts without an origin; other routes do not",
  async (h) => {
    const t = testApp(h);
    const bare = (path: string) =>
      t.app.request(`${ORIGIN}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-github-event": "push" },
        body: "{}",
      });
    const unknown = await bare("/api/v1/hooks/AAAAAAAAAAAAAAAAAAAAAAAA");
    assert.equal(unknown.status, 404, await unknown.text());
    const other = await bare("/api/v1/orgs/acme/apps");
    assert.equal(other.status, 403);
    assert.match((await other.json()).error.message, /Cross-site request refused/);
  },
);
