/**
 * The app's webhook through the hub, on both dialects, for each Git host (GitHub, GitLab,
 * Bitbucket, Gitea): a signed push of a real commit on the loopback Git server answers 202 at
 * once and queues a build of exactly that commit, which succeeds (and, for GitHub, deploys).
 * Every refusal answers its status and queues no build: a wrong secret, a missing signature, a
 * tampered body, a replayed delivery, another branch, a tag (unless tags build), a deleted
 * branch, a body over 1 MB, an unknown hook, no provider headers. Bad signatures are audited
 * without the body; 30 in a minute disable the hook (429 even for a good signature) and tell the
 * org; deliveries list each outcome; a stored push is delivered again; a rotated secret replaces
 * the old one at once.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { dockerTestsIgnored } from "../lib/docker/testing.ts";
import { createRepo } from "./support/git_repos.ts";
import { pushBody, signWebhook } from "./support/webhook_signing.ts";
import { buildsFixture, siteFiles, WEB_SERVICE } from "./support/builds.ts";
import type { Provider } from "../lib/builds/webhooks.ts";
import { BAD_SIGNATURE_LIMIT, DISABLE_MS } from "../lib/builds/service.ts";
import { manualClock } from "./support/clock.ts";
import { testApp } from "./support/app.ts";

const SUITE = "builds-webhooks";
const ignored = dockerTestsIgnored(SUITE);
const ZERO = "0".repeat(40);
/** Appears in every refused body, to prove the audit never keeps a body. */
const MARKER = `body-marker-${crypto.randomUUID()}`;

/** A provider's push of `ref` to `sha` (or its deletion), built on the provider's own example. */
export function providerPush(
  provider: Provider,
  ref: string,
  sha: string,
  message = "a commit",
): string {
  // deno-lint-ignore no-explicit-any
  const p: any = JSON.parse(pushBody(provider));
  const deleted = sha === ZERO;
  p.marker = MARKER;
  if (provider === "github" || provider === "gitea") {
    Object.assign(p, { ref, after: sha, deleted, created: false });
    p.head_commit = deleted ? null : { ...(p.head_commit ?? {}), id: sha, message };
    p.commits = deleted ? [] : [{ ...(p.head_commit ?? {}), id: sha, message }];
  } else if (provider === "gitlab") {
    Object.assign(p, { ref, after: sha, checkout_sha: deleted ? null : sha });
    p.commits = deleted ? [] : [{ id: sha, message, author: { name: "Test Author" } }];
  } else {
    const [type, name] = ref.startsWith("refs/tags/")
      ? ["tag", ref.slice(10)]
      : ["branch", ref.slice(11)];
    const change = {
      type,
      name,
      target: { hash: sha, message, author: { raw: "Test Author <a@example.test>" } },
    };
    p.push = {
      changes: [
        deleted
          ? { new: null, old: { ...change, target: { ...change.target, hash: "f".repeat(40) } } }
          : { new: change, old: null },
      ],
    };
  }
  return JSON.stringify(p);
}

dbTest(
  "[docker] builds webhooks: each provider's signed push builds its commit; every refusal queues nothing; bad signatures are audited and disable the hook; redeliver and rotate",
  async (h) => {
    if (ignored) return;
    const x = await buildsFixture(h, SUITE);
    const { f, s, member } = x;
    const events: unknown[] = [];
    const off = s.events.on("builds.webhook_disabled", (e) => void events.push(e));
    try {
      const api = await x.createApp("hookshop");
      const repo = await createRepo(x.gitRoot, "hookshop", siteFiles("v0"));
      let r = await member("PUT", `${api}/services/web/source`, {
        repo_url: x.git.url("hookshop.git"),
        branch: "main",
        auth: "token",
        token: x.token,
        auto_deploy: true,
      });
      assert.equal(r.status, 200, r.text);
      let secret: string = r.body.webhook_secret;
      const hookPath = new URL(r.body.webhook.url).pathname;

      const send = async (
        provider: Provider,
        body: string,
        opts: {
          secret?: string;
          event?: string;
          delivery?: string;
          edit?: (h: Headers) => void;
          path?: string;
        } = {},
      ) => {
        const headers = await signWebhook(provider, body, opts.secret ?? secret, {
          ...(opts.event ? { event: opts.event } : {}),
          ...(opts.delivery ? { deliveryId: opts.delivery } : {}),
        });
        opts.edit?.(headers);
        const started = performance.now();
        const res = await f.t.request(opts.path ?? hookPath, { method: "POST", headers, body });
        const ms = performance.now() - started;
        const text = await res.text();
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text);
        } catch {
          // a 413 may answer text
        }
        return { status: res.status, body: json, ms };
      };

      // 1. A signed push of each provider builds the pushed commit; GitHub's deploys.
      for (const provider of ["github", "gitlab", "bitbucket", "gitea"] as const) {
        const sha = await repo.commit(siteFiles(provider), `${provider}: a new page`);
        const hook = await send(provider, providerPush(provider, "refs/heads/main", sha));
        assert.equal(hook.status, 202, `${provider}: ${JSON.stringify(hook.body)}`);
        assert.equal(hook.body.outcome, "queued");
        // The answer does not wait for the build: a Git host gives up after ~10 s.
        assert.ok(hook.ms < 5_000, `${provider} answered in ${hook.ms} ms`);
        const n = (hook.body.builds as { number: number }[])[0].number;
        const b = await x.ended(api, n);
        assert.equal(b.state, "succeeded", `${provider}: ${JSON.stringify(b)}`);
        assert.equal(b.trigger, "webhook");
        assert.equal(b.commit_sha, sha, provider);
        assert.equal(b.commit_message.trim(), `${provider}: a new page`);
        if (provider === "github") {
          const d = await x.deployed(api, n);
          assert.equal(d.status, "running", d.reason);
          assert.equal(d.trigger.build.commit, sha);
          // The others only build (no deployment to wait for); the token is kept.
          r = await member("PUT", `${api}/services/web/source`, {
            repo_url: x.git.url("hookshop.git"),
            branch: "main",
            auth: "token",
            auto_deploy: false,
          });
          assert.equal(r.status, 200, r.text);
          assert.equal(r.body.source.token_set, true);
          assert.equal(r.body.webhook_secret, undefined, "the secret is shown once");
        }
      }
      const head = await repo.commit({ "site/extra.html": "x\n" }, "head");

      // 2. Refusals: each answers its status and queues no build.
      const before = await x.buildNumbers(api);
      const good = (p: Provider) => providerPush(p, "refs/heads/main", head);
      let bad = 0;
      for (const provider of ["github", "gitlab", "bitbucket", "gitea"] as const) {
        let a = await send(provider, good(provider), { secret: "not-the-secret" });
        assert.deepEqual([a.status, a.body.error], [401, "bad_signature"], provider);
        a = await send(provider, good(provider), {
          edit: (h) => {
            for (
              const name of [
                "x-hub-signature-256",
                "x-hub-signature",
                "x-gitlab-token",
                "x-gitea-signature",
              ]
            ) h.delete(name);
          },
        });
        assert.deepEqual([a.status, a.body.error], [401, "missing_signature"], provider);
        bad += 2;
        if (provider !== "gitlab") {
          // Signed, then changed on the way: the signature covers the raw bytes.
          const body = good(provider);
          const headers = await signWebhook(provider, body, secret);
          const res = await f.t.request(hookPath, {
            method: "POST",
            headers,
            body: body.replace(head, "f".repeat(40)),
          });
          assert.equal(res.status, 401, `${provider}: a tampered body`);
          await res.body?.cancel();
          bad++;
        }
      }
      // A replayed delivery id: the first is taken (skipped: another branch), the second is not.
      const delivery = crypto.randomUUID();
      const other = providerPush("github", "refs/heads/feature/x", head);
      let a = await send("github", other, { delivery });
      assert.equal(a.status, 202);
      assert.equal(a.body.outcome, "skipped");
      assert.match(String(a.body.reason), /feature\/x/);
      assert.match(String(a.body.reason), /\bmain\b/);
      a = await send("github", other, { delivery });
      assert.deepEqual([a.status, a.body.outcome], [200, "duplicate"]);
      // A tag push does not build unless the source builds tags.
      const tag = providerPush("github", "refs/tags/v1.0.0", head);
      a = await send("github", tag);
      assert.deepEqual([a.status, a.body.outcome], [202, "skipped"]);
      assert.match(String(a.body.reason), /tag v1\.0\.0/);
      // A deleted branch does not build (each provider says so its own way).
      for (const provider of ["github", "gitlab", "bitbucket", "gitea"] as const) {
        a = await send(provider, providerPush(provider, "refs/heads/main", ZERO));
        assert.deepEqual([a.status, a.body.outcome], [202, "skipped"], provider);
        assert.match(String(a.body.reason), /deleted/);
      }
      // Over 1 MB: refused before the signature is even looked at.
      const huge = JSON.stringify({ ref: "refs/heads/main", pad: "x".repeat(1024 * 1024 + 10) });
      a = await send("github", huge);
      assert.equal(a.status, 413);
      // An unknown hook and a request naming no provider.
      a = await send("github", good("github"), { path: "/api/v1/hooks/AAAAAAAAAAAAAAAAAAAAAAAA" });
      assert.equal(a.status, 404);
      a = await send("github", good("github"), {
        edit: (h) => {
          for (const name of [...h.keys()]) if (name !== "content-type") h.delete(name);
        },
      });
      assert.deepEqual([a.status, a.body.error], [400, "unknown_provider"]);
      assert.deepEqual(await x.buildNumbers(api), before, "a refused delivery queued a build");

      // Bad signatures are audited, each without the body.
      const rejected = await f.auditRows("build_webhook.rejected");
      assert.equal(rejected.length, bad);
      assert.ok(rejected.every((row) => row.status === "error"));
      assert.ok(!JSON.stringify(rejected).includes(MARKER), "an audit row kept the body");
      assert.ok(!JSON.stringify(rejected).includes(secret));

      // 3. The deliveries list each outcome; a stored push is delivered again as a new build.
      const deliveries = (await member("GET", `${api}/webhook/deliveries?limit=200`)).body.items;
      const outcomes = new Set(deliveries.map((d: { outcome: string }) => d.outcome));
      for (const o of ["queued", "skipped", "duplicate", "bad_signature"]) {
        assert.ok(outcomes.has(o), `no ${o} delivery in ${[...outcomes]}`);
      }
      assert.equal(
        deliveries.filter((d: { outcome: string }) => d.outcome === "bad_signature").length,
        bad,
      );
      assert.ok(!JSON.stringify(deliveries).includes(MARKER), "a delivery answered its body");
      const queued = deliveries.find((d: { outcome: string; provider: string }) =>
        d.outcome === "queued" && d.provider === "gitlab"
      );
      assert.ok(queued.redeliverable);
      r = await member("POST", `${api}/webhook/deliveries/${queued.id}/redeliver`);
      assert.equal(r.status, 202, r.text);
      assert.equal(r.body.commit_sha, queued.commit_sha);
      assert.ok(!before.includes(r.body.number));
      let b = await x.ended(api, r.body.number);
      assert.equal(b.state, "succeeded", JSON.stringify(b));
      assert.equal(b.commit_sha, queued.commit_sha);
      const badOne = deliveries.find((d: { outcome: string }) => d.outcome === "bad_signature");
      assert.equal(badOne.redeliverable, false);
      r = await member("POST", `${api}/webhook/deliveries/${badOne.id}/redeliver`);
      assert.equal(r.status, 409);

      // With build_tags, a tag push builds the tagged commit.
      r = await member("PUT", `${api}/services/web/source`, {
        repo_url: x.git.url("hookshop.git"),
        branch: "main",
        auth: "token",
        auto_deploy: false,
        build_tags: true,
      });
      assert.equal(r.status, 200, r.text);
      a = await send("github", tag);
      assert.deepEqual([a.status, a.body.outcome], [202, "queued"], JSON.stringify(a.body));
      b = await x.ended(api, (a.body.builds as { number: number }[])[0].number);
      assert.equal(b.state, "succeeded", JSON.stringify(b));
      assert.equal(b.commit_sha, head);

      // 4. A rotated secret: the old one fails at once, the new one works; only admins rotate.
      assert.equal((await member("POST", `${api}/webhook/rotate`)).status, 403);
      r = await x.as(f.users.admin.cookie)("POST", `${api}/webhook/rotate`);
      assert.equal(r.status, 200, r.text);
      const old = secret;
      secret = r.body.secret;
      assert.ok(secret && secret !== old);
      assert.ok(!JSON.stringify((await member("GET", `${api}/webhook`)).body).includes(secret));
      a = await send("github", other, { secret: old });
      assert.equal(a.status, 401);
      a = await send("gitlab", providerPush("gitlab", "refs/heads/feature/x", head), {
        secret: old,
      });
      assert.equal(a.status, 401);
      a = await send("github", other);
      assert.deepEqual([a.status, a.body.outcome], [202, "skipped"]);

      // 5. 30 bad signatures in a minute disable the hook, even for a good signature.
      r = await x.as(f.users.admin.cookie)("POST", `${api}/webhook/rotate`);
      secret = r.body.secret;
      for (let i = 1; i <= BAD_SIGNATURE_LIMIT; i++) {
        a = await send("github", other, { secret: `wrong-${i}` });
        assert.equal(a.status, 401, `bad signature #${i}`);
        assert.equal(events.length, i === BAD_SIGNATURE_LIMIT ? 1 : 0, `after #${i}`);
      }
      const counted = (await x.buildNumbers(api)).length;
      a = await send("github", good("github"));
      assert.equal(a.status, 429, JSON.stringify(a.body));
      assert.equal(a.body.error, "webhook_disabled");
      const retry = a.body.retry_after_s as number;
      assert.ok(retry > 240 && retry <= 300, `retry_after_s ${retry}`);
      assert.equal((await x.buildNumbers(api)).length, counted, "a disabled hook queued a build");
      // deno-lint-ignore no-explicit-any
      const e = events[0] as any;
      assert.equal(e.org_id, f.org.id);
      assert.equal(e.app.name, "hookshop");
      assert.equal(e.bad_signatures, BAD_SIGNATURE_LIMIT);
      const view = (await member("GET", `${api}/webhook`)).body;
      assert.ok(view.disabled_until > Date.now(), JSON.stringify(view));
    } finally {
      off();
      await x.close();
    }
  },
);

dbTest(
  "builds webhooks: a hook disabled by 30 bad signatures answers 429 until its 5 minutes pass on the hub's clock, then takes a good push again",
  async (h) => {
    const clock = manualClock(Date.now());
    const t = testApp(h, clock);
    const member = await t.user("member@acme.io", { org: "acme", role: "member" });
    let r = await t.request("/api/v1/orgs/acme/apps", {
      method: "POST",
      cookie: member.cookie,
      json: { name: "hookclock", deploy: false, spec: { services: [WEB_SERVICE] } },
    });
    assert.equal(r.status, 201, await r.text());
    r = await t.request("/api/v1/orgs/acme/apps/hookclock/services/web/source", {
      method: "PUT",
      cookie: member.cookie,
      json: { repo_url: "https://git.example/team/hookclock.git", branch: "main" },
    });
    const connected = await r.json();
    assert.equal(r.status, 200, JSON.stringify(connected));
    const hookPath = new URL(connected.webhook.url).pathname;
    const body = providerPush("github", "refs/heads/elsewhere", "a".repeat(40));
    const send = async (secret: string) => {
      const headers = await signWebhook("github", body, secret);
      const res = await t.request(hookPath, { method: "POST", headers, body });
      return { status: res.status, body: await res.json() };
    };
    // Bad signatures a minute apart never add up to the limit.
    for (let i = 0; i < BAD_SIGNATURE_LIMIT; i++) {
      assert.equal((await send("wrong")).status, 401);
      clock.advance(i === BAD_SIGNATURE_LIMIT - 2 ? 61_000 : 100);
    }
    assert.equal((await send(connected.webhook_secret)).status, 202, "disabled too early");
    // 30 within one minute do.
    clock.advance(61_000);
    for (let i = 0; i < BAD_SIGNATURE_LIMIT; i++) {
      assert.equal((await send("wrong")).status, 401);
      clock.advance(100);
    }
    let a = await send(connected.webhook_secret);
    assert.equal(a.status, 429);
    clock.advance(DISABLE_MS - 60_000);
    a = await send(connected.webhook_secret);
    assert.equal(a.status, 429);
    assert.ok(a.body.retry_after_s <= 60, JSON.stringify(a.body));
    clock.advance(60_000);
    a = await send(connected.webhook_secret);
    assert.deepEqual([a.status, a.body.outcome], [202, "skipped"]);
  },
);
