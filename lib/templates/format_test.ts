import assert from "node:assert/strict";
import { parseTemplate } from "./format.ts";
import { renderTemplate, resolveValues, secretNameFor } from "./render.ts";
import { AppSpec } from "../apps/spec.ts";

const WORDPRESS = `id: wordpress
name: WordPress
category: cms
version: 1.0.0
variables:
  - name: db_password
    label: Database password
    type: password
    generate: password
  - name: title
    label: Site title
    default: My site
services:
  db:
    image: mariadb:11
    environment:
      MARIADB_PASSWORD: \${db_password}
      MARIADB_DATABASE: wordpress
    volumes: [db:/var/lib/mysql]
    healthcheck:
      test: [CMD-SHELL, "healthcheck.sh --connect"]
      interval: 5s
      retries: 10
  wordpress:
    image: wordpress:6
    environment:
      WORDPRESS_DB_HOST: \${db.host}:3306
      WORDPRESS_DB_PASSWORD: \${db_password}
      WORDPRESS_CONFIG_EXTRA: "define('WP_TITLE', '\${title}'); // $$notavar"
      DSN: mysql://wp:\${db_password}@\${db.host}/wordpress
    depends_on:
      db: { condition: service_healthy }
    volumes: [content:/var/www/html/wp-content]
    port: 80
routes:
  - service: wordpress
`;

Deno.test("parseTemplate() + renderTemplate(): secrets out of the spec, references, volumes per app, route", () => {
  const parsed = parseTemplate(WORDPRESS);
  assert.deepEqual(parsed.problems, []);
  const t = parsed.template!;
  const { values, problems } = resolveValues(t, { title: "Hello" });
  assert.deepEqual(problems, {});
  assert.equal(String(values.db_password).length, 24);
  const { rendered, problems: renderProblems } = renderTemplate(t, "blog", values, {
    images: { "mariadb:11": "standin/mariadb:latest" },
  });
  assert.deepEqual(renderProblems, {});
  const spec = AppSpec.parse(rendered.spec);
  const [db, wp] = spec.services;
  assert.equal(db.image, "standin/mariadb:latest");
  assert.equal(wp.image, "wordpress:6");
  assert.deepEqual(db.secrets, [{ secret: "BLOG_DB_PASSWORD", env: "MARIADB_PASSWORD" }]);
  assert.deepEqual(wp.secrets.map((s) => [s.secret, s.env]), [
    ["BLOG_DB_PASSWORD", "WORDPRESS_DB_PASSWORD"],
    ["BLOG_WORDPRESS_DSN", "DSN"],
  ]);
  assert.equal(wp.env.WORDPRESS_DB_HOST, "db:3306");
  assert.equal(wp.env.WORDPRESS_CONFIG_EXTRA, "define('WP_TITLE', 'Hello'); // $notavar");
  assert.ok(!JSON.stringify(spec).includes(String(values.db_password)), "no secret in the spec");
  assert.deepEqual(rendered.secrets.map((s) => s.name), ["BLOG_DB_PASSWORD", "BLOG_WORDPRESS_DSN"]);
  assert.equal(rendered.secrets[1].value, `mysql://wp:${values.db_password}@db/wordpress`);
  assert.deepEqual(db.volumes, [{ name: "blog_db", target: "/var/lib/mysql", read_only: false }]);
  assert.deepEqual(db.health_check?.cmd, ["sh", "-c", "healthcheck.sh --connect"]);
  assert.equal(db.health_check?.interval_s, 5);
  assert.deepEqual(wp.depends_on, ["db"]);
  assert.deepEqual(wp.ports, [{ target: 80, protocol: "tcp", mode: "host" }]);
  assert.deepEqual(rendered.route, { service: "wordpress", port: 80, path: "/" });
  assert.deepEqual(rendered.values, { title: "Hello" });
});

Deno.test("parseTemplate(): unknown keys, bad references and dependencies by line", () => {
  const bad = WORDPRESS.replace("    port: 80\n", "    port: 80\n    build: .\n")
    .replace("\${db.host}:3306", "\${cache.host}:3306")
    .replace("db: { condition: service_healthy }", "nope: { condition: service_healthy }");
  const r = parseTemplate(bad);
  const byPath = Object.fromEntries(r.problems.map((p) => [p.path, `${p.line}: ${p.message}`]));
  assert.equal(byPath["services.wordpress.build"], "35: unknown key build");
  const again = parseTemplate(WORDPRESS.replace("\${db.host}:3306", "\${cache.host}:3306"));
  assert.deepEqual(again.problems.map((p) => [p.path, p.line, p.message]), [
    ["services.wordpress.environment.WORDPRESS_DB_HOST", 27, "no service named cache"],
  ]);
  const syntax = parseTemplate("id: [unclosed\n");
  assert.ok(syntax.problems[0].line >= 1 && syntax.problems[0].message.length > 0);
  assert.ok(parseTemplate("x".repeat(70_000)).problems[0].message.includes("64 KB"));
  // The pages' own paths are not template ids.
  const reserved = parseTemplate(WORDPRESS.replace("id: wordpress", "id: new"));
  assert.deepEqual(reserved.problems.map((p) => [p.path, p.line]), [["id", 1]]);
  assert.match(reserved.problems[0].message, /reserved/);
});

Deno.test("resolveValues(): required, types, patterns and unknown variables are named", () => {
  const t = parseTemplate(`id: t
name: T
category: test
version: 1.0.0
variables:
  - { name: domain, label: Domain, type: domain, required: true }
  - { name: workers, label: Workers, type: number, default: 2 }
  - { name: mode, label: Mode, type: select, options: [a, b], default: a }
  - { name: code, label: Code, pattern: "[A-Z]{3}" }
services:
  web: { image: nginx:1 }
`).template!;
  assert.deepEqual(
    resolveValues(t, { workers: "x", mode: "c", code: "abc", other: "1" }).problems,
    {
      "variables.other": "this template has no such variable",
      "variables.domain": "is required",
      "variables.workers": "must be a number",
      "variables.mode": "must be one of a, b",
      "variables.code": "must match [A-Z]{3}",
    },
  );
  assert.deepEqual(resolveValues(t, { domain: "shop.example.com", workers: "4" }).values, {
    domain: "shop.example.com",
    workers: 4,
    mode: "a",
    code: "",
  });
  assert.equal(secretNameFor("9lives", "x"), "_9LIVES_X");
  assert.ok(secretNameFor("a".repeat(30), "b".repeat(20), "C".repeat(40)).length <= 64);
});
