/**
 * The template pages through the whole app (no socket, no engine), on both dialects: the library
 * (cards, category filter and search as a GET form, Popular and Recently used once a template was
 * deployed, "New template" and "Import Compose file" only for those who may); a template's page
 * (services, variables with "generated", what it exposes, its YAML) and its deploy form (one field
 * per variable by type, errors by field keeping the input but never a password, a deploy without a
 * cluster failing at the app step with what was taken back on the progress page); the editor
 * (problems by line with the line's text, the preview of the services, save, the id kept on edit,
 * built-ins read-only with "Copy to edit", delete refused while an app uses the template); the app
 * page naming its template and the deprovision confirmation (volumes kept unless asked with the
 * name typed) and its result. Viewers see no control to change anything.
 */
import assert from "node:assert/strict";
import { dbTest } from "./support/db.ts";
import { pageSession } from "./support/page_session.ts";
import type { DbHandle } from "../lib/db/mod.ts";
import { AppSpec } from "../lib/apps/spec.ts";
import { fieldError, inputValue, isChecked, textareaValue, unescape } from "./support/html.ts";
import { SYSTEM_CTX } from "./support/services.ts";

const CANARY = "canary-" + crypto.randomUUID();

/** An organization template with one variable of each kind. */
const SHOP = `id: shop
name: Shop
description: A shop with its database.
category: commerce
version: 2.1.0
icon: "🛒"
variables:
  - { name: db_password, label: Database password, type: password, generate: password }
  - { name: admin_password, label: Admin password, type: password, required: true }
  - { name: workers, label: Workers, type: number, default: 2 }
  - { name: debug, label: Debug mode, type: boolean, default: false }
  - { name: plan, label: Plan, type: select, options: [small, large], default: small }
  - { name: title, label: Shop title, default: My shop, required: true }
services:
  db:
    image: postgres:16
    environment: { POSTGRES_PASSWORD: "\${db_password}" }
    volumes: [data:/var/lib/postgresql/data]
    healthcheck: { test: [CMD, pg_isready], interval: 5s }
  web:
    image: shop:1
    environment:
      DATABASE_URL: "postgres://shop:\${db_password}@\${db.host}/shop"
      ADMIN_PASSWORD: "\${admin_password}"
      WORKERS: "\${workers}"
      TITLE: "\${title}"
    depends_on: { db: { condition: service_healthy } }
    port: 8080
routes:
  - service: web
`;

async function setup(h: DbHandle) {
  const session = await pageSession(h);
  const { org } = session;
  const caller = { ctx: SYSTEM_CTX, orgId: org.id, role: "owner" as const, platformAdmin: false };
  return { ...session, caller };
}

dbTest(
  "[e2e] templates pages: library, filters, details, deploy form by type with errors that keep input but never a password, a failed deploy's progress, viewers read only",
  async (h) => {
    const { s, org, admin, member, viewer, eve, get, post, seen, caller } = await setup(h);
    await s.templates.save(caller, SHOP);

    // The library: a card per template; the nav marks it; filters are a GET form.
    let r = await get("/o/acme/templates", viewer.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /href="\/o\/acme\/templates"[^>]*aria-current="page"/);
    assert.match(r.html, /<li class="card template-card" data-template="static-site">/);
    assert.match(r.html, /<li class="card template-card" data-template="shop">/);
    assert.match(r.html, /The official nginx image serving the files of a volume/);
    assert.match(r.html, /not used yet/);
    assert.match(r.html, /<form method="get" action="\/o\/acme\/templates"/);
    assert.match(r.html, /<option value="commerce"/);
    assert.doesNotMatch(r.html, /data-strip="popular"/, "no usage, no strips");
    // Viewers get no controls; members may import; admins write templates.
    assert.doesNotMatch(r.html, /templates\/new"|templates\/import"/);
    r = await get("/o/acme/templates", member.cookie);
    assert.match(r.html, /href="\/o\/acme\/templates\/import"/);
    assert.doesNotMatch(r.html, /templates\/new"/);
    r = await get("/o/acme/templates", admin.cookie);
    assert.match(r.html, /href="\/o\/acme\/templates\/new"[^>]*>New template/);
    assert.equal((await get("/o/acme/templates", eve.cookie)).status, 404);

    r = await get("/o/acme/templates?category=commerce", viewer.cookie);
    assert.match(r.html, /data-template="shop"/);
    assert.doesNotMatch(r.html, /data-template="static-site"/);
    assert.match(r.html, /<option value="commerce" selected/);
    r = await get("/o/acme/templates?q=nginx", viewer.cookie);
    assert.match(r.html, /data-template="static-site"/);
    assert.doesNotMatch(r.html, /data-template="shop"/);
    assert.equal(inputValue(r.html, "q"), "nginx");
    r = await get("/o/acme/templates?q=nothing-like-it", viewer.cookie);
    assert.match(r.html, /No templates match/);

    // Details: services, variables (generated ones say so), what it exposes, the YAML.
    r = await get("/o/acme/templates/shop", viewer.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /data-template-service="db"[\s\S]*postgres:16/);
    assert.match(r.html, /data-template-service="web"[\s\S]*shop:1[\s\S]*8080/);
    assert.match(r.html, /data-template-service="web"[\s\S]*<code>db<\/code>[\s\S]*\(healthy\)/);
    assert.match(r.html, /data-template-variable="db_password"[\s\S]*?generated \(a password\)/);
    assert.match(r.html, /data-template-route="web"[\s\S]*web:8080/);
    assert.match(r.html, /<summary>Source \(YAML\)<\/summary>/);
    assert.match(unescape(r.html), /DATABASE_URL: "postgres:\/\/shop:\$\{db_password\}/);
    assert.doesNotMatch(r.html, /\/deploy"|\/edit"|\/delete"/, "viewers get no controls");
    assert.match(r.html, /Members of the organization deploy templates/);
    assert.equal(
      (await post("/o/acme/templates/shop/deploy", { name: "x" }, viewer.cookie)).status,
      403,
    );
    assert.equal((await get("/o/acme/templates/nope", viewer.cookie)).status, 404);
    assert.equal((await get("/o/acme/templates/shop", eve.cookie)).status, 404);

    // The form for members: one field per variable by type; a generated one empty = generated.
    r = await get("/o/acme/templates/shop", member.cookie);
    assert.match(r.html, /action="\/o\/acme\/templates\/shop\/deploy"/);
    assert.doesNotMatch(r.html, /\/edit"|\/delete"/, "members do not edit templates");
    assert.match(r.html, /There is no cluster yet/);
    assert.match(r.html, /<input id="deploy-name" name="name"/);
    assert.match(r.html, /<input id="deploy-domain" name="domain"/);
    assert.match(
      r.html,
      /<input id="deploy-var_db_password" name="var_db_password" type="password"/,
    );
    assert.match(r.html, /leave empty to generate one/);
    assert.match(r.html, /name="var_admin_password" type="password"[^>]*required/);
    assert.match(r.html, /name="var_workers" type="number"/);
    assert.equal(inputValue(r.html, "var_workers"), "2");
    assert.match(r.html, /name="var_debug" type="checkbox"/);
    assert.ok(!isChecked(r.html, "var_debug"));
    assert.match(r.html, /<select id="deploy-var_plan" name="var_plan"[^>]*>[\s\S]*small/);
    assert.match(r.html, /<option value="small" selected/);
    assert.equal(inputValue(r.html, "var_title"), "My shop");

    // Refused: each message by its field, the input kept — never a password.
    const bad = {
      name: "Bad_Name",
      domain: "not a domain",
      var_db_password: CANARY,
      var_admin_password: CANARY,
      var_workers: "many",
      var_debug: "on",
      var_plan: "huge",
      var_title: "Bob's shop",
    };
    r = await post("/o/acme/templates/shop/deploy", bad, member.cookie);
    assert.equal(r.status, 400);
    assert.ok(fieldError(r.html, "name", "deploy"));
    assert.match(fieldError(r.html, "domain", "deploy") ?? "", /hostname/);
    assert.match(fieldError(r.html, "var_workers", "deploy") ?? "", /number/);
    assert.match(fieldError(r.html, "var_plan", "deploy") ?? "", /small, large/);
    assert.equal(inputValue(r.html, "name"), "Bad_Name");
    assert.equal(inputValue(r.html, "domain"), "not a domain");
    assert.equal(inputValue(r.html, "var_workers"), "many");
    assert.ok(isChecked(r.html, "var_debug"), "the checkbox stays ticked");
    assert.equal(unescape(inputValue(r.html, "var_title") ?? ""), "Bob's shop");
    assert.equal(inputValue(r.html, "var_db_password"), undefined, "no password comes back");
    assert.equal(inputValue(r.html, "var_admin_password"), undefined);
    assert.match(r.html, /Secret values you entered were not kept/);
    // A required password left empty is said; a generated one left empty is not.
    r = await post(
      "/o/acme/templates/shop/deploy",
      {
        ...bad,
        name: "shop1",
        domain: "",
        var_workers: "3",
        var_plan: "large",
        var_db_password: "",
        var_admin_password: "",
      },
      member.cookie,
    );
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "var_admin_password", "deploy") ?? "", /Is required/);
    assert.equal(fieldError(r.html, "var_db_password", "deploy"), undefined);
    assert.equal(inputValue(r.html, "var_workers"), "3");

    // Deployed without a cluster: the provisioning starts, fails at the app step, and its page
    // says which step and why, and what was taken back (the secrets it had made).
    r = await post(
      "/o/acme/templates/shop/deploy",
      {
        name: "shop1",
        domain: "shop.example.com",
        var_db_password: "",
        var_admin_password: CANARY,
        var_workers: "3",
        var_plan: "large",
        var_title: "Shop",
      },
      member.cookie,
    );
    assert.equal(r.status, 303, r.html.slice(0, 500));
    assert.match(r.location ?? "", /^\/o\/acme\/provisions\/[0-9a-f-]{36}$/);
    await s.templates.idle();
    const provision = r.location!;
    r = await get(provision, viewer.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /shop1 from Shop/);
    assert.match(r.html, /data-provision-status="failed"/);
    assert.match(r.html, /Failed at step App/);
    assert.match(r.html, /no cluster/i);
    assert.match(r.html, /data-step="secrets" data-status="done"/);
    assert.match(r.html, /data-step="app" data-status="failed"/);
    assert.match(
      r.html,
      /Taken back[\s\S]*data-step="secrets" data-status="undone"[\s\S]*SHOP1_DB_PASSWORD deleted/,
    );
    assert.doesNotMatch(r.html, /Open the site/);
    assert.match(r.html, /Values used[\s\S]*workers[\s\S]*3/);
    assert.deepEqual(await s.secrets.list(org.id), [], "the secrets were taken back");
    assert.equal((await get(provision, eve.cookie)).status, 404);

    // Now used: Popular and Recently used name it.
    r = await get("/o/acme/templates", viewer.cookie);
    assert.match(r.html, /data-strip="popular"[\s\S]*Shop[\s\S]*used once/);
    assert.match(r.html, /data-strip="recent"[\s\S]*Shop/);
    assert.match(r.html, /data-template="shop"[\s\S]*?data-used="1"/);

    for (const page of seen) assert.ok(!page.includes(CANARY), "a password reached a page");
  },
);

dbTest(
  "[e2e] templates pages: the editor's problems by line and preview, save, edit keeps the id, built-ins read-only, copy, delete refused while used, the app page and deprovision",
  async (h) => {
    const { s, org, admin, member, viewer, get, post } = await setup(h);

    // Only admins write templates.
    for (const who of [member, viewer]) {
      assert.equal((await get("/o/acme/templates/new", who.cookie)).status, 403);
      assert.equal((await post("/o/acme/templates/new", { source: SHOP }, who.cookie)).status, 403);
    }
    let r = await get("/o/acme/templates/new", admin.cookie);
    assert.equal(r.status, 200);
    assert.match(textareaValue(r.html, "source") ?? "", /^id: my-site/);
    assert.match(r.html, /name="intent" value="check"/);

    // Check: the problems by line, each with its line's text; the YAML stays in the textarea.
    const broken = SHOP.replace("    port: 8080\n", "    port: 8080\n    build: .\n");
    r = await post(
      "/o/acme/templates/new",
      { source: broken.replace(/\n/g, "\r\n"), intent: "check" },
      admin.cookie,
    );
    assert.equal(r.status, 400);
    const buildLine = broken.split("\n").indexOf("    build: .") + 1;
    assert.match(
      r.html,
      new RegExp(
        `data-problem-line="${buildLine}"[\\s\\S]*?Line ${buildLine}, column 5[\\s\\S]*?services\\.web\\.build[\\s\\S]*?unknown key build[\\s\\S]*?build: \\.`,
      ),
    );
    assert.equal(unescape(textareaValue(r.html, "source") ?? ""), broken, "CRLF read as LF");
    // Rules across fields (a reference to no service) are by line as well.
    r = await post(
      "/o/acme/templates/new",
      { source: SHOP.replace("\${db.host}", "\${cache.host}"), intent: "check" },
      admin.cookie,
    );
    assert.equal(r.status, 400);
    assert.match(r.html, /Line 23, column 7[\s\S]*?no service named cache/);
    assert.equal(await s.templates.store.list(org.id).then((l) => l.length), 0);
    // A valid one: the preview of what it would create.
    r = await post("/o/acme/templates/new", { source: SHOP, intent: "check" }, admin.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /No problems: it would create/);
    assert.match(
      r.html,
      /template-preview[\s\S]*data-template-service="db"[\s\S]*data-template-service="web"/,
    );
    // Save.
    r = await post("/o/acme/templates/new", { source: SHOP, intent: "save" }, admin.cookie);
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/templates/shop?done=created");
    r = await get(r.location!, admin.cookie);
    assert.match(r.html, /Template saved/);
    assert.match(r.html, /href="\/o\/acme\/templates\/shop\/edit"/);
    assert.match(r.html, /href="\/o\/acme\/templates\/shop\/delete"/);
    // A second save of the same id is refused on the form.
    r = await post("/o/acme/templates/new", { source: SHOP, intent: "save" }, admin.cookie);
    assert.equal(r.status, 409);
    assert.match(r.html, /already exists/);
    // Problems on save are by line too.
    r = await post("/o/acme/templates/new", { source: broken, intent: "save" }, admin.cookie);
    assert.equal(r.status, 400);
    assert.match(r.html, new RegExp(`Line ${buildLine}, column 5`));

    // Edit: the YAML in the textarea, the id kept.
    r = await get("/o/acme/templates/shop/edit", admin.cookie);
    assert.equal(unescape(textareaValue(r.html, "source") ?? ""), SHOP);
    r = await post(
      "/o/acme/templates/shop/edit",
      { source: SHOP.replace("id: shop", "id: shop2"), intent: "save" },
      admin.cookie,
    );
    assert.equal(r.status, 400);
    assert.match(r.html, /The id must stay shop/);
    r = await post(
      "/o/acme/templates/shop/edit",
      { source: SHOP.replace("version: 2.1.0", "version: 2.2.0"), intent: "save" },
      admin.cookie,
    );
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/templates/shop?done=saved");
    r = await get(r.location!, viewer.cookie);
    assert.match(r.html, /version 2\.2\.0/);

    // Built-ins are read-only: no textarea, "Copy to edit"; a save is refused.
    r = await get("/o/acme/templates/static-site", admin.cookie);
    assert.match(r.html, /href="\/o\/acme\/templates\/new\?from=static-site"[^>]*>Copy to edit/);
    assert.doesNotMatch(r.html, /static-site\/edit"|static-site\/delete"/);
    r = await get("/o/acme/templates/static-site/edit", admin.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /read-only/);
    assert.doesNotMatch(r.html, /<textarea/);
    assert.match(r.html, /Copy to edit/);
    r = await post(
      "/o/acme/templates/static-site/edit",
      { source: "x", intent: "save" },
      admin.cookie,
    );
    assert.equal(r.status, 403);
    assert.equal((await get("/o/acme/templates/static-site/delete", admin.cookie)).status, 403);
    r = await get("/o/acme/templates/new?from=static-site", admin.cookie);
    const copy = unescape(textareaValue(r.html, "source") ?? "");
    assert.match(copy, /^id: static-site-copy$/m);
    assert.match(copy, /^name: "Static site \(nginx\) \(copy\)"$/m);
    assert.match(copy, /image: nginx:1-alpine/);
    r = await post("/o/acme/templates/new", { source: copy, intent: "save" }, admin.cookie);
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/templates/static-site-copy?done=created");
    // "new" is the editor, never a template.
    r = await post(
      "/o/acme/templates/new",
      { source: SHOP.replace("id: shop", "id: new"), intent: "check" },
      admin.cookie,
    );
    assert.match(r.html, /reserved/);

    // An app made from "shop" (as a provisioning that ended well leaves it).
    const app = await s.apps.store.create(org.id, {
      name: "shop1",
      spec: AppSpec.parse({
        services: [
          { name: "db", image: "postgres:16", volumes: [{ name: "shop1_data", target: "/data" }] },
          { name: "web", image: "shop:1" },
        ],
      }),
    }, null);
    let p = await s.templates.store.startProvision({
      org_id: org.id,
      template_id: "shop",
      template_version: "2.2.0",
      source: "org",
      source_ref: null,
      app_name: "shop1",
      domain: "shop.example.com",
      values: { workers: 2 },
      created_by: null,
    });
    p = await s.templates.store.update(p, {
      app_id: app.id,
      status: "ready",
      step: "ready",
      created: { secrets: ["SHOP1_DB_PASSWORD"], volumes: ["shop1_data"], route_id: "r1" },
      steps: [
        { step: "secrets", status: "done", at: 1 },
        { step: "app", status: "done", at: 2 },
        { step: "deploy", status: "done", message: "every service is running and healthy", at: 3 },
      ],
    });
    r = await get(`/o/acme/provisions/${p.id}`, viewer.cookie);
    assert.match(r.html, /data-provision-status="ready"/);
    assert.match(r.html, /shop1 is ready/);
    assert.match(r.html, /href="\/o\/acme\/apps\/shop1"[^>]*>Open the app/);
    assert.match(r.html, /href="https:\/\/shop\.example\.com"[^>]*>Open the site/);

    // Its template cannot be deleted while it exists: the 409 is said on the confirmation.
    r = await get("/o/acme/templates/shop/delete", admin.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /Delete template Shop\?/);
    r = await post("/o/acme/templates/shop/delete", {}, admin.cookie);
    assert.equal(r.status, 409);
    assert.match(r.html, /Template shop is used by shop1; deprovision that app first/);
    assert.equal((await post("/o/acme/templates/shop/delete", {}, member.cookie)).status, 403);

    // The app page names its template and version, with the provisioning; admins may deprovision.
    r = await get("/o/acme/apps/shop1", viewer.cookie);
    assert.equal(r.status, 200);
    assert.match(
      r.html,
      new RegExp(
        `From template <a href="/o/acme/templates/shop">Shop</a> <span class="badge">2\\.2\\.0</span>[\\s\\S]*?href="/o/acme/provisions/${p.id}"`,
      ),
    );
    assert.doesNotMatch(r.html, /deprovision"/);
    assert.equal((await get("/o/acme/apps/shop1/deprovision", member.cookie)).status, 403);
    r = await get("/o/acme/apps/shop1", admin.cookie);
    assert.match(r.html, /href="\/o\/acme\/apps\/shop1\/deprovision"/);

    // The confirmation: what goes and what is kept (the volume); volumes need the name typed.
    r = await get("/o/acme/apps/shop1/deprovision", admin.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /Made from template shop 2\.2\.0/);
    assert.match(r.html, /data-removed[\s\S]*SHOP1_DB_PASSWORD/);
    assert.match(r.html, /data-volumes[\s\S]*shop1_data/);
    assert.ok(!isChecked(r.html, "volumes"), "volumes are kept by default");
    r = await post(
      "/o/acme/apps/shop1/deprovision",
      { volumes: "on", confirm: "shop" },
      admin.cookie,
    );
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "confirm", "dep") ?? "", /type the app's name, shop1/i);
    assert.ok(isChecked(r.html, "volumes"), "the choice is kept");
    // Without a cluster the answer says so on the confirmation.
    r = await post("/o/acme/apps/shop1/deprovision", { confirm: "" }, admin.cookie);
    assert.equal(r.status, 503);
    assert.match(r.html, /There is no cluster yet/);

    // With the cluster's part done (no engine here), the result: volumes kept, secrets deleted.
    await s.secrets.create({ ctx: SYSTEM_CTX, orgId: org.id }, {
      name: "SHOP1_DB_PASSWORD",
      value: CANARY,
    });
    const apps = s.apps as unknown as Record<string, unknown>;
    const remove = apps.remove;
    apps.remove = async (_c: unknown, a: { id: string; org_id: string }) => {
      await s.apps.store.remove(await s.apps.store.get(a.org_id, a.id));
    };
    try {
      r = await post("/o/acme/apps/shop1/deprovision", { confirm: "" }, admin.cookie);
    } finally {
      apps.remove = remove;
    }
    assert.equal(r.status, 200, r.html.slice(0, 400));
    assert.match(r.html, /shop1 deprovisioned/);
    assert.match(r.html, /data-result="routes">0 routes removed/);
    assert.match(r.html, /data-result="secrets">1 secret deleted: <code>SHOP1_DB_PASSWORD/);
    assert.match(r.html, /data-result="volumes">1 volume kept with its data: <code>shop1_data/);
    assert.deepEqual(await s.secrets.list(org.id), []);
    assert.equal((await get("/o/acme/apps/shop1", admin.cookie)).status, 404);
    // Its provisioning's page says the app is gone, and links to neither it nor the site.
    r = await get(`/o/acme/provisions/${p.id}`, viewer.cookie);
    assert.match(r.html, /shop1 was made here; it has since been deprovisioned or deleted/);
    assert.doesNotMatch(r.html, /Open the site|Open the app/);

    // Now nothing uses "shop": it can be deleted.
    r = await post("/o/acme/templates/shop/delete", {}, admin.cookie);
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/templates?done=deleted");
    assert.match((await get(r.location!, admin.cookie)).html, /Template deleted/);
  },
);

const COMPOSE = `name: blog
services:
  db:
    image: mariadb:11
    environment:
      MARIADB_ROOT_PASSWORD: example
    volumes: [db:/var/lib/mysql]
    healthcheck:
      test: ["CMD", "healthcheck.sh", "--connect"]
      interval: 5s
  web:
    image: wordpress:6
    ports: ["8080:80"]
    depends_on: [db]
    environment:
      WORDPRESS_DB_HOST: db
volumes:
  db: {}
`;

dbTest(
  "[e2e] templates pages: Compose import shows problems and notes by line, what it becomes, Create app for members, Save as template in the editor for admins",
  async (h) => {
    const { t, admin, member, viewer, get, post } = await setup(h);
    assert.equal((await get("/o/acme/templates/import", viewer.cookie)).status, 403);
    let r = await get("/o/acme/templates/import", member.cookie);
    assert.equal(r.status, 200);
    assert.match(r.html, /enctype="multipart\/form-data"/);
    assert.match(r.html, /name="compose_file" type="file"/);
    assert.doesNotMatch(r.html, /value="template"/, "members do not save templates");

    // Problems by line with their kind and the line's text; the text stays.
    const bad = COMPOSE.replace(
      "    image: wordpress:6\n",
      "    image: wordpress:6\n    build: .\n    privileged: true\n",
    );
    r = await post("/o/acme/templates/import", { compose: bad, intent: "check" }, member.cookie);
    assert.equal(r.status, 400);
    assert.match(r.html, /problems stop the import/);
    const buildLine = bad.split("\n").indexOf("    build: .") + 1;
    assert.match(
      r.html,
      new RegExp(
        `data-problem-line="${buildLine}" data-kind="unsupported"[\\s\\S]*?Line ${buildLine}[\\s\\S]*?build: \\.`,
      ),
    );
    assert.match(r.html, /data-kind="refused"/);
    assert.equal(unescape(textareaValue(r.html, "compose") ?? ""), bad);

    // A good file: notes, and the services it becomes, volumes named after the app.
    r = await post(
      "/o/acme/templates/import",
      { compose: COMPOSE, name: "blog1", intent: "check" },
      member.cookie,
    );
    assert.equal(r.status, 200);
    assert.match(r.html, /No problems: it becomes 2 services/);
    assert.match(r.html, /data-compose-service="db"[\s\S]*blog1_db:\/var\/lib\/mysql/);
    assert.match(r.html, /data-compose-service="web"[\s\S]*8080→80\/tcp/);
    assert.match(r.html, /compose-notes[\s\S]*project name/);
    // Uploaded as a file: the file's text is converted and shown in the textarea.
    const form = new FormData();
    form.set("compose", "");
    form.set("compose_file", new File([COMPOSE], "docker-compose.yml"));
    form.set("name", "blog1");
    form.set("intent", "check");
    const up = await t.request("/o/acme/templates/import", {
      method: "POST",
      body: form,
      cookie: member.cookie,
    });
    const upHtml = await up.text();
    assert.equal(up.status, 200);
    assert.match(upHtml, /No problems: it becomes 2 services/);
    assert.equal(unescape(textareaValue(upHtml, "compose") ?? ""), COMPOSE);
    r = await post("/o/acme/templates/import", { compose: " ", intent: "check" }, member.cookie);
    assert.equal(r.status, 400, "nothing pasted, nothing uploaded");
    assert.match(fieldError(r.html, "compose", "compose") ?? "", /paste a compose file/i);

    // Create app without a name: said on the field; without a cluster: said on the page.
    r = await post(
      "/o/acme/templates/import",
      { compose: COMPOSE, intent: "create" },
      member.cookie,
    );
    assert.equal(r.status, 400);
    assert.match(fieldError(r.html, "name", "compose") ?? "", /required/);
    r = await post(
      "/o/acme/templates/import",
      { compose: COMPOSE, name: "blog1", intent: "create" },
      member.cookie,
    );
    assert.equal(r.status, 503);
    assert.match(r.html, /There is no cluster yet/);
    assert.equal(inputValue(r.html, "name"), "blog1");

    // Save as template: admins get the editor with the YAML and its check.
    r = await post(
      "/o/acme/templates/import",
      { compose: COMPOSE, name: "blog1", intent: "template" },
      member.cookie,
    );
    assert.equal(r.status, 403);
    r = await post(
      "/o/acme/templates/import",
      { compose: COMPOSE, name: "blog1", intent: "template" },
      admin.cookie,
    );
    assert.equal(r.status, 200);
    assert.match(r.html, /<h1>New template<\/h1>/);
    assert.match(r.html, /action="\/o\/acme\/templates\/new"/);
    assert.match(r.html, /No problems: it would create/);
    const yaml = unescape(textareaValue(r.html, "source") ?? "");
    assert.match(yaml, /^id: blog1$/m);
    assert.match(yaml, /^ {4}volumes:\n {6}- db:\/var\/lib\/mysql$/m);
    assert.match(yaml, /depends_on:\n {6}- db/);
    assert.match(yaml, /port: 80/);
    assert.match(yaml, /routes:\n {2}- service: web/);
    assert.match(yaml, /# {3}- services\.web\.ports: published ports/);
    r = await post("/o/acme/templates/new", { source: yaml, intent: "save" }, admin.cookie);
    assert.equal(r.status, 303);
    assert.equal(r.location, "/o/acme/templates/blog1?done=created");
  },
);
