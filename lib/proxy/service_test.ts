/**
 * The routes service's update keeps a stored basic-auth password when the input names a user and
 * no password (the edit form never shows the password back), on both dialects through the whole
 * service (no Caddy: loads report that, the route is stored all the same).
 */
import assert from "node:assert/strict";
import bcrypt from "bcryptjs";
import { dbTest } from "../../tests/support/db.ts";
import { testApp } from "../../tests/support/app.ts";
import { SYSTEM_CTX } from "../../tests/support/services.ts";
import { AppSpec } from "../apps/spec.ts";
import { Invalid } from "../errors.ts";
import type { RouteCaller } from "./service.ts";

dbTest("proxy service: an update without a password keeps the stored one", async (h) => {
  const t = testApp(h);
  const s = t.services;
  await t.user("m@acme.io", { org: "acme", role: "member" });
  const org = (await s.orgs.bySlug("acme"))!;
  await s.apps.store.create(org.id, {
    name: "shop",
    spec: AppSpec.parse({ services: [{ name: "web", image: "capstan-test/busybox:1" }] }),
  }, null);
  const caller: RouteCaller = { ctx: SYSTEM_CTX, orgId: org.id, platformAdmin: false };
  const base = {
    hostnames: ["keep.acme.test"],
    target: { kind: "app", app: "shop", service: "web", port: 80 },
    tls: "internal",
  };
  const { route } = await s.proxy.create(caller, {
    ...base,
    basic_auth: { username: "ops", password: "first password" },
  });
  const hash = route.spec.basic_auth!.bcrypt;

  // A username and no password (absent or blank): the hash stays, the username may change.
  let r = await s.proxy.update(caller, route, { ...base, basic_auth: { username: "ops" } });
  assert.equal(r.route.spec.basic_auth?.bcrypt, hash);
  r = await s.proxy.update(caller, r.route, {
    ...base,
    basic_auth: { username: "admin", password: "" },
  });
  assert.deepEqual(r.route.spec.basic_auth, { username: "admin", bcrypt: hash });
  assert.ok(await bcrypt.compare("first password", r.route.spec.basic_auth!.bcrypt));

  // A bad username is still refused, naming the field.
  await assert.rejects(
    () => s.proxy.update(caller, r.route, { ...base, basic_auth: { username: "a:b" } }),
    (e) => e instanceof Invalid && Object.keys(e.fields ?? {}).includes("basic_auth.username"),
  );

  // A new password replaces it; no basic auth removes it.
  r = await s.proxy.update(caller, r.route, {
    ...base,
    basic_auth: { username: "admin", password: "second password" },
  });
  assert.notEqual(r.route.spec.basic_auth?.bcrypt, hash);
  assert.ok(await bcrypt.compare("second password", r.route.spec.basic_auth!.bcrypt));
  r = await s.proxy.update(caller, r.route, base);
  assert.equal(r.route.spec.basic_auth, undefined);

  // Without a stored password there is nothing to keep: the password is required.
  await assert.rejects(
    () => s.proxy.update(caller, r.route, { ...base, basic_auth: { username: "ops" } }),
    (e) => e instanceof Invalid && Object.keys(e.fields ?? {}).includes("basic_auth.password"),
  );
  const stored = await s.proxy.store.get(org.id, route.id);
  assert.equal(stored.spec.basic_auth, undefined);
});
