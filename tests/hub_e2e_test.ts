/** End-to-end: the real hub on a free port, its files, WebSocket hub, admin tasks and replicas. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { sql } from "kysely";
import { loadConfig } from "../lib/config.ts";
import { startHub } from "../hub.ts";
import { silentLogger } from "../lib/log.ts";

import { openDatabase } from "../lib/db/mod.ts";
import { TEST_POSTGRES_URL } from "./support/db.ts";

const IN_CI = Deno.env.get("CI") === "true";

async function withHub(
  env: Record<string, string>,
  fn: (url: string, dataDir: string) => Promise<void>,
  dir?: string,
) {
  const dataDir = dir ?? await Deno.makeTempDir({ prefix: "capstan-e2e-" });
  const config = loadConfig({ CAPSTAN_PORT: "0", CAPSTAN_DATA_DIR: dataDir, ...env });
  const hub = await startHub(config, { log: silentLogger, jobs: false });
  try {
    await fn(hub.url, dataDir);
  } finally {
    await hub.stop();
  }
}

/** Runs an admin command with stdin, capturing stdout, in this process (the task is a module). */
async function admin(args: string[], env: Record<string, string>, stdin?: string): Promise<string> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/admin.ts", ...args],
    env,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return text;
}

function openSocket(
  url: string,
  token: string,
): Promise<{ ws: WebSocket; next: () => Promise<Record<string, unknown>> }> {
  // Deno's WebSocket client accepts headers, which is how scripts authenticate (never a query token).
  const ws = new WebSocket(url.replace(/^http/, "ws") + "/api/v1/ws", {
    headers: { authorization: `Bearer ${token}` },
  } as unknown as string[]);
  const inbox: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data);
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  };
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const m = inbox.shift();
      if (m) return resolve(m);
      const timer = setTimeout(() => reject(new Error("no message within 5 s")), 5000);
      waiters.push((x) => {
        clearTimeout(timer);
        resolve(x);
      });
    });
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve({ ws, next });
    ws.onerror = () => reject(new Error("websocket failed"));
  });
}

async function closeSocket(ws: WebSocket) {
  const closed = new Promise((r) => ws.addEventListener("close", r));
  ws.close();
  await closed;
}

Deno.test("[e2e] first start: setup token file (0600), secret key (0600), /healthz; no token once a user exists", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "capstan-e2e-" });
  let firstToken = "";
  await withHub({}, async (url) => {
    const res = await fetch(`${url}/healthz`);
    assert.deepEqual(await res.json(), { status: "ok", database: "sqlite" });
    const file = join(dataDir, "setup-token");
    firstToken = (await Deno.readTextFile(file)).trim();
    assert.match(firstToken, /^[\w-]{32}$/);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(dataDir, "secret-key"))).mode! & 0o777, 0o600);
  }, dataDir);
  const env = { CAPSTAN_DATA_DIR: dataDir };
  await admin(
    [
      "create-user",
      "--email",
      "root@x.io",
      "--password-stdin",
      "--admin",
      "--org",
      "main",
      "--role",
      "owner",
    ],
    env,
    "password-1234\n",
  );
  await withHub({}, async () => {
    await assert.rejects(Deno.stat(join(dataDir, "setup-token")), Deno.errors.NotFound);
  }, dataDir);
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("[e2e] admin tasks work while the hub runs; the token works against it; realtime delivers audit events", async () => {
  await withHub({}, async (url, dataDir) => {
    const env = { CAPSTAN_DATA_DIR: dataDir };
    await admin(
      [
        "create-user",
        "--email",
        "ops@x.io",
        "--password-stdin",
        "--org",
        "acme",
        "--role",
        "admin",
      ],
      env,
      "password-1234\n",
    );
    const out = await admin([
      "create-token",
      "--email",
      "ops@x.io",
      "--org",
      "acme",
      "--scope",
      "write",
      "--name",
      "deploy",
      "--expires-days",
      "7",
    ], env);
    const token = out.trim().split("\n").at(-1)!;
    assert.match(token, /^cap_[\w-]{43}$/);
    const listed = await admin(["list-users"], env);
    assert.match(listed, /^ops@x\.io\t/m);

    const me = await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    const body = await me.json();
    assert.equal(body.user.email, "ops@x.io");
    const orgId = body.orgs[0].id;

    const noAuth = await fetch(`${url}/api/v1/ws`, { headers: { upgrade: "websocket" } });
    assert.equal(noAuth.status, 401);
    await noAuth.body?.cancel();

    const { ws, next } = await openSocket(url, token);
    ws.send(JSON.stringify({ type: "subscribe", topic: `org:${orgId}:audit` }));
    assert.equal((await next()).type, "subscribed");
    ws.send(JSON.stringify({ type: "subscribe", topic: "org:someone-else:audit" }));
    assert.equal((await next()).type, "error");
    ws.send(JSON.stringify({ type: "ping", id: 7 }));
    assert.deepEqual(await next(), { type: "pong", id: 7 });
    const created = await fetch(`${url}/api/v1/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "second", org: "acme", scope: "read", expires_days: 1 }),
    });
    assert.equal(created.status, 201);
    await created.body?.cancel();
    const event = await next();
    assert.equal(event.type, "event");
    assert.equal((event.data as { action: string }).action, "token.created");
    await closeSocket(ws);
  });
});

Deno.test("[e2e] main.ts refuses a bad variable with one line naming it", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts"],
    env: { CAPSTAN_PORT: "eighty" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  const err = new TextDecoder().decode(out.stderr).trim();
  assert.equal(err.split("\n").length, 1);
  assert.match(err, /^config: CAPSTAN_PORT="eighty" is invalid/);
});

Deno.test({
  name:
    "[postgres] [e2e] two hub replicas on one database deliver each realtime event to every subscriber once",
  ignore: !TEST_POSTGRES_URL && !IN_CI,
  async fn() {
    const dbName = `capstan_e2e_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const admin0 = openDatabase(TEST_POSTGRES_URL!);
    await sql`create database ${sql.id(dbName)}`.execute(admin0.db);
    const url = new URL(TEST_POSTGRES_URL!);
    url.pathname = `/${dbName}`;
    const env = { DATABASE_URL: url.toString() };
    try {
      await withHub(env, async (hubA, dirA) => {
        await withHub(env, async (hubB) => {
          await admin(
            [
              "create-user",
              "--email",
              "ops@x.io",
              "--password-stdin",
              "--org",
              "acme",
              "--role",
              "owner",
            ],
            { ...env, CAPSTAN_DATA_DIR: dirA },
            "password-1234\n",
          );
          const out = await admin([
            "create-token",
            "--email",
            "ops@x.io",
            "--org",
            "acme",
            "--scope",
            "write",
          ], { ...env, CAPSTAN_DATA_DIR: dirA });
          const token = out.trim().split("\n").at(-1)!;
          const orgId = (await (await fetch(`${hubA}/api/v1/me`, {
            headers: { authorization: `Bearer ${token}` },
          })).json()).orgs[0].id;
          const a = await openSocket(hubA, token);
          const b = await openSocket(hubB, token);
          for (const s of [a, b]) {
            s.ws.send(JSON.stringify({ type: "subscribe", topic: `org:${orgId}:audit` }));
            assert.equal((await s.next()).type, "subscribed");
          }
          for (let i = 0; i < 3; i++) {
            const r = await fetch(`${i % 2 ? hubA : hubB}/api/v1/tokens`, {
              method: "POST",
              headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
              body: JSON.stringify({ name: `t${i}`, org: "acme", scope: "read" }),
            });
            await r.body?.cancel();
          }
          for (const s of [a, b]) {
            const got = [await s.next(), await s.next(), await s.next()];
            assert.deepEqual(got.map((m) => (m.data as { action: string }).action), [
              "token.created",
              "token.created",
              "token.created",
            ]);
            assert.equal(
              new Set(got.map((m) => (m.data as { id: string }).id)).size,
              3,
              "no duplicates",
            );
          }
          // Nothing more arrives: each event came exactly once.
          for (const s of [a, b]) {
            s.ws.send(JSON.stringify({ type: "ping", id: 1 }));
            assert.equal((await s.next()).type, "pong");
          }
          await closeSocket(a.ws);
          await closeSocket(b.ws);
        });
      });
    } finally {
      await sql`drop database ${sql.id(dbName)} with (force)`.execute(admin0.db);
      await admin0.close();
    }
  },
});
