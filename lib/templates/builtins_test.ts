import assert from "node:assert/strict";
import { AppSpec, type ServiceSpec, startOrder } from "../apps/spec.ts";
import { BUILTIN_DIR, builtinTemplates, loadBuiltins } from "./builtins.ts";
import { type Template, valueProblem } from "./format.ts";
import { isSecretVariable, renderTemplate, resolveValues, type VariableInput } from "./render.ts";

/** The built-ins the issue asks for, by category. */
const EXPECTED: Record<string, string> = {
  static: "cms",
  node: "cms",
  python: "cms",
  wordpress: "cms",
  nodejs: "runtime",
  "python-runtime": "runtime",
  go: "runtime",
  "static-site": "runtime",
  mern: "stack",
  rails: "stack",
  django: "stack",
};

/** Official database images and the port they answer on. */
const DATABASES: Record<string, number> = {
  "mariadb:11": 3306,
  "postgres:17": 5432,
  "mongo:8": 27017,
};

/** Values for required variables without a default (nothing else needs one). */
const REQUIRED: Record<string, Record<string, VariableInput>> = {
  static: { git_repo: "acme/site" },
};

/** Values at the edges of what each variable accepts (longest, odd but valid). */
function edgeValues(t: Template): Record<string, VariableInput> {
  const out: Record<string, VariableInput> = {};
  for (const v of t.variables) {
    if (v.generate) continue; // generated below, by resolveValues
    if (v.type === "select") out[v.name] = v.options!.at(-1)!;
    else if (v.type === "domain") out[v.name] = `${"a".repeat(63)}.${"b".repeat(63)}.example.com`;
    else if (v.type === "password") out[v.name] = "p".repeat(4096);
  }
  if (t.id === "static") {
    Object.assign(out, {
      git_repo: "my-group/sub.group/site_2",
      git_branch: "release/2026.1",
      auth_base_url: "https://auth.example.com:8443/decap/",
      gitlab_app_id: "a".repeat(128),
      media_folder: "static/images/uploads",
      public_folder: "/images/uploads",
      posts_folder: "_posts/blog",
    });
  }
  if (t.id === "wordpress") out.table_prefix = "w".repeat(20);
  return out;
}

const APP_NAMES = ["a", "shop-2", "x".repeat(30), "9-lives-" + "z".repeat(22)];

Deno.test("builtinTemplates() behaviour: every built-in parses, once, with its id as file name", async () => {
  const all = await builtinTemplates();
  assert.equal(await builtinTemplates(), all, "read once, then cached");
  assert.deepEqual(
    Object.fromEntries(all.map(({ template: t }) => [t.id, t.category])),
    Object.fromEntries(Object.entries(EXPECTED).sort(([a], [b]) => a.localeCompare(b))),
  );
  for (const { template: t, source } of all) {
    assert.ok(source.includes(`id: ${t.id}\n`), t.id);
    assert.ok(t.readme && t.readme.length > 200, `${t.id}: a readme that says what you get`);
    assert.ok(t.description.length > 20 && t.docs?.startsWith("https://"), t.id);
    for (const [name, s] of Object.entries(t.services)) {
      // Official images with the major version pinned: never :latest, never a bare name.
      assert.match(s.image, /^[a-z]+:\d+(?:\.\d+)?(?:-[a-z]+)?$/, `${t.id}.${name}: ${s.image}`);
      assert.ok(t.readme!.includes(s.image), `${t.id}: the readme names ${s.image}`);
    }
    for (const v of t.variables) {
      if (v.required && v.default === undefined && !v.generate) {
        assert.ok(REQUIRED[t.id]?.[v.name] !== undefined, `${t.id}.${v.name} needs a test value`);
      }
    }
  }
});

Deno.test("builtinTemplates() behaviour: each renders a valid app spec at defaults and at the edges", async () => {
  for (const { template: t } of await builtinTemplates()) {
    for (
      const [label, given] of [
        ["defaults", REQUIRED[t.id] ?? {}],
        ["edges", { ...REQUIRED[t.id], ...edgeValues(t) }],
      ] as const
    ) {
      for (const app of APP_NAMES) {
        const at = `${t.id} (${label}, app ${app})`;
        const { values, problems } = resolveValues(t, given);
        assert.deepEqual(problems, {}, at);
        const { rendered, problems: renderProblems } = renderTemplate(t, app, values);
        assert.deepEqual(renderProblems, {}, at);
        const parsed = AppSpec.safeParse(rendered.spec);
        assert.ok(parsed.success, `${at}: ${JSON.stringify(parsed.error?.issues)}`);
        const spec = parsed.data;

        // Secrets: every password or generated variable is one, named validly, and its value is
        // nowhere but in `rendered.secrets`.
        const secretVars = t.variables.filter(isSecretVariable);
        for (const v of secretVars) {
          const value = String(values[v.name]);
          assert.ok(value.length >= 16, `${at}: ${v.name} has a value`);
          const shown = JSON.stringify({ ...rendered, secrets: undefined });
          assert.ok(!shown.includes(value), `${at}: ${v.name}'s value is out of the spec`);
          assert.ok(
            rendered.secrets.some((s) => s.value.includes(value)),
            `${at}: ${v.name} becomes a secret`,
          );
          assert.ok(!(v.name in rendered.values), `${at}: ${v.name} is not a shown value`);
        }
        for (const s of rendered.secrets) {
          assert.match(s.name, /^[A-Za-z_][A-Za-z0-9_]{0,63}$/, at);
        }
        assert.equal(
          new Set(rendered.secrets.map((s) => s.name)).size,
          rendered.secrets.length,
          `${at}: secret names are unique`,
        );
        for (const s of spec.services) {
          for (const r of s.secrets) {
            assert.ok(rendered.secrets.some((x) => x.name === r.secret), `${at}: ${r.secret}`);
          }
        }
        for (const v of rendered.volumes) assert.ok(v.startsWith(`${app}_`), `${at}: ${v}`);

        // Databases start first, are checked for health, and sites wait for them.
        const order = startOrder(spec.services).map((s) => s.name);
        const dbs = spec.services.filter((s) => t.services[s.name].image in DATABASES);
        for (const db of dbs) {
          assert.ok(db.health_check, `${at}: ${db.name} has a health check`);
          assert.ok(db.volumes.length === 1, `${at}: ${db.name} keeps its data on a volume`);
          assert.equal(db.replicas, 1, `${at}: one ${db.name}`);
          assert.ok(!db.ports.length, `${at}: ${db.name} is not published`);
        }
        for (const s of spec.services) {
          for (const d of s.depends_on) {
            assert.ok(order.indexOf(d) < order.indexOf(s.name), `${at}: ${d} before ${s.name}`);
          }
        }
        for (const [name, s] of Object.entries(t.services)) {
          const deps = Array.isArray(s.depends_on) ? [] : Object.entries(s.depends_on ?? {});
          for (const [dep, { condition }] of deps) {
            if (condition !== "service_healthy") continue;
            assert.ok(
              spec.services.find((x) => x.name === dep)?.health_check,
              `${at}: ${name} waits for ${dep}'s health check`,
            );
          }
        }

        // The route: one, to a service that publishes the port, started after its databases.
        assert.ok(rendered.route, `${at}: a route`);
        const site = spec.services.find((s) => s.name === rendered.route!.service)!;
        assert.deepEqual(site.ports, [{
          target: rendered.route!.port,
          protocol: "tcp",
          mode: "host",
        }]);
        assert.equal(rendered.route!.path, "/");
        for (const db of dbs) {
          assert.ok(order.indexOf(db.name) < order.indexOf(site.name), `${at}: db before site`);
          assert.ok(site.depends_on.includes(db.name), `${at}: ${site.name} waits for ${db.name}`);
        }
        for (const s of spec.services) checkNoPlainSecretEnv(s, at);
      }
    }
  }
});

/** Settings that carry a password or key are injected from secrets, never plain env. */
function checkNoPlainSecretEnv(s: ServiceSpec, at: string) {
  for (const key of Object.keys(s.env)) {
    assert.doesNotMatch(
      key,
      /PASSWORD|SECRET|_KEY$|_SALT$|^DATABASE_UR[IL]$|^MONGODB_URI$/,
      `${at}: ${s.name}.${key} is plain env`,
    );
  }
}

Deno.test("builtinTemplates() behaviour: rendering with stand-in images replaces every image", async () => {
  for (const { template: t } of await builtinTemplates()) {
    const images = Object.fromEntries(
      Object.values(t.services).map((s) => [s.image, `capstan-standin/x:${s.image.length}`]),
    );
    const { values } = resolveValues(t, REQUIRED[t.id] ?? {});
    const { rendered } = renderTemplate(t, "site", values, { images });
    for (const s of AppSpec.parse(rendered.spec).services) {
      assert.match(s.image, /^capstan-standin\/x:\d+$/, `${t.id}.${s.name}`);
    }
  }
});

Deno.test("builtinTemplates() behaviour: the Decap template's patterns keep its YAML safe", async () => {
  const t = (await builtinTemplates()).find((b) => b.template.id === "static")!.template;
  const v = (name: string) => t.variables.find((x) => x.name === name)!;
  for (const ok of ["acme/site", "grp/sub/site", "a.b_c-d/e"]) {
    assert.equal(valueProblem(v("git_repo"), ok), undefined, ok);
  }
  for (const bad of ["acme", 'a"b/c', "a/b\\c", "a/b\nc", "a/ b", "/a/b", "a/b/"]) {
    assert.ok(valueProblem(v("git_repo"), bad), JSON.stringify(bad));
  }
  assert.equal(valueProblem(v("git_branch"), "feature/x-1.2"), undefined);
  assert.ok(valueProblem(v("git_branch"), 'main"'));
  assert.ok(valueProblem(v("auth_base_url"), "http://auth.example.com"), "https only");
  assert.ok(valueProblem(v("auth_base_url"), 'https://a.example.com/"x'));
  assert.equal(valueProblem(v("auth_base_url"), "https://auth.example.com"), undefined);
  assert.ok(valueProblem(v("public_folder"), "images"), "starts with /");
  assert.deepEqual(resolveValues(t, {}).problems, { "variables.git_repo": "is required" });
});

Deno.test("loadBuiltins() behaviour: an invalid built-in fails loudly with file, line and message", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const url = new URL(`file://${dir}/`);
    const good = await Deno.readTextFile(new URL("static-site.yml", BUILTIN_DIR));
    await Deno.writeTextFile(`${dir}/static-site.yml`, good);
    assert.equal((await loadBuiltins(url)).length, 1);

    await Deno.writeTextFile(
      `${dir}/broken.yml`,
      good.replace("id: static-site", "id: broken")
        .replace("    port: 80\n", "    port: 80\n    build: .\n"),
    );
    await assert.rejects(loadBuiltins(url), (err: Error) => {
      assert.match(err.message, /^Invalid built-in template templates\/broken\.yml:\n/);
      assert.match(
        err.message,
        /templates\/broken\.yml:\d+:5: services\.web\.build: unknown key build/,
      );
      return true;
    });
    await Deno.remove(`${dir}/broken.yml`);

    await Deno.writeTextFile(`${dir}/other.yml`, good);
    await assert.rejects(loadBuiltins(url), /templates\/other\.yml: its id is "static-site"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
