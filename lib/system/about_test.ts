import assert from "node:assert/strict";
import { dbTest } from "../../tests/support/db.ts";
import { testApp } from "../../tests/support/app.ts";
import { BUILT_VERSION } from "../../agent/version.ts";

dbTest(
  "[e2e] Settings → About: version, commit, database for org admins; the data directory for platform admins only",
  async (h) => {
    const t = testApp(h, undefined, undefined, { CAPSTAN_DATA_DIR: "/var/lib/capstan-about-test" });
    const root = await t.user("root@x.io", { admin: true, org: "acme", role: "owner" });
    const admin = await t.user("admin@x.io", { org: "acme", role: "admin" });
    const member = await t.user("member@x.io", { org: "acme", role: "member" });

    const asRoot = await t.request("/o/acme/settings/about", { cookie: root.cookie });
    assert.equal(asRoot.status, 200);
    const page = await asRoot.text();
    assert.match(page, new RegExp(`<dd>${BUILT_VERSION.replaceAll(".", "\\.")}</dd>`));
    assert.match(page, /<dt>Commit<\/dt><dd>[0-9a-f]{12}<\/dd>/);
    assert.match(
      page,
      new RegExp(`<dd>${h.dialect === "postgres" ? "PostgreSQL" : "SQLite"}</dd>`),
    );
    assert.match(page, /\/var\/lib\/capstan-about-test/);
    // The settings tabs include the panel, and the nav's Settings link is there.
    assert.match(page, /href="\/o\/acme\/settings\/about" aria-current="page">About</);

    const asAdmin = await (await t.request("/o/acme/settings/about", { cookie: admin.cookie }))
      .text();
    assert.match(asAdmin, /<dt>Version<\/dt>/);
    assert.doesNotMatch(asAdmin, /capstan-about-test/, "a path on the hub's machine");

    const asMember = await t.request("/o/acme/settings/about", { cookie: member.cookie });
    assert.equal(asMember.status, 403);
  },
);
