import assert from "node:assert/strict";
import { BuildFailure } from "../../lib/builds/failure.ts";
import { contextTar, type ContextTarOptions } from "./context.ts";
import { PLAN_CONTEXT_IGNORE } from "./plan.ts";

type Tree = Record<string, string | { link: string } | { mode: number; text: string }>;

/** A temporary checkout with files, symlinks and modes, removed after `fn`. */
async function withTree(tree: Tree, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "capstan-context-" });
  try {
    for (const [path, v] of Object.entries(tree)) {
      const full = `${dir}/${path}`;
      await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
      if (typeof v === "string") await Deno.writeTextFile(full, v);
      else if ("link" in v) await Deno.symlink(v.link, full);
      else {
        await Deno.writeTextFile(full, v.text);
        await Deno.chmod(full, v.mode);
      }
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The tar of `dir` written to a file, and `tar -tvf --numeric-owner` of it, one entry a line. */
async function tarOf(dir: string, opts: Partial<ContextTarOptions> = {}) {
  const bytes = new Uint8Array(
    await new Response(contextTar(dir, { maxBytes: 10_000_000, ...opts })).arrayBuffer(),
  );
  const file = await Deno.makeTempFile({ suffix: ".tar" });
  await Deno.writeFile(file, bytes);
  const out = await new Deno.Command("tar", {
    args: ["--numeric-owner", "-tvf", file],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.ok(out.success && !err, `tar -tvf: ${err}`);
  const listing = new TextDecoder().decode(out.stdout).trim().split("\n");
  return { file, listing, names: listing.map((l) => l.split(/\s+/).slice(5).join(" ")) };
}

async function extract(file: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "capstan-context-x-" });
  const out = await new Deno.Command("tar", { args: ["-xf", file, "-C", dir], stderr: "piped" })
    .output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return dir;
}

Deno.test("contextTar() honours .dockerignore with Docker's rules: **, ! exceptions, last match wins", () =>
  withTree({
    ".dockerignore": [
      "# comments and blank lines are skipped",
      "",
      "node_modules",
      "**/*.log",
      "!keep.log",
      "docs",
      "!docs/README.md",
      "/secret.env",
      "Dockerfile",
      ".dockerignore",
    ].join("\n"),
    "Dockerfile": "FROM x\n",
    "node_modules/pkg/index.js": "x",
    "app.log": "x",
    "keep.log": "x",
    "src/deep/er/trace.log": "x",
    "src/main.ts": "x",
    "docs/README.md": "x",
    "docs/other.md": "x",
    "secret.env": "x",
    "src/secret.env": "x",
  }, async (dir) => {
    const { names } = await tarOf(dir);
    assert.deepEqual(names.filter((n) => !n.endsWith("/")).sort(), [
      ".dockerignore", // always sent, although it names itself
      "Dockerfile", // the same
      "docs/README.md", // an exception inside an ignored folder
      "keep.log",
      "src/main.ts",
      "src/secret.env", // "/secret.env" is anchored at the root
    ]);
    assert.ok(!names.some((n) => n.startsWith("node_modules")));
  }));

Deno.test("contextTar() keeps modes and symlinks (never followed), and leaks no owner", () =>
  withTree({
    "run.sh": { mode: 0o755, text: "#!/bin/sh\n" },
    "private.txt": { mode: 0o600, text: "x" },
    "etc-passwd": { link: "/etc/passwd" },
    "up": { link: "../../outside" },
    "lib/rel": { link: "../run.sh" },
  }, async (dir) => {
    const { file, listing } = await tarOf(dir);
    const line = (name: string) => listing.find((l) => l.split(/\s+/).slice(5)[0] === name)!;
    assert.match(line("run.sh"), /^-rwxr-xr-x 0\/0 /);
    assert.match(line("private.txt"), /^-rw------- 0\/0 /);
    assert.match(line("etc-passwd"), /^l.* 0\/0 .* etc-passwd -> \/etc\/passwd$/);
    assert.match(line("up"), /up -> \.\.\/\.\.\/outside$/);
    for (const l of listing) assert.match(l, /^\S+ 0\/0 /);
    // No owner names at all: a plain listing shows the ids too.
    const plain = await new Deno.Command("tar", { args: ["-tvf", file], stdout: "piped" }).output();
    for (const l of new TextDecoder().decode(plain.stdout).trim().split("\n")) {
      assert.match(l, /^\S+ 0\/0 /, l);
    }
    const x = await extract(file);
    try {
      assert.equal(await Deno.readLink(`${x}/etc-passwd`), "/etc/passwd");
      assert.equal(await Deno.readLink(`${x}/lib/rel`), "../run.sh");
      assert.equal((await Deno.lstat(`${x}/etc-passwd`)).isSymlink, true);
    } finally {
      await Deno.remove(x, { recursive: true });
      await Deno.remove(file);
    }
  }));

Deno.test("contextTar() writes long names and link targets as pax records", () => {
  const long = `${"d".repeat(120)}/${"é".repeat(60)}.txt`;
  return withTree({ [long]: "long", "l": { link: "t".repeat(150) } }, async (dir) => {
    const { file, names } = await tarOf(dir);
    assert.ok(names.includes(long), names.join("\n"));
    const x = await extract(file);
    try {
      assert.equal(await Deno.readTextFile(`${x}/${long}`), "long");
      assert.equal(await Deno.readLink(`${x}/l`), "t".repeat(150));
    } finally {
      await Deno.remove(x, { recursive: true });
      await Deno.remove(file);
    }
  });
});

Deno.test("contextTar() sends a custom Dockerfile in an ignored folder, extra files, and the plan's ignores", () =>
  withTree({
    ".dockerignore": "ci\n",
    "ci/Dockerfile.prod": "FROM x\n",
    "ci/other": "x",
    "Dockerfile": "FROM checkout\n",
    ".git/HEAD": "ref: refs/heads/main\n",
    "index.html": "x",
  }, async (dir) => {
    const { file, names } = await tarOf(dir, {
      dockerfile: "ci/Dockerfile.prod",
      extraFiles: { "Dockerfile": "FROM generated\n" },
      ignore: PLAN_CONTEXT_IGNORE,
    });
    assert.ok(names.includes("ci/Dockerfile.prod"));
    assert.ok(!names.includes("ci/other"));
    assert.ok(!names.some((n) => n.startsWith(".git")), names.join(","));
    assert.equal(names.filter((n) => n === "Dockerfile").length, 1);
    const x = await extract(file);
    try {
      assert.equal(await Deno.readTextFile(`${x}/Dockerfile`), "FROM generated\n");
    } finally {
      await Deno.remove(x, { recursive: true });
      await Deno.remove(file);
    }
    assert.throws(() =>
      contextTar(dir, { maxBytes: 1e6, dockerfile: "../Dockerfile" }).getReader().read()
    );
  }));

Deno.test("contextTar() fails with checkout_too_large past maxBytes, before reading the big file", () =>
  withTree({ "small.txt": "x", "big.bin": "y".repeat(200_000) }, async (dir) => {
    const reader = contextTar(dir, { maxBytes: 100_000 }).getReader();
    let sent = 0;
    const err = await (async () => {
      try {
        while (true) {
          const r = await reader.read();
          if (r.done) return undefined;
          sent += r.value.length;
        }
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof BuildFailure, String(err));
    assert.equal(err.failure, "checkout_too_large");
    assert.match(err.message, /100000 bytes.*big\.bin/);
    assert.ok(sent < 100_000, `sent ${sent} bytes before failing`);
    // Ignored files do not count.
    await Deno.writeTextFile(`${dir}/.dockerignore`, "*.bin\n");
    const { names } = await tarOf(dir, { maxBytes: 100_000 });
    assert.deepEqual(names.sort(), [".dockerignore", "small.txt"]);
  }));
