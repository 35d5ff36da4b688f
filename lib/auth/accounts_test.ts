import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { SYSTEM_CTX, testServices } from "../../tests/support/services.ts";
import { manualClock } from "../../tests/support/clock.ts";
import type { DomainError } from "../errors.ts";
import { statusOf } from "../../tests/support/errors.ts";
import { collectJobs } from "../module.ts";
import { MODULES } from "../../modules.ts";

const ctx = (ip = "10.0.0.1") => ({ actor: { type: "anonymous" as const }, ip });

dbTest("signIn() starts a session and audits success and failure", async (h) => {
  const s = testServices(h);
  await s.users.create({ email: "a@x.io", name: "A", password: "password-123" });
  await assert.rejects(
    s.accounts.signIn(ctx(), "a@x.io", "wrong-password"),
    (e: DomainError) => statusOf(e) === 401,
  );
  await assert.rejects(
    s.accounts.signIn(ctx(), "nobody@x.io", "wrong-password"),
    (e: DomainError) => statusOf(e) === 401,
  );
  const { sessionId } = await s.accounts.signIn(ctx(), "a@x.io", "password-123");
  assert.ok(await s.sessions.resolve(sessionId));
  const { rows } = await s.audit.list({ action: "auth.sign_in", limit: 10 });
  assert.deepEqual(rows.map((r) => r.status), ["ok", "error", "error"]);
  assert.ok(rows.every((r) => !JSON.stringify(r).includes("password-123")));
});

const is = (status: number) => (e: DomainError) => statusOf(e) === status;

dbTest(
  "signIn() refuses an (account, IP) after 5 failures; the owner still signs in elsewhere",
  async (h) => {
    const clock = manualClock();
    const s = testServices(h, clock);
    await s.users.create({ email: "a@x.io", name: "A", password: "password-123" });
    for (let i = 0; i < 5; i++) {
      await assert.rejects(s.accounts.signIn(ctx("10.6.6.6"), "a@x.io", "bad"), is(401));
    }
    // Even the right password is refused from that address for the rest of the window...
    await assert.rejects(s.accounts.signIn(ctx("10.6.6.6"), "a@x.io", "password-123"), is(429));
    // ...but the attacker cannot lock the owner out from everywhere.
    assert.ok(await s.accounts.signIn(ctx("10.9.9.9"), "a@x.io", "password-123"));
    clock.advance(16 * 60_000);
    assert.ok(await s.accounts.signIn(ctx("10.6.6.6"), "a@x.io", "password-123"));
  },
);

dbTest("signIn() limits one address guessing many accounts", async (h) => {
  const s = testServices(h, manualClock());
  await s.users.create({ email: "a@x.io", name: "A", password: "password-123" });
  for (let i = 0; i < 20; i++) {
    await assert.rejects(s.accounts.signIn(ctx("10.1.1.1"), `u${i}@x.io`, "bad"), is(401));
  }
  await assert.rejects(s.accounts.signIn(ctx("10.1.1.1"), "a@x.io", "password-123"), is(429));
  assert.ok(await s.accounts.signIn(ctx("10.1.1.2"), "a@x.io", "password-123"));
});

dbTest(
  "signIn() backs off guesses at one account from many addresses, except from where it signed in before",
  async (h) => {
    const clock = manualClock();
    const s = testServices(h, clock);
    await s.users.create({ email: "a@x.io", name: "A", password: "password-123" });
    assert.ok(await s.accounts.signIn(ctx("192.0.2.1"), "a@x.io", "password-123"), "home");
    let checked = 0, refused = 0;
    for (let i = 0; i < 60; i++) {
      await s.accounts.signIn(ctx(`10.0.${i}.1`), "a@x.io", `guess-${i}`).catch(
        (e: DomainError) => {
          if (statusOf(e) === 401) checked++;
          else if (statusOf(e) === 429) refused++;
          else throw e;
        },
      );
    }
    assert.equal(checked, 10, "a botnet gets 10 quick guesses, then one per back-off step");
    assert.equal(refused, 50);
    // The owner, from an address they signed in from before, is not slowed down.
    assert.ok(await s.accounts.signIn(ctx("192.0.2.1"), "a@x.io", "password-123"));
    // From a new address they wait one back-off step, not the whole window.
    await assert.rejects(s.accounts.signIn(ctx("198.51.100.7"), "a@x.io", "password-123"), is(429));
    clock.advance(31_000);
    assert.ok(await s.accounts.signIn(ctx("198.51.100.7"), "a@x.io", "password-123"));
  },
);

dbTest(
  "signIn() reserves each attempt before hashing: 50 parallel guesses get at most 5 checked",
  async (h) => {
    const s = testServices(h, manualClock());
    await s.users.create({ email: "a@x.io", name: "A", password: "password-123" });
    const results = await Promise.allSettled(
      Array.from(
        { length: 50 },
        (_, i) => s.accounts.signIn(ctx("10.6.6.6"), "a@x.io", `bad-${i}`),
      ),
    );
    const statuses = results.map((r) => r.status === "rejected" ? statusOf(r.reason) : 200);
    const checked = statuses.filter((x) => x === 401).length;
    assert.equal(checked, 5, `checked ${checked} of 50: ${statuses.join(",")}`);
    assert.equal(statuses.filter((x) => x === 429).length, 45);
    await assert.rejects(s.accounts.signIn(ctx("10.6.6.6"), "a@x.io", "password-123"), is(429));
    const audited = await s.audit.list({ action: "auth.sign_in", limit: 100 });
    assert.equal(audited.rows.length, 51, "refusals are audited too");
  },
);

dbTest("changePassword() ends the user's other sessions but keeps the current one", async (h) => {
  const s = testServices(h);
  const u = await s.users.create({ email: "a@x.io", name: "A", password: "password-123" });
  const one = await s.accounts.signIn(ctx(), "a@x.io", "password-123");
  const two = await s.accounts.signIn(ctx(), "a@x.io", "password-123");
  const current = (await s.sessions.resolve(one.sessionId))!;
  await assert.rejects(
    s.accounts.changePassword(SYSTEM_CTX, u.id, {
      current: "nope-nope-nope",
      next: "another-password",
    }, current.idHash),
    (e: DomainError) => statusOf(e) === 400 && e.fields?.current === "is wrong",
  );
  const r = await s.accounts.changePassword(SYSTEM_CTX, u.id, {
    current: "password-123",
    next: "another-password",
  }, current.idHash);
  assert.equal(r.endedSessions, 1);
  assert.ok(await s.sessions.resolve(one.sessionId));
  assert.equal(await s.sessions.resolve(two.sessionId), undefined);
  await assert.rejects(s.accounts.signIn(ctx(), "a@x.io", "password-123"));
  assert.ok(await s.accounts.signIn(ctx(), "a@x.io", "another-password"));
});

dbTest("setup token is single-use and stops working once a user exists", async (h) => {
  const s = testServices(h);
  const token = (await s.accounts.issueSetupToken())!;
  assert.equal(await s.accounts.setupTokenValid(token), true);
  assert.equal(await s.accounts.setupTokenValid(token + "x"), false);
  const input = {
    email: "root@x.io",
    name: "Root",
    password: "password-123",
    orgSlug: "main",
    orgName: "Main",
  };
  const user = await s.accounts.completeSetup(ctx(), token, input);
  assert.equal(user.is_admin, 1);
  assert.equal(await s.accounts.setupTokenValid(token), false);
  await assert.rejects(
    s.accounts.completeSetup(ctx(), token, { ...input, email: "two@x.io" }),
    (e: DomainError) => statusOf(e) === 404,
  );
  assert.equal(await s.accounts.issueSetupToken(), undefined);
  const org = (await s.orgs.bySlug("main"))!;
  assert.equal(await s.orgs.roleOf(org.id, user.id), "owner");
});

dbTest("tokens: stored hashed, expire, revoke, and track last use", async (h) => {
  const clock = manualClock();
  const s = testServices(h, clock);
  const u = await s.users.create({ email: "a@x.io", name: "A", password: "password-123" });
  const org = await s.orgs.create(SYSTEM_CTX, { slug: "acme", name: "Acme", ownerId: u.id });
  const { token, record } = await s.accounts.createToken(SYSTEM_CTX, {
    userId: u.id,
    orgId: org.id,
    name: "ci",
    scope: "read",
    expiresAt: clock.now() + 3600_000,
  });
  assert.match(token, /^cap_[\w-]{43}$/);
  const stored = await h.db.selectFrom("api_tokens").selectAll().executeTakeFirstOrThrow();
  assert.notEqual(stored.token_hash, token);
  assert.equal(stored.token_hash.length, 64);
  assert.ok(
    !JSON.stringify(await h.db.selectFrom("audit_log").selectAll().execute()).includes(token),
  );
  assert.equal((await s.tokens.resolve(token))!.last_used_at, clock.now());
  clock.advance(3600_001);
  assert.equal(await s.tokens.resolve(token), undefined, "expired");
  const other = await s.accounts.createToken(SYSTEM_CTX, {
    userId: u.id,
    orgId: org.id,
    name: "x",
    scope: "write",
    expiresAt: null,
  });
  await s.accounts.revokeToken(SYSTEM_CTX, u.id, other.record.id);
  assert.equal(await s.tokens.resolve(other.token), undefined, "revoked");
  assert.ok(record.id);
});

dbTest("completeSetup() removes the setup-token file: the token is spent", async (h) => {
  const dataDir = await Deno.makeTempDir({ prefix: "capstan-setup-" });
  try {
    const s = testServices(h, undefined, { CAPSTAN_DATA_DIR: dataDir });
    const token = (await s.accounts.issueSetupToken())!;
    const file = `${dataDir}/setup-token`;
    await Deno.writeTextFile(file, token + "\n");
    await s.accounts.completeSetup(ctx(), token, {
      email: "root@x.io",
      name: "Root",
      password: "password-123",
      orgSlug: "main",
      orgName: "Main",
    });
    await assert.rejects(Deno.stat(file), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

dbTest("sign_in_attempts_purge job removes ended sign-in counters", async (h) => {
  const clock = manualClock();
  const s = testServices(h, clock);
  await assert.rejects(s.accounts.signIn(ctx(), "nobody@x.io", "wrong-password"), is(401));
  const job = collectJobs(s, MODULES, s as never).find((j) => j.name === "sign_in_attempts_purge")!;
  assert.equal(await job.run(), 0);
  clock.advance(16 * 60_000);
  assert.equal(await job.run(), 3, "pair, address and account counters");
});
