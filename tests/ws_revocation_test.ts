/**
 * A WebSocket does not outlive its credential: after logout, a password change, token revocation,
 * membership removal or a lower role, the hub closes the socket (4401 credential gone, 4403 access
 * to a subscribed topic gone) within a second, on every replica (the bus carries the news; on
 * PostgreSQL that is LISTEN/NOTIFY). Real sockets on loopback, both dialects.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { loadConfig } from "../lib/config.ts";
import { createServices } from "../services.ts";
import { createHubApp as createApp } from "../app.ts";
import { createMemoryBus } from "../lib/realtime/bus.ts";
import { createPgBus } from "../lib/realtime/pg_bus.ts";
import { realtimeHubFor } from "../lib/realtime/access.ts";
import type { DbHandle } from "../lib/db/mod.ts";
import type { Hono } from "hono";
import type { AppEnv } from "../lib/http/context.ts";

const ORIGIN = "http://hub.test";

/** Serves `app` on a loopback port until `fn` is done. */
async function serving(app: Hono<AppEnv>, fn: (url: string) => Promise<void>) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

/** A socket as a script or page would open it, with the frames and the close it got. */
async function openSocket(url: string, auth: { cookie?: string; token?: string }) {
  const headers: Record<string, string> = { origin: ORIGIN };
  if (auth.cookie) headers.cookie = auth.cookie;
  if (auth.token) headers.authorization = `Bearer ${auth.token}`;
  const ws = new WebSocket(url.replace(/^http/, "ws") + "/api/v1/ws", {
    headers,
  } as unknown as string[]);
  const frames: Record<string, unknown>[] = [];
  const closed = Promise.withResolvers<{ code: number; reason: string; at: number }>();
  ws.onmessage = (e) => frames.push(JSON.parse(e.data));
  ws.onclose = (e) => closed.resolve({ code: e.code, reason: e.reason, at: performance.now() });
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("socket refused"));
  });
  const waitFrame = async (pred: (f: Record<string, unknown>) => boolean, what: string) => {
    const deadline = Date.now() + 5000;
    while (!frames.some(pred)) {
      if (Date.now() > deadline) {
        throw new Error(`no ${what} within 5 s: ${JSON.stringify(frames)}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return {
    ws,
    /** Subscribes and returns the answer's type ("subscribed" or "error"). */
    async trySubscribe(topic: string): Promise<unknown> {
      ws.send(JSON.stringify({ type: "subscribe", topic }));
      await waitFrame((f) => f.topic === topic, `answer for ${topic}`);
      return frames.find((f) => f.topic === topic)!.type;
    },
    async subscribe(topic: string) {
      assert.equal(await this.trySubscribe(topic), "subscribed", topic);
    },
    /** The close code, if the socket closes within `ms` from `since`; throws otherwise. */
    async closedWithin(ms: number, since: number): Promise<number> {
      const timer = Promise.withResolvers<never>();
      const id = setTimeout(
        () => timer.reject(new Error(`still open ${ms} ms after the change`)),
        ms,
      );
      try {
        const c = await Promise.race([closed.promise, timer.promise]);
        assert.ok(c.at - since <= ms, `closed after ${Math.round(c.at - since)} ms`);
        return c.code;
      } finally {
        clearTimeout(id);
      }
    },
    async close() {
      if (ws.readyState === WebSocket.OPEN) ws.close();
      await closed.promise;
    },
    isOpen: () => ws.readyState === WebSocket.OPEN,
  };
}

dbTest(
  "[e2e] sockets close within a second after logout, password change, token revocation, removal and a lower role",
  async (h) => {
    const t = testApp(h);
    const owner = await t.user("owner@x.io", { org: "acme", role: "owner" });
    const ann = await t.user("ann@x.io", { org: "acme", role: "admin" });
    const org = (await t.services.orgs.bySlug("acme"))!;
    const topic = `org:${org.id}:hosts`;
    const sessionOf = async (userId: string) =>
      `capstan_session=${await t.services.sessions.create(userId, {})}`;
    try {
      await serving(t.app, async (url) => {
        // Logout ends this session: its socket goes, 4401.
        const s1 = await sessionOf(ann.id);
        const a = await openSocket(url, { cookie: s1 });
        await a.subscribe(topic);
        const out = await t.request("/logout", { method: "POST", cookie: s1 });
        // Measured from the answer: the change is committed by then (hashing can take a while).
        let since = performance.now();
        await out.body?.cancel();
        assert.equal(await a.closedWithin(1000, since), 4401, "logout");

        // A password change ends the other sessions; the session that changed it keeps its socket.
        const other = await openSocket(url, { cookie: await sessionOf(ann.id) });
        const keeper = await openSocket(url, { cookie: ann.cookie });
        await other.subscribe(topic);
        await keeper.subscribe(topic);
        const changed = await t.request("/api/v1/me/password", {
          method: "POST",
          cookie: ann.cookie,
          json: { current: ann.password, next: "a-brand-new-passphrase" },
        });
        since = performance.now();
        assert.equal(changed.status, 200, await changed.text());
        assert.equal(await other.closedWithin(1000, since), 4401, "password change");
        assert.ok(keeper.isOpen(), "the changing session's socket stays");

        // A revoked token's socket goes too.
        const token = await t.token(ann.id, "acme", "read");
        const viaToken = await openSocket(url, { token });
        await viaToken.subscribe(topic);
        const id = (await t.services.tokens.listForUser(ann.id))[0].id;
        const revoked = await t.request(`/api/v1/tokens/${id}`, {
          method: "DELETE",
          cookie: ann.cookie,
        });
        since = performance.now();
        await revoked.body?.cancel();
        assert.equal(await viaToken.closedWithin(1000, since), 4401, "token revoked");

        // An admin lowered to viewer loses the audit topic: 4403; the session itself lives on.
        await keeper.subscribe(`org:${org.id}:audit`);
        const lowered = await t.request(`/api/v1/orgs/acme/members/${ann.id}`, {
          method: "PATCH",
          cookie: owner.cookie,
          json: { role: "viewer" },
        });
        since = performance.now();
        await lowered.body?.cancel();
        assert.equal(await keeper.closedWithin(1000, since), 4403, "role lowered");

        // Removed from the organization: 4403, and the same session cannot subscribe again.
        const member = await openSocket(url, { cookie: ann.cookie });
        await member.subscribe(topic);
        const removed = await t.request(`/api/v1/orgs/acme/members/${ann.id}`, {
          method: "DELETE",
          cookie: owner.cookie,
        });
        since = performance.now();
        await removed.body?.cancel();
        assert.equal(await member.closedWithin(1000, since), 4403, "membership removed");
        const again = await openSocket(url, { cookie: ann.cookie });
        assert.equal(await again.trySubscribe(topic), "error");
        await again.close();
      });
    } finally {
      await t.hub.close();
    }
  },
);

/** Two hub "replicas" on one database, each with its own bus connection and realtime hub. */
function replicas(h: DbHandle) {
  const config = loadConfig({
    CAPSTAN_DATA_DIR: "/tmp/capstan-test-unused",
    CAPSTAN_PUBLIC_URL: ORIGIN,
  });
  // A channel of this test's own: NOTIFY is database-wide and other tests listen too.
  const channel = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const shared = createMemoryBus();
  return [0, 1].map(() => {
    const bus = h.pg ? createPgBus(h.pg, channel) : shared;
    const services = createServices({ config, dbh: h, bus });
    const hub = realtimeHubFor(services);
    return { services, hub, app: createApp(services, hub), bus };
  });
}

dbTest(
  "[e2e] a token revoked on one replica closes its socket on another within a second",
  async (h) => {
    const [a, b] = replicas(h);
    try {
      const u = await a.services.accounts.createUser({ actor: { type: "system" } }, {
        email: "ops@x.io",
        name: "Ops",
        password: "a-long-passphrase",
      });
      await a.services.accounts.ensureMembership(
        { actor: { type: "system" } },
        u.id,
        "acme",
        "owner",
      );
      const org = (await a.services.orgs.bySlug("acme"))!;
      const { token, record } = await a.services.tokens.create({
        userId: u.id,
        orgId: org.id,
        name: "ci",
        scope: "write",
        expiresAt: null,
      });
      await serving(b.app, async (urlB) => {
        const s = await openSocket(urlB, { token });
        await s.subscribe(`org:${org.id}:hosts`);
        const res = await a.app.request(`${ORIGIN}/api/v1/tokens/${record.id}`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${token}` },
        });
        const since = performance.now();
        assert.equal(res.status, 204);
        assert.equal(await s.closedWithin(1000, since), 4401);
      });
    } finally {
      for (const r of [a, b]) {
        await r.hub.close();
        await r.bus.close();
      }
    }
  },
);
