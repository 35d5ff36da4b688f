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

dbTest(
  "[e2e] Settings → System and Docker engines: database, retention by variable, telemetry off; each host's engine",
  async (h) => {
    const t = testApp(h, undefined, undefined, {
      CAPSTAN_DATA_DIR: "/var/lib/capstan-system-test",
      CAPSTAN_AUDIT_RETENTION_DAYS: "45",
    });
    const root = await t.user("root@x.io", { admin: true, org: "acme", role: "owner" });
    const admin = await t.user("admin@x.io", { org: "acme", role: "admin" });
    const member = await t.user("member@x.io", { org: "acme", role: "member" });

    const system = await (await t.request("/o/acme/settings/system", { cookie: root.cookie }))
      .text();
    assert.match(system, /Audit log<\/dt><dd>45 days/);
    assert.match(system, /CAPSTAN_AUDIT_RETENTION_DAYS/);
    assert.match(system, /Telemetry<\/dt><dd>Off/);
    assert.match(system, /capstan-system-test/);
    const asAdmin = await (await t.request("/o/acme/settings/system", { cookie: admin.cookie }))
      .text();
    assert.doesNotMatch(asAdmin, /capstan-system-test/, "the data directory: platform admins only");
    assert.equal(
      (await t.request("/o/acme/settings/system", { cookie: member.cookie })).status,
      403,
    );

    // No hosts yet: the empty state; a host with its engine facts: a row.
    const empty = await (await t.request("/o/acme/settings/engines", { cookie: admin.cookie }))
      .text();
    assert.match(empty, /No engines yet/);
    const org = (await t.services.orgs.bySlug("acme"))!;
    await h.db.insertInto("hosts").values({
      id: "h-engine-1",
      org_id: org.id,
      name: "web-1",
      labels: "{}",
      local: 0,
      created_at: 1,
      docker_version: "28.2.2",
      os: "Debian GNU/Linux 12",
      cpus: 2,
      memory_bytes: 24 * 2 ** 30,
      engine: JSON.stringify({
        api_version: "1.41",
        storage_driver: "overlay2",
        docker_root_dir: "/var/lib/docker",
      }),
    }).execute();
    const engines = await (await t.request("/o/acme/settings/engines", { cookie: admin.cookie }))
      .text();
    assert.match(engines, /data-engine="h-engine-1"/);
    assert.match(engines, /28\.2\.2/);
    assert.match(engines, /API 1\.41/);
    assert.match(engines, /overlay2/);
    assert.match(engines, />offline</);
  },
);
