/**
 * /healthz under faults, injected here: PostgreSQL stopped and PostgreSQL hung (SIGSTOP) under a
 * running hub (a private server, tests/support/private_pg.ts), and a full disk under a SQLite hub
 * (a small tmpfs). It answers within a second, always JSON (its 503 too), and a storage failure of
 * the last minute is reported as degraded.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { RunningHub } from "../hub.ts";
import { startTestHub } from "./support/hub.ts";
import { SESSION_COOKIE } from "../lib/auth/sessions.ts";
import { privatePgMissing, startPrivatePg } from "./support/private_pg.ts";
import { SYSTEM_CTX } from "./support/services.ts";

const IN_CI = Deno.env.get("CI") === "true";

const hubOn = (dataDir: string, env: Record<string, string> = {}) => startTestHub(dataDir, env);

/** GET /healthz (optionally with a session cookie): status, parsed body, and how long it took. */
async function healthz(hub: RunningHub, cookie?: string) {
  const started = performance.now();
  const res = await fetch(`${hub.url}/healthz`, {
    headers: cookie ? { cookie: `${SESSION_COOKIE}=${cookie}` } : {},
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/, text.slice(0, 200));
  return { status: res.status, body: JSON.parse(text), ms };
}

/** Polls until `fn` is true (at most `ms`). */
async function until(what: string, ms: number, fn: () => Promise<boolean>) {
  const end = Date.now() + ms;
  while (!await fn()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const pgMissing = privatePgMissing();

Deno.test({
  name:
    "[e2e] [postgres] /healthz answers JSON within 1 s while PostgreSQL is stopped or hung, and degraded after it returns",
  ignore: Boolean(pgMissing) && !IN_CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const pg = await startPrivatePg();
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-healthz-" });
    let hub: RunningHub | undefined;
    try {
      hub = await hubOn(dataDir, { DATABASE_URL: pg.url });
      const user = await hub.services.accounts.createUser(SYSTEM_CTX, {
        email: "ops@acme.io",
        name: "ops",
        password: "password-ops-1234",
      });
      const cookie = await hub.services.sessions.create(user.id, {});
      assert.deepEqual((await healthz(hub)).body, { status: "ok", database: "postgres" });

      await pg.stop();
      for (const c of [undefined, cookie, undefined]) {
        const r = await healthz(hub, c);
        assert.equal(r.status, 503);
        assert.equal(r.body.status, "unavailable");
        assert.equal(r.body.error.code, "not_ready");
        assert.ok(r.ms < 1000, `answered in ${r.ms.toFixed(0)} ms while stopped`);
      }

      await pg.start();
      await until("healthy again", 15_000, async () => (await healthz(hub!)).status === 200);
      const back = await healthz(hub);
      assert.equal(back.body.status, "degraded", "failures of the last minute are reported");
      assert.ok(back.body.failures.count_last_minute >= 1);

      // Hung: connections stay open, nothing answers.
      await pg.freeze();
      try {
        for (const c of [undefined, cookie]) {
          const r = await healthz(hub, c);
          assert.equal(r.status, 503);
          assert.match(r.body.error.message, /did not answer within 0\.8 s/);
          assert.ok(r.ms < 1000, `answered in ${r.ms.toFixed(0)} ms while hung`);
        }
      } finally {
        await pg.thaw();
      }
      await until(
        "healthy after the thaw",
        15_000,
        async () => (await healthz(hub!)).status === 200,
      );
    } finally {
      await pg.thaw().catch(() => {});
      await hub?.stop();
      await pg.remove();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

/** Mounts a tmpfs of `size` at `dir`; false where this process may not mount. */
async function mountTmpfs(dir: string, size: string): Promise<boolean> {
  const r = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "capstan-test", dir],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => ({ success: false }));
  return r.success;
}

const probeDir = await Deno.makeTempDir({ prefix: "capstan-mount-probe-" });
const mountable = await mountTmpfs(probeDir, "1m");
if (mountable) await new Deno.Command("umount", { args: [probeDir] }).output();
await Deno.remove(probeDir);
if (!mountable) console.log("note: full-disk /healthz test ignored: cannot mount a tmpfs here");

Deno.test({
  name: "[e2e] [sqlite] /healthz reports degraded after writes failed on a full disk",
  ignore: !mountable,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-healthz-full-" });
    assert.ok(await mountTmpfs(dataDir, "16m"));
    let hub: RunningHub | undefined;
    try {
      hub = await hubOn(dataDir);
      assert.deepEqual((await healthz(hub)).body, { status: "ok", database: "sqlite" });
      // Fill the disk, then write until the database says so.
      const filler = await Deno.open(join(dataDir, "filler"), { write: true, create: true });
      try {
        const block = new Uint8Array(256 * 1024);
        for (;;) await filler.write(block);
      } catch (err) {
        assert.match(String(err), /No space left on device/);
      } finally {
        filler.close();
      }
      let failed: unknown;
      for (let i = 0; i < 2000 && !failed; i++) {
        await hub.services.audit.record({
          ctx: SYSTEM_CTX,
          action: "test.filler",
          status: "ok",
          durationMs: 0,
          metadata: { pad: "x".repeat(4000), i },
        }).catch((err) => (failed = err));
      }
      assert.match(String(failed), /database or disk is full/, "the write failed");
      const r = await healthz(hub);
      assert.equal(r.status, 200, "reads still work: degraded, not down");
      assert.equal(r.body.status, "degraded");
      assert.match(r.body.failures.last_error, /database or disk is full/);
      assert.ok(r.ms < 1000);
    } finally {
      await Deno.remove(join(dataDir, "filler")).catch(() => {});
      await hub?.stop();
      await new Deno.Command("umount", { args: [dataDir] }).output();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});
