/**
 * The secret pages and the app form's Secrets rows through the whole app (no socket, no engine),
 * on both dialects: the empty list with what a secret is; creating one by pasting (multipart, as
 * the page posts it) and by uploading a binary file; refusals that keep the name and description
 * but never the value (and say so); a file over 64 KB refused with its size; the secret's page
 * with facts, versions, usage and the trail (a restart entry's apps linking to their deployment);
 * rotating with a chosen mode; the description; delete by typed name, refused with the apps named
 * while one uses it; viewers and members reading without any control to change; attaching a
 * secret to an app as a file and a variable through the edit form, errors on the row they belong
 * to, detaching. No page ever carries a value: every answer is searched for it.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { pageSession } from "./support/page_session.ts";
import type { DbHandle } from "../lib/db/mod.ts";
import { AppSpec } from "../lib/apps/spec.ts";
import type { SecretUse } from "../lib/secrets/service.ts";
import { fieldError, inputValue, isChecked, textareaValue } from "./support/html.ts";

const CANARY = "canary-" + crypto.randomUUID();

async function setup(h: DbHandle) {
  const session = await pageSession(h);
  const { t, answer } = session;
  /** Posts as the secret forms do: multipart, with an optional file. */
  const postMultipart = async (
    path: string,
    fields: Record<string, string>,
    cookie: string,
    file?: { name: string; bytes: Uint8Array<ArrayBuffer> },
  ) => {
    const body = new FormData();
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    body.set(
      "value_file",
      file
        ? new File([file.bytes], file.name)
        : new File([], "", { type: "application/octet-stream" }),
    );
    return answer(await t.request(path, { method: "POST", body, cookie }));
  };
  return { ...session, postMultipart };
}

dbTest(
  "[e2e] secrets pages: create by paste and upload, refusals without the value, rotate, trail, usage, delete, policies, never a value in a page",
  async (h) => {
    const { s, org, admin, member, viewer, eve, get, post, postMultipart, seen } = await setup(h);

    // The empty list says what a secret is; only admins are offered New secret.
    let r = await get("/o/acme/secrets", admin.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /href="\/o\/acme\/secrets"[^>]*aria-current="page"/, "the nav marks it");
    assert.match(r.html, /No secrets yet/);
    assert.match(r.html, /A secret is a value your apps need but nobody should read/);
    assert.match(r.html, /href="\/o\/acme\/secrets\/new-secret"/);
    for (const who of [member, viewer]) {
      r = await get("/o/acme/secrets", who.cookie);
      assert.equal(r.status, 200);
      assert.doesNotMatch(r.html, /new-secret/);
      assert.match(r.html, /Organization admins and owners create secrets/);
      assert.equal((await get("/o/acme/secrets/new-secret", who.cookie)).status, 403);
    }
    assert.equal((await get("/o/acme/secrets", eve.cookie)).status, 404);

    // The form: multipart, a textarea and a file input, both labelled.
    r = await get("/o/acme/secrets/new-secret", admin.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /enctype="multipart\/form-data"/);
    assert.match(r.html, /<label for="secret-value">Paste it<\/label>/);
    assert.match(r.html, /<label for="secret-value_file">Or upload a file<\/label>/);
    assert.match(r.html, /never shown again/);

    // Refusals keep the name and description, never the value, and say so.
    const good = { name: "DB_PASSWORD", description: "the shop database", value: CANARY };
    r = await postMultipart(
      "/o/acme/secrets/new-secret",
      { ...good, name: "9lives" },
      admin.cookie,
    );
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "name", "secret") ?? "", /not starting with a digit/);
    assert.equal(inputValue(r.html, "name"), "9lives");
    assert.equal(inputValue(r.html, "description"), "the shop database");
    assert.equal(textareaValue(r.html, "value"), "", "the value is not echoed");
    assert.match(r.html, /the value you entered was not kept/);
    // No value and a bad name: both said at once.
    r = await postMultipart(
      "/o/acme/secrets/new-secret",
      { ...good, name: "no-dashes", value: "" },
      admin.cookie,
    );
    assert.equal(r.status, 400);
    assert.match(
      fieldError(r.html, "value", "secret") ?? "",
      /Is required: paste it, or choose a file/,
    );
    assert.match(fieldError(r.html, "name", "secret") ?? "", /letters, digits or _/);
    r = await postMultipart("/o/acme/secrets/new-secret", good, admin.cookie, {
      name: "pw.txt",
      bytes: new TextEncoder().encode(CANARY),
    });
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "value", "secret") ?? "", /not both/);
    r = await postMultipart("/o/acme/secrets/new-secret", { ...good, value: "" }, admin.cookie, {
      name: "huge.bin",
      bytes: new Uint8Array(64 * 1024 + 1),
    });
    assert.equal(r.status, 400);
    assert.equal(
      fieldError(r.html, "value_file", "secret"),
      "The file is 65 KB; a secret holds at most 64 KB",
    );
    assert.equal(await s.secrets.list(org.id).then((l) => l.length), 0, "nothing was stored");

    // Created by pasting; CRLF from the textarea arrives as LF.
    r = await postMultipart(
      "/o/acme/secrets/new-secret",
      { ...good, value: `${CANARY}\r\nline 2` },
      admin.cookie,
    );
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/secrets/DB_PASSWORD?done=created");
    const m = await s.secrets.material(org.id, "DB_PASSWORD", 1);
    assert.equal(new TextDecoder().decode(m.value), `${CANARY}\nline 2`);
    r = await get(r.location!, admin.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /Secret created/);
    assert.match(r.html, /data-current-version="1"/);
    assert.match(r.html, /No app uses it yet/);
    assert.match(r.html, /data-trail-kind="created"/);
    // A taken name is a 409 on the name.
    r = await postMultipart("/o/acme/secrets/new-secret", good, admin.cookie);
    assert.equal(r.status, 409);
    assert.equal(fieldError(r.html, "name", "secret"), "Is taken in this organization");

    // A binary file becomes a binary secret, byte for byte.
    const key = Uint8Array.from({ length: 2048 }, (_, i) => (i * 7) & 0xff);
    r = await postMultipart(
      "/o/acme/secrets/new-secret",
      {
        name: "TLS_KEY",
        description: "",
        value: "",
      },
      admin.cookie,
      { name: "tls.key", bytes: key },
    );
    assert.equal(r.status, 303);
    assert.deepEqual((await s.secrets.material(org.id, "TLS_KEY", 1)).value, key);
    r = await get("/o/acme/secrets/TLS_KEY", admin.cookie);
    assert.match(r.html, /Binary: a file only/);
    assert.match(r.html, /2\.0 KiB/);

    // Viewers and members read the page without any control to change it.
    for (const who of [viewer, member]) {
      r = await get("/o/acme/secrets/DB_PASSWORD", who.cookie);
      assert.equal(r.status, 200);
      assert.match(r.html, /the shop database/);
      assert.doesNotMatch(r.html, /\/rotate"|\/description"|\/delete"|Rotate…/);
      assert.equal(
        (await postMultipart("/o/acme/secrets/DB_PASSWORD/rotate", { value: "x" }, who.cookie))
          .status,
        403,
      );
      assert.equal((await get("/o/acme/secrets/DB_PASSWORD/delete", who.cookie)).status, 403);
    }
    assert.equal((await get("/o/acme/secrets/DB_PASSWORD", eve.cookie)).status, 404);
    assert.equal((await get("/o/acme/secrets/NOPE", admin.cookie)).status, 404);

    // Rotation: the admin's form offers the three modes, rolling first and chosen.
    r = await get("/o/acme/secrets/DB_PASSWORD", admin.cookie);
    assert.match(r.html, /action="\/o\/acme\/secrets\/DB_PASSWORD\/rotate"/);
    assert.ok(isChecked(r.html, "rotation"), "the first mode (rolling) is chosen");
    assert.match(r.html, /value="rolling" checked/);
    assert.match(r.html, /Rolling restart now[\s\S]*At the next deploy[\s\S]*Restart now/);
    // No value: refused, the mode kept, the value not.
    r = await postMultipart(
      "/o/acme/secrets/DB_PASSWORD/rotate",
      { value: "", rotation: "restart" },
      admin.cookie,
    );
    assert.equal(r.status, 400);
    assert.match(r.html, /value="restart" checked/);
    assert.match(fieldError(r.html, "value", "rotate") ?? "", /Is required/);
    r = await postMultipart(
      "/o/acme/secrets/DB_PASSWORD/rotate",
      { value: `${CANARY}-2`, rotation: "sometimes" },
      admin.cookie,
    );
    assert.equal(r.status, 400);
    assert.ok(fieldError(r.html, "rotation", "rotate"), "a bad mode is named");
    assert.equal(textareaValue(r.html, "value"), "");
    r = await postMultipart(
      "/o/acme/secrets/DB_PASSWORD/rotate",
      { value: `${CANARY}-2`, rotation: "next_deploy" },
      admin.cookie,
    );
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/secrets/DB_PASSWORD?done=rotated_next_deploy");
    r = await get(r.location!, admin.cookie);
    assert.match(r.html, /get it at their next deployment/);
    assert.match(r.html, /data-current-version="2"/);
    assert.match(r.html, /data-trail-kind="rotated"[\s\S]*Version 2 \(at next deploy\)/);
    assert.match(r.html, /by admin@acme\.io/);
    assert.match(r.html, /data-version="2"[\s\S]*data-version="1"/);

    // The description.
    r = await post(
      "/o/acme/secrets/DB_PASSWORD/description",
      { description: "x".repeat(501) },
      admin.cookie,
    );
    assert.equal(r.status, 400);
    assert.ok(fieldError(r.html, "description", "describe"));
    r = await post(
      "/o/acme/secrets/DB_PASSWORD/description",
      { description: "the primary database" },
      admin.cookie,
    );
    assert.equal(r.status, 303);
    assert.equal((await s.secrets.get(org.id, "DB_PASSWORD")).description, "the primary database");

    // Usage, as the apps module reports it: the list and the page name the app and how it gets
    // the secret; a variable is warned about; deletion is refused naming it.
    await s.apps.store.create(org.id, {
      name: "shop",
      spec: AppSpec.parse({ services: [{ name: "web", image: "capstan-test/busybox:1" }] }),
    }, null);
    const use: SecretUse = {
      secret: "DB_PASSWORD",
      app_id: "app-1",
      app: "shop",
      services: [{ service: "web", env: "DB_PASSWORD", file: "/run/secrets/DB_PASSWORD" }],
      deployed_version: 1,
    };
    s.secrets.consumers.register({
      uses: (orgId, secret) =>
        Promise.resolve(orgId === org.id && (!secret || secret === use.secret) ? [use] : []),
      versionsInUse: () => Promise.resolve(new Set()),
    });
    r = await get("/o/acme/secrets", viewer.cookie);
    assert.match(
      r.html,
      /data-secret-row="DB_PASSWORD"[\s\S]*href="\/o\/acme\/apps\/shop"[\s\S]*env <code>DB_PASSWORD<\/code>[\s\S]*file <code>\/run\/secrets\/DB_PASSWORD<\/code>[\s\S]*data-secret-row="TLS_KEY"[\s\S]*no app/,
    );
    r = await get("/o/acme/secrets/DB_PASSWORD", admin.cookie);
    assert.match(r.html, /data-secret-use="shop"/);
    assert.match(r.html, /Still running an older version: shop \(version 1\)/);
    assert.match(r.html, /shop gets it as an environment variable\. Prefer files/);
    assert.match(r.html, /It cannot be deleted while shop uses it/);
    r = await get("/o/acme/secrets/DB_PASSWORD/delete", admin.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /Type DB_PASSWORD to confirm/);
    r = await post("/o/acme/secrets/DB_PASSWORD/delete", { confirm_name: "DB" }, admin.cookie);
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "confirm_name", "del") ?? "", /exactly/);
    r = await post(
      "/o/acme/secrets/DB_PASSWORD/delete",
      { confirm_name: "DB_PASSWORD" },
      admin.cookie,
    );
    assert.equal(r.status, 409);
    assert.match(r.html, /DB_PASSWORD is used by shop; detach it from that app first/);
    assert.ok(await s.secrets.get(org.id, "DB_PASSWORD"));

    // The trail names the apps a restart touched, with their deployments; odd data is skipped.
    await s.secrets.note(org.id, "DB_PASSWORD", {
      kind: "restarted",
      version: 2,
      actor_name: "admin@acme.io",
      message: "Restarted 1 app with version 2",
      data: { apps: [{ app: "shop", deployment_number: 3 }, { nope: 1 }, "x", null] },
    });
    r = await get("/o/acme/secrets/DB_PASSWORD", viewer.cookie);
    assert.match(
      r.html,
      /data-trail-kind="restarted"[\s\S]*Restarted 1 app[\s\S]*href="\/o\/acme\/apps\/shop\/deployments\/3"/,
    );

    // A secret nobody uses is deleted with its versions.
    r = await post("/o/acme/secrets/TLS_KEY/delete", { confirm_name: "TLS_KEY" }, admin.cookie);
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/secrets?done=deleted");
    r = await get(r.location!, admin.cookie);
    assert.match(r.html, /Secret deleted with all its versions/);
    assert.doesNotMatch(r.html, /TLS_KEY/);

    // Never a value, in any answer.
    const all = seen.join("\n");
    assert.ok(!all.includes(CANARY), "a value appears in a page");
    assert.ok(!all.includes(btoa(CANARY)));
  },
);

dbTest(
  "[e2e] secrets pages: the app form attaches a secret as a file and a variable, errors on their row, detaches",
  async (h) => {
    const { s, org, admin, member, viewer, get, post, postMultipart } = await setup(h);
    await postMultipart("/o/acme/secrets/new-secret", {
      name: "DB_PASSWORD",
      description: "",
      value: CANARY,
    }, admin.cookie);
    await postMultipart(
      "/o/acme/secrets/new-secret",
      {
        name: "TLS_KEY",
        description: "",
        value: "",
      },
      admin.cookie,
      { name: "k", bytes: new Uint8Array([0, 1, 2, 255]) },
    );
    await s.apps.store.create(org.id, {
      name: "shop",
      spec: AppSpec.parse({
        services: [{ name: "web", image: "capstan-test/busybox:1", env: { MODE: "fast" } }],
      }),
    }, null);

    // The new-app form offers the organization's secrets and says why files are better.
    let r = await get("/o/acme/apps/new", member.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /<legend>Secrets<\/legend>/);
    assert.match(r.html, /<option value="DB_PASSWORD"/);
    assert.match(r.html, /TLS_KEY \(binary: file only\)/);
    assert.match(
      r.html,
      /environment variables are visible to anyone who can docker inspect the container on its node; files are kept in memory by Swarm and readable only inside the container/,
    );
    assert.ok(isChecked(r.html, "secret_0_file_on"), "a file by default");
    assert.ok(!isChecked(r.html, "secret_0_env_on"));
    assert.equal(inputValue(r.html, "secret_0_file_mode"), "0400");

    const edit = {
      name: "shop",
      service: "web",
      image: "capstan-test/busybox:1",
      env: "MODE=fast",
      replicas: "1",
      port_mode: "host",
      edit_service: "web",
      then: "save",
    };
    // Row 0 blank (skipped), row 1 as a file and a variable (its name by default).
    r = await post("/o/acme/apps/shop/edit", {
      ...edit,
      secret_0: "",
      secret_0_file_on: "on",
      secret_1: "DB_PASSWORD",
      secret_1_file_on: "on",
      secret_1_file_target: "",
      secret_1_file_mode: "0440",
      secret_1_env_on: "on",
      secret_1_env: "",
    }, member.cookie);
    assert.equal(r.status, 303, r.html.slice(0, 2000));
    let spec = (await s.apps.store.get(org.id, "shop")).spec.services[0];
    assert.deepEqual(spec.secrets, [{
      secret: "DB_PASSWORD",
      env: "DB_PASSWORD",
      file: { uid: "0", gid: "0", mode: 0o440 },
    }]);
    r = await get("/o/acme/apps/shop", member.cookie);
    assert.match(
      r.html,
      /data-app-secret="DB_PASSWORD"[\s\S]*file \/run\/secrets\/DB_PASSWORD \(0440\), env DB_PASSWORD/,
    );

    // The edit form shows it on row 0 and a blank row after it.
    r = await get("/o/acme/apps/shop/edit", member.cookie);
    assert.match(r.html, /<option value="DB_PASSWORD" selected/);
    assert.equal(inputValue(r.html, "secret_0_env"), "DB_PASSWORD");
    assert.equal(inputValue(r.html, "secret_0_file_mode"), "0440");
    assert.match(r.html, /name="secret_1"/);
    assert.match(r.html, /Attach another secret/);
    assert.doesNotMatch(r.html, /name="secret_2"/);

    // The form's own refusals sit on their row, the input kept: neither way, a bad mode, a binary
    // secret as a variable, a name the organization does not have.
    const rows = {
      secret_0: "DB_PASSWORD",
      secret_0_file_mode: "0999",
      secret_0_file_on: "on",
      secret_1: "TLS_KEY",
      secret_1_env_on: "on",
      secret_2: "DB_PASSWORD",
      secret_3: "GHOST",
      secret_3_file_on: "on",
    };
    r = await post("/o/acme/apps/shop/edit", { ...edit, ...rows }, member.cookie);
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "secret_0_file_mode", "app") ?? "", /octal mode such as 0400/);
    assert.equal(
      fieldError(r.html, "secret_1_env", "app"),
      "TLS_KEY is binary: it can only be a file",
    );
    assert.match(fieldError(r.html, "secret_2", "app") ?? "", /as a file, a variable or both/);
    assert.match(fieldError(r.html, "secret_3", "app") ?? "", /no secret named GHOST/);
    assert.equal(inputValue(r.html, "secret_0_file_mode"), "0999", "the input is kept");
    assert.match(r.html, /<option value="GHOST" selected>GHOST \(not found\)/);

    // The spec's rules come back on the row too: a variable that env already sets.
    r = await post("/o/acme/apps/shop/edit", {
      ...edit,
      secret_0: "",
      secret_1: "DB_PASSWORD",
      secret_1_env_on: "on",
      secret_1_env: "MODE",
    }, member.cookie);
    assert.equal(r.status, 400);
    assert.equal(fieldError(r.html, "secret_1_env", "app"), "MODE is already set in env");

    // Viewers cannot attach; choosing none detaches.
    assert.equal(
      (await post("/o/acme/apps/shop/edit", { ...edit, secret_0: "" }, viewer.cookie)).status,
      403,
    );
    r = await post("/o/acme/apps/shop/edit", { ...edit, secret_0: "" }, member.cookie);
    assert.equal(r.status, 303);
    spec = (await s.apps.store.get(org.id, "shop")).spec.services[0];
    assert.deepEqual(spec.secrets, []);
  },
);
