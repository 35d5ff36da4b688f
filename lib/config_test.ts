import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "./config.ts";

Deno.test("loadConfig() defaults: 127.0.0.1:8080, ./data, SQLite in the data dir", () => {
  const c = loadConfig({});
  assert.equal(c.host, "127.0.0.1");
  assert.equal(c.port, 8080);
  assert.ok(c.dataDir.endsWith("/data"));
  assert.equal(c.databaseUrl, `sqlite:${c.dataDir}/capstan.db`);
  assert.equal(c.publicUrl, "http://127.0.0.1:8080");
  assert.equal(c.logLevel, "info");
  assert.equal(c.auditRetentionDays, 90);
});

Deno.test("loadConfig() reads every documented variable", () => {
  const c = loadConfig({
    CAPSTAN_HOST: "0.0.0.0",
    CAPSTAN_PORT: "9000",
    CAPSTAN_DATA_DIR: "/var/lib/capstan",
    DATABASE_URL: "postgres://u:p@db/capstan",
    CAPSTAN_PUBLIC_URL: "https://capstan.example.com/",
    CAPSTAN_LOG_LEVEL: "debug",
    CAPSTAN_SECRET_KEY: "a".repeat(43),
    CAPSTAN_AUDIT_RETENTION_DAYS: "30",
  });
  assert.equal(c.port, 9000);
  assert.equal(c.databaseUrl, "postgres://u:p@db/capstan");
  assert.equal(c.publicUrl, "https://capstan.example.com");
  assert.equal(c.auditRetentionDays, 30);
});

Deno.test("loadConfig() fails with one line naming the bad variable", () => {
  const cases: [Record<string, string>, string][] = [
    [{ CAPSTAN_PORT: "http" }, "CAPSTAN_PORT"],
    [{ CAPSTAN_PORT: "70000" }, "CAPSTAN_PORT"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
    [{ CAPSTAN_PUBLIC_URL: "ftp://x" }, "CAPSTAN_PUBLIC_URL"],
    [{ CAPSTAN_LOG_LEVEL: "loud" }, "CAPSTAN_LOG_LEVEL"],
    [{ CAPSTAN_SECRET_KEY: "short" }, "CAPSTAN_SECRET_KEY"],
  ];
  for (const [env, name] of cases) {
    assert.throws(() => loadConfig(env), (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.ok(e.message.startsWith(`config: ${name}=`), e.message);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
});

Deno.test("loadConfig() never echoes a secret key value in its error", () => {
  assert.throws(
    () => loadConfig({ CAPSTAN_SECRET_KEY: "hunter2" }),
    (e: Error) => !e.message.includes("hunter2"),
  );
});

Deno.test("loadConfig() CAPSTAN_SECRET_KEY_PREVIOUS: comma-separated keys, none by default, never echoed", () => {
  const [a, b] = ["a".repeat(43), "B_-+/".repeat(9) + "=="];
  assert.deepEqual(loadConfig({}).secretKeyPrevious, []);
  assert.deepEqual(loadConfig({ CAPSTAN_SECRET_KEY_PREVIOUS: a }).secretKeyPrevious, [a]);
  assert.deepEqual(loadConfig({ CAPSTAN_SECRET_KEY_PREVIOUS: `${a},${b}` }).secretKeyPrevious, [
    a,
    b,
  ]);
  for (const bad of [`${a},hunter2`, `${a},`, "hunter2", `${a} ${b}`]) {
    assert.throws(() => loadConfig({ CAPSTAN_SECRET_KEY_PREVIOUS: bad }), (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(
        e.message,
        "config: CAPSTAN_SECRET_KEY_PREVIOUS=(hidden) is invalid: must be a comma-separated list of keys, each at least 32 bytes, base64",
      );
      return true;
    });
  }
});

Deno.test("loadConfig() worker heartbeats: 30 s and 120 s by default, read in seconds", () => {
  assert.deepEqual(loadConfig({}).workerHeartbeat, { intervalMs: 30_000, timeoutMs: 120_000 });
  const c = loadConfig({
    CAPSTAN_WORKER_HEARTBEAT_INTERVAL: "5",
    CAPSTAN_WORKER_HEARTBEAT_TIMEOUT: "20",
  });
  assert.deepEqual(c.workerHeartbeat, { intervalMs: 5000, timeoutMs: 20_000 });
});

Deno.test("loadConfig() refuses a heartbeat interval under 1 s or a timeout not above it", () => {
  const cases: [Record<string, string>, string][] = [
    [{ CAPSTAN_WORKER_HEARTBEAT_INTERVAL: "0" }, 'CAPSTAN_WORKER_HEARTBEAT_INTERVAL="0"'],
    [{ CAPSTAN_WORKER_HEARTBEAT_INTERVAL: "0.5" }, "CAPSTAN_WORKER_HEARTBEAT_INTERVAL"],
    [
      { CAPSTAN_WORKER_HEARTBEAT_TIMEOUT: "30" },
      'CAPSTAN_WORKER_HEARTBEAT_TIMEOUT="30" is invalid: must be greater than ' +
      "CAPSTAN_WORKER_HEARTBEAT_INTERVAL (30 s)",
    ],
    [
      { CAPSTAN_WORKER_HEARTBEAT_INTERVAL: "300" },
      "CAPSTAN_WORKER_HEARTBEAT_TIMEOUT=(unset) is invalid: must be greater than " +
      "CAPSTAN_WORKER_HEARTBEAT_INTERVAL (300 s)",
    ],
  ];
  for (const [env, text] of cases) {
    assert.throws(() => loadConfig(env), (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.ok(e.message.startsWith(`config: ${text}`), e.message);
      return true;
    });
  }
});

Deno.test("loadConfig() PayPal: all three or none, sandbox by default, the secret never echoed", () => {
  assert.equal(loadConfig({}).paypal, undefined);
  const all = {
    CAPSTAN_PAYPAL_CLIENT_ID: "AbC-123",
    CAPSTAN_PAYPAL_CLIENT_SECRET: "EsecretValue",
    CAPSTAN_PAYPAL_WEBHOOK_ID: "8PT597110X687430L",
  };
  assert.deepEqual(loadConfig(all).paypal, {
    clientId: "AbC-123",
    clientSecret: "EsecretValue",
    webhookId: "8PT597110X687430L",
    apiBase: "https://api-m.sandbox.paypal.com",
  });
  assert.equal(
    loadConfig({ ...all, CAPSTAN_PAYPAL_API_BASE: "https://api-m.paypal.com/" }).paypal?.apiBase,
    "https://api-m.paypal.com",
  );
  const cases: [Record<string, string>, string][] = [
    [
      { CAPSTAN_PAYPAL_CLIENT_ID: "AbC" },
      "CAPSTAN_PAYPAL_CLIENT_SECRET=(hidden) is invalid: is needed with CAPSTAN_PAYPAL_CLIENT_ID",
    ],
    [
      { ...all, CAPSTAN_PAYPAL_WEBHOOK_ID: "not an id!" },
      'CAPSTAN_PAYPAL_WEBHOOK_ID="not an id!" is invalid',
    ],
    // Plain http only to this machine (a test stand-in), never across a network.
    [
      { ...all, CAPSTAN_PAYPAL_API_BASE: "http://api-m.paypal.com" },
      'CAPSTAN_PAYPAL_API_BASE="http://api-m.paypal.com" is invalid',
    ],
    [
      { ...all, CAPSTAN_PAYPAL_CLIENT_SECRET: "x".repeat(300) },
      "CAPSTAN_PAYPAL_CLIENT_SECRET=(hidden)",
    ],
  ];
  for (const [env, text] of cases) {
    assert.throws(() => loadConfig(env), (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.ok(e.message.startsWith(`config: ${text}`), e.message);
      assert.ok(!e.message.includes("EsecretValue") && !e.message.includes("xxxx"), e.message);
      return true;
    });
  }
  assert.equal(
    loadConfig({ ...all, CAPSTAN_PAYPAL_API_BASE: "http://127.0.0.1:4567" }).paypal?.apiBase,
    "http://127.0.0.1:4567",
  );
});
