import assert from "node:assert/strict";
import { AppSpec } from "../apps/spec.ts";
import { type ComposeOptions, convertCompose } from "./convert.ts";

const CORPUS = new URL("./testdata/corpus/", import.meta.url);

/** The corpus files, each with its options (`<name>.options.json`) and expectation. */
async function corpus(): Promise<{ name: string; text: string; opts: ComposeOptions }[]> {
  const out = [];
  for await (const f of Deno.readDir(CORPUS)) {
    if (!f.name.endsWith(".yml")) continue;
    const name = f.name.slice(0, -".yml".length);
    const text = await Deno.readTextFile(new URL(f.name, CORPUS));
    const opts = await Deno.readTextFile(new URL(`${name}.options.json`, CORPUS))
      .then((t) => JSON.parse(t) as ComposeOptions, () => ({}));
    out.push({ name, text, opts });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

Deno.test("convertCompose() corpus: each file converts or is refused as expected", async () => {
  const files = await corpus();
  assert.ok(files.length >= 15, `the corpus has ${files.length} files`);
  for (const { name, text, opts } of files) {
    const result = convertCompose(text, opts);
    const golden = new URL(`${name}.expected.json`, CORPUS);
    if (Deno.env.get("UPDATE_GOLDEN") === "1") {
      await Deno.writeTextFile(golden, JSON.stringify(result, null, 2) + "\n");
    }
    const expected = JSON.parse(await Deno.readTextFile(golden));
    assert.deepEqual(result, expected, `${name}.yml`);
    for (const p of result.problems) {
      assert.deepEqual(Object.keys(p).sort(), ["column", "kind", "line", "message", "path"]);
    }
    for (const n of result.notes) {
      assert.deepEqual(Object.keys(n).sort(), ["column", "line", "message", "path"]);
    }
    // What converts is a valid app spec, and only what has no problem converts.
    if (result.spec) {
      assert.equal(result.problems.length, 0, name);
      assert.ok(AppSpec.safeParse(result.spec).success, name);
    } else {
      assert.ok(result.problems.length > 0, name);
    }
  }
});

Deno.test("convertCompose() corpus: both outcomes are covered", async () => {
  const results = (await corpus()).map((f) => convertCompose(f.text, f.opts));
  assert.ok(results.filter((r) => r.spec).length >= 8);
  const kinds = new Set(results.flatMap((r) => r.problems.map((p) => p.kind)));
  assert.deepEqual([...kinds].sort(), ["invalid", "refused", "unsupported"]);
});

const problems = (text: string, opts?: ComposeOptions) =>
  convertCompose(text, opts).problems.map((p) => `${p.line}:${p.path}: ${p.message}`);

Deno.test("convertCompose() behaviour: a file over the size limit is not parsed", () => {
  const text = `services:\n  web:\n    image: nginx\n    environment:\n      A: "${
    "x".repeat(300)
  }"\n`;
  assert.deepEqual(problems(text, { maxBytes: 100 }), [
    "1:: the file is larger than 100 bytes, the most accepted",
  ]);
  assert.equal(convertCompose(text).problems.length, 0);
  // Bytes, not characters: 60 three-byte characters are 180 bytes.
  const wide = `services:\n  web:\n    image: nginx\n    labels: {a: "${"€".repeat(60)}"}\n`;
  assert.equal(convertCompose(wide, { maxBytes: 200 }).problems.length, 1);
  assert.equal(convertCompose(wide, { maxBytes: 300 }).problems.length, 0);
});

Deno.test("convertCompose() behaviour: alias expansion is bounded", () => {
  // Each level doubles the one before: 2^20 nodes from a few hundred bytes.
  let text = "x-l0: &l0 [a, a]\n";
  for (let i = 1; i <= 20; i++) text += `x-l${i}: &l${i} [*l${i - 1}, *l${i - 1}]\n`;
  text += "services:\n  web:\n    image: nginx\n    labels: *l20\n";
  const started = performance.now();
  assert.deepEqual(problems(text), [
    "1:: the document expands to more than 50000 nodes (too many aliases)",
  ]);
  assert.ok(performance.now() - started < 2000);
});

Deno.test("convertCompose() behaviour: at most 16 services", () => {
  const services = Array.from({ length: 17 }, (_, i) => `  s${i}:\n    image: nginx\n`).join("");
  assert.deepEqual(problems(`services:\n${services}`), [
    "1:services: at most 16 services (this file has 17)",
  ]);
  const sixteen = Array.from({ length: 16 }, (_, i) => `  s${i}:\n    image: nginx\n`).join("");
  assert.equal(convertCompose(`services:\n${sixteen}`).spec?.services.length, 16);
});

Deno.test("convertCompose() behaviour: what is not a compose file says so", () => {
  assert.deepEqual(problems("- a\n- b\n"), ["1:: a compose file is a mapping"]);
  assert.deepEqual(problems("version: '3'\n"), ["1:services: services are missing"]);
  assert.deepEqual(problems("services: {}\n"), ["1:services: there is no service to run"]);
  assert.match(problems("services:\n  web: [\n")[0], /^3:: /);
  assert.match(problems("a: 1\n---\nb: 2\n")[0], /^\d+:: .*multiple documents/i);
  assert.deepEqual(problems("services:\n  web:\n    image: !reset nginx\n"), [
    "3:: the tag !reset is not supported (Compose's !reset and !override are for merging files)",
  ]);
});

Deno.test("convertCompose() behaviour: string commands split like Compose, never into a shell", () => {
  const spec = (command: string) =>
    convertCompose(`services:\n  web:\n    image: nginx\n    command: ${command}\n`);
  assert.deepEqual(spec(`sh -c 'echo "$$HOME" && sleep 1'`).spec?.services[0].args, [
    "sh",
    "-c",
    'echo "$HOME" && sleep 1',
  ]);
  assert.deepEqual(spec(`node server.js --name "a b" c\\ d`).spec?.services[0].args, [
    "node",
    "server.js",
    "--name",
    "a b",
    "c d",
  ]);
  for (
    const command of ["npm run migrate && npm start", "cat /etc/hosts | grep x", "echo $$HOME"]
  ) {
    const r = spec(command);
    assert.equal(r.spec, undefined, command);
    assert.match(r.problems[0].message, /needs a shell.*as a list/, command);
    assert.equal(r.problems[0].path, "services.web.command");
  }
  assert.match(spec(`"echo 'unclosed"`).problems[0].message, /quote is not closed/);
});

Deno.test("convertCompose() behaviour: problems never quote environment values", () => {
  const r = convertCompose(
    "services:\n  web:\n    image: nginx\n    environment:\n      SECRET_KEY: hunter2-${X}\n" +
      "      DB_PASSWORD: hunter2\n",
  );
  const text = JSON.stringify([r.problems, r.notes]);
  assert.ok(!text.includes("hunter2"), text);
  assert.equal(r.problems[0].message.includes("variable X"), true);
});

Deno.test("convertCompose() behaviour: volume names take the prefix unless named explicitly", () => {
  const text = "services:\n  db:\n    image: postgres\n    volumes:\n" +
    "      - data:/var/lib/postgresql/data\n      - shared:/shared:ro\n      - ext:/ext\n" +
    "volumes:\n  data:\n  shared:\n    name: team-shared\n  ext:\n    external: true\n";
  assert.deepEqual(convertCompose(text, { volumePrefix: "blog" }).spec?.services[0].volumes, [
    { name: "blog_data", target: "/var/lib/postgresql/data" },
    { name: "team-shared", target: "/shared", read_only: true },
    { name: "ext", target: "/ext" },
  ]);
  assert.deepEqual(convertCompose(text).spec?.services[0].volumes?.[0], {
    name: "data",
    target: "/var/lib/postgresql/data",
  });
});

Deno.test("convertCompose() behaviour: the spec's own rules are reported at the compose line", () => {
  const text = "services:\n  web:\n    image: nginx\n    ports: ['80:80']\n" +
    "  api:\n    image: nginx\n    ports: ['80:8080']\n    deploy:\n      resources:\n" +
    "        limits: {memory: 64M}\n        reservations: {memory: 128M}\n";
  assert.deepEqual(problems(text), [
    "7:services.api.ports.0: port 80 is already published by service web",
    "10:services.api.deploy.resources.limits.memory: memory limit below reservation",
  ]);
  assert.deepEqual(
    problems(
      "services:\n  a:\n    image: nginx\n    depends_on: [b]\n" +
        "  b:\n    image: nginx\n    depends_on: [a]\n",
    ),
    ["1:services: services depend on each other in a cycle: a → b → a"],
  );
});

Deno.test("convertCompose() behaviour: odd shapes are problems, never exceptions", () => {
  const values = ["5", "x", "", "[]", "{}", "[1, {a: b}]", "{a: [1]}", "true", "[null]", "'${X'"];
  const keys = [
    "image",
    "command",
    "environment",
    "ports",
    "volumes",
    "depends_on",
    "healthcheck",
    "deploy",
    "restart",
    "labels",
    "stop_grace_period",
    "cap_add",
    "privileged",
    "network_mode",
    "profiles",
    "mem_limit",
  ];
  const shapes = [
    (v: string) => v,
    (v: string) =>
      `{resources: {limits: {cpus: ${v}, memory: ${v}}}, restart_policy: {delay: ${v}}, ` +
      `update_config: {order: ${v}}, placement: {constraints: ${v}}}`,
    (v: string) => `{test: ${v}, interval: ${v}, retries: ${v}}`,
    (v: string) => `[{target: ${v}, published: ${v}, source: ${v}, type: ${v}}]`,
    (v: string) => `{web: {condition: ${v}, required: ${v}}}`,
  ];
  for (const key of keys) {
    for (const value of values) {
      for (const shape of shapes) {
        const text = `services:\n  web:\n    image: nginx\n  db:\n    image: postgres\n` +
          `    ${key}: ${shape(value)}\nvolumes: ${value}\n`;
        const r = convertCompose(text);
        assert.ok(r.spec || r.problems.length, text);
        for (const p of r.problems) assert.ok(p.line >= 1 && p.line <= 7, text);
      }
    }
  }
  assert.deepEqual(problems("services:\n  web: 5\n"), ["2:services.web: must be a mapping"]);
  assert.deepEqual(problems("services: [web]\n"), ["1:services: must be a mapping"]);
});

Deno.test("convertCompose() behaviour: keys named like Object's own are plain keys", () => {
  const r = convertCompose(
    "services:\n  web:\n    image: nginx\n    constructor: 1\n    toString: x\n" +
      "    environment:\n      __proto__: a\n      constructor: b\n" +
      "    deploy:\n      update_config: {constructor: 1}\n",
  );
  assert.deepEqual(r.problems.map((p) => `${p.path}: ${p.message}`), [
    "services.web.constructor: constructor is not supported",
    "services.web.toString: toString is not supported",
    "services.web.deploy.update_config.constructor: constructor is not supported for update_config",
  ]);
  const env = convertCompose(
    "services:\n  web:\n    image: nginx\n    environment:\n      __proto__: a\n      B: b\n",
  ).spec?.services[0].env;
  assert.deepEqual(Object.keys(env ?? {}), ["__proto__", "B"]);
});
