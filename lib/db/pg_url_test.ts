import assert from "node:assert/strict";
import { sql } from "kysely";
import { parsePostgresUrl, redactPostgresUrl } from "./pg_url.ts";
import { openDatabase } from "./mod.ts";
import { privatePgMissing, startPrivatePg } from "../../tests/support/private_pg.ts";

Deno.test("parsePostgresUrl() reads the usual form", () => {
  assert.deepEqual(parsePostgresUrl("postgres://ann:p%40ss@db.example:6432/capstan"), {
    host: "db.example",
    port: 6432,
    user: "ann",
    pass: "p@ss",
    database: "capstan",
    connection: {},
  });
});

Deno.test("parsePostgresUrl() reads libpq's Unix-socket and query forms", () => {
  assert.deepEqual(parsePostgresUrl("postgres:///capstan?host=/var/run/postgresql"), {
    host: "/var/run/postgresql",
    database: "capstan",
    connection: {},
  });
  assert.deepEqual(
    parsePostgresUrl(
      "postgresql://%2Fvar%2Frun%2Fpostgresql:5433/capstan?user=ann&application_name=hub&sslmode=disable",
    ),
    {
      host: "/var/run/postgresql",
      port: 5433,
      user: "ann",
      database: "capstan",
      ssl: false,
      connection: { application_name: "hub" },
    },
  );
  assert.deepEqual(
    parsePostgresUrl("postgres://x@h/a?dbname=b&port=1&password=pw&host=/run/pg"),
    { host: "/run/pg", port: 1, user: "x", pass: "pw", database: "b", connection: {} },
    "the query wins over the URL's parts, as in libpq",
  );
  assert.throws(() => parsePostgresUrl("postgres://h/a?sslmode=bogus"), /sslmode "bogus"/);
});

Deno.test("redactPostgresUrl() leaves passwords out", () => {
  assert.equal(
    redactPostgresUrl("postgres://ann:secret@127.0.0.1:5432/capstan"),
    "postgres://ann@127.0.0.1:5432/capstan",
  );
  assert.equal(
    redactPostgresUrl("postgres:///capstan?host=/run/pg&password=secret"),
    "postgres:///capstan?host=%2Frun%2Fpg",
  );
});

const pgMissing = privatePgMissing();
Deno.test({
  name: "[postgres] openDatabase() connects through a Unix socket given libpq-style (?host=<dir>)",
  ignore: Boolean(pgMissing) && Deno.env.get("CI") !== "true",
  async fn() {
    const pg = await startPrivatePg();
    const h = openDatabase(
      `postgres:///capstan?host=${encodeURIComponent(pg.socketDir)}&port=${pg.port}&user=capstan`,
    );
    try {
      const { rows } = await sql<{ via: string | null }>`select inet_server_addr()::text as via`
        .execute(h.db);
      assert.equal(rows[0].via, null, "a Unix-socket connection has no server address");
    } finally {
      await h.close();
      await pg.remove();
    }
  },
});
