/**
 * Secrets through the HTTP API, on both dialects: admins create and rotate, viewers read names
 * only, members cannot change them; a value goes in once and no answer, audit row or trail entry
 * carries it (text or base64); bad input is a 400 naming the field; a taken name is a 409; a
 * 64 KB binary value round-trips into the store encrypted, a larger one is refused; versions
 * count up; deletion removes every version.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { testApp } from "./support/app.ts";
import { Buffer } from "node:buffer";

const encodeBase64 = (b: Uint8Array) => Buffer.from(b).toString("base64");

const CANARY = "canary-7f3c-" + crypto.randomUUID();

dbTest(
  "secrets API: create, read without values, rotate, policy, validation, delete",
  async (h) => {
    const t = testApp(h);
    const admin = await t.user("admin@acme.io", { org: "acme", role: "admin" });
    const member = await t.user("member@acme.io", { org: "acme", role: "member" });
    const viewer = await t.user("viewer@acme.io", { org: "acme", role: "viewer" });
    const bodies: string[] = [];
    const as = async (cookie: string, method: string, path: string, json?: unknown) => {
      const res = await t.request(`/api/v1/orgs/acme/secrets${path}`, { method, cookie, json });
      const text = await res.text();
      bodies.push(text);
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };

    // An empty list first.
    assert.deepEqual((await as(viewer.cookie, "GET", "")).body, { items: [] });

    // Bad input names the field; nothing is stored.
    let r = await as(admin.cookie, "POST", "", { name: "9lives", value: "x" });
    assert.equal(r.status, 400);
    assert.ok(r.body.error.fields.name);
    r = await as(admin.cookie, "POST", "", { name: "EMPTY", value: "" });
    assert.equal(r.status, 400);
    assert.ok(r.body.error.fields.value);
    r = await as(admin.cookie, "POST", "", { name: "BOTH", value: "a", value_base64: "YQ==" });
    assert.equal(r.status, 400);
    r = await as(admin.cookie, "POST", "", {
      name: "HUGE",
      value_base64: encodeBase64(new Uint8Array(64 * 1024 + 1)),
    });
    assert.equal(r.status, 400);
    assert.match(r.body.error.fields.value, /64 KB/);

    // Members and viewers cannot create.
    for (const who of [member, viewer]) {
      r = await as(who.cookie, "POST", "", { name: "DB_PASSWORD", value: CANARY });
      assert.equal(r.status, 403);
    }

    r = await as(admin.cookie, "POST", "", {
      name: "DB_PASSWORD",
      description: "the database",
      value: CANARY,
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.name, "DB_PASSWORD");
    assert.equal(r.body.kind, "text");
    assert.equal(r.body.current_version, 1);
    r = await as(admin.cookie, "POST", "", { name: "DB_PASSWORD", value: "other" });
    assert.equal(r.status, 409);

    // A 64 KB binary value is accepted as binary.
    const binary = Uint8Array.from({ length: 64 * 1024 }, (_, i) => (i * 31) & 0xff);
    r = await as(admin.cookie, "POST", "", { name: "TLS_KEY", value_base64: encodeBase64(binary) });
    assert.equal(r.status, 201);
    assert.equal(r.body.kind, "binary");

    r = await as(viewer.cookie, "GET", "");
    assert.deepEqual(r.body.items.map((s: { name: string }) => s.name), ["DB_PASSWORD", "TLS_KEY"]);
    r = await as(viewer.cookie, "GET", "?search=TLS");
    assert.deepEqual(r.body.items.map((s: { name: string }) => s.name), ["TLS_KEY"]);
    r = await as(viewer.cookie, "GET", "?limit=1");
    assert.equal(r.body.items.length, 1);
    r = await as(viewer.cookie, "GET", "?limit=1&after=DB_PASSWORD");
    assert.deepEqual(r.body.items.map((s: { name: string }) => s.name), ["TLS_KEY"]);

    // Rotation: a new version; members cannot.
    r = await as(member.cookie, "PUT", "/DB_PASSWORD", { value: CANARY + "-2" });
    assert.equal(r.status, 403);
    r = await as(admin.cookie, "PUT", "/DB_PASSWORD", {
      value: CANARY + "-2",
      rotation: "next_deploy",
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.version, 2);
    assert.equal(r.body.rotation, "next_deploy");
    r = await as(admin.cookie, "PUT", "/DB_PASSWORD", { rotation: "sometimes", value: "x" });
    assert.equal(r.status, 400);
    assert.ok(r.body.error.fields.rotation);
    r = await as(admin.cookie, "PUT", "/DB_PASSWORD", { description: "the primary database" });
    assert.equal(r.body.version, 2);
    r = await as(viewer.cookie, "GET", "/DB_PASSWORD");
    assert.equal(r.body.description, "the primary database");
    assert.deepEqual(r.body.versions.map((v: { version: number }) => v.version), [2, 1]);
    r = await as(viewer.cookie, "GET", "/DB_PASSWORD/trail");
    assert.deepEqual(r.body.items.map((e: { kind: string }) => e.kind), ["rotated", "created"]);
    assert.equal(r.body.items[0].actor_name, "admin@acme.io");

    // Stored encrypted: the blob is not the value, and opens only as its own version.
    const org = (await t.services.orgs.bySlug("acme"))!;
    const row = await h.db.selectFrom("secret_versions").innerJoin(
      "secrets",
      "secrets.id",
      "secret_versions.secret_id",
    ).select(["blob", "version"]).where("secrets.name", "=", "DB_PASSWORD").execute();
    assert.equal(row.length, 2);
    for (const v of row) assert.ok(!v.blob.includes(CANARY) && !v.blob.includes(btoa(CANARY)));
    const m = await t.services.secrets.material(org.id, "DB_PASSWORD", 2);
    assert.equal(new TextDecoder().decode(m.value), CANARY + "-2");
    const b = await t.services.secrets.material(org.id, "TLS_KEY", 1);
    assert.deepEqual(b.value, binary);

    // Unknown secret: 404; deletion removes every version.
    assert.equal((await as(admin.cookie, "GET", "/NOPE")).status, 404);
    assert.equal((await as(member.cookie, "DELETE", "/TLS_KEY")).status, 403);
    assert.equal((await as(admin.cookie, "DELETE", "/TLS_KEY")).status, 204);
    assert.equal((await as(viewer.cookie, "GET", "/TLS_KEY")).status, 404);
    const left = await h.db.selectFrom("secret_versions").select("version").where(
      "org_id",
      "=",
      org.id,
    ).execute();
    assert.equal(left.length, 2);

    // Audited, never with the value.
    const audit = await h.db.selectFrom("audit_log").selectAll().where("action", "like", "secret.%")
      .execute();
    assert.deepEqual(
      [...new Set(audit.filter((a) => a.status === "ok").map((a) => a.action))].sort(),
      ["secret.create", "secret.delete", "secret.rotate", "secret.update"],
    );
    const everything = [...bodies, JSON.stringify(audit)].join("\n");
    assert.ok(!everything.includes(CANARY), "the value appears in an answer or an audit row");
    assert.ok(!everything.includes(btoa(CANARY)));
  },
);
