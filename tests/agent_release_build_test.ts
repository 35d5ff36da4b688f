/**
 * `deno task agent:build`: without the denort runtime it fails with one clear line; with it
 * (DENORT_BIN, or Deno's download cache) it compiles the agent, names the file with the version,
 * and writes the manifest and signature. Where no denort exists on the machine, the compile test
 * is skipped and says why (the runtime cannot be downloaded in this environment).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUILT_VERSION } from "../agent/version.ts";
import { generateReleaseKeys, verifyBytes } from "../lib/release_format/signing.ts";
import { readReleaseDir } from "../lib/releases/release_dir.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TARGET = Deno.build.arch === "aarch64"
  ? "aarch64-unknown-linux-gnu"
  : "x86_64-unknown-linux-gnu";

async function run(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A usable denort for this machine's target: DENORT_BIN, or the zip Deno caches after a download. */
async function findDenort(): Promise<{ path?: string; why: string }> {
  const env = Deno.env.get("DENORT_BIN");
  if (env) {
    try {
      if ((await Deno.stat(env)).isFile) return { path: env, why: "DENORT_BIN" };
    } catch {
      return { why: `DENORT_BIN=${env} does not exist` };
    }
  }
  const info = await run(["info", "--json"]);
  const denoDir = JSON.parse(info.stdout || "{}").denoDir ?? "";
  const cached = join(denoDir, "dl", "release", `v${Deno.version.deno}`, `denort-${TARGET}.zip`);
  try {
    await Deno.stat(cached);
    return { path: "", why: `cached ${cached}` };
  } catch {
    return {
      why:
        `no denort runtime on this machine (DENORT_BIN unset, nothing cached at ${cached}) and it cannot be downloaded here`,
    };
  }
}

const denort = await findDenort();
if (denort.path === undefined) console.log(`skipped: agent:build compile test — ${denort.why}`);

Deno.test("capstan-agent --version prints the embedded version", async () => {
  const r = await run(["run", "--no-prompt", "agent/main.ts", "--version"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), `capstan-agent ${BUILT_VERSION}`);
});

Deno.test("agent:build without a usable denort fails with one clear line and a non-zero exit", async () => {
  const out = await Deno.makeTempDir({ prefix: "capstan-build-" });
  try {
    const r = await run(["task", "--quiet", "agent:build", "--out", out, "--target", TARGET], {
      PATH: Deno.env.get("PATH")!,
      HOME: Deno.env.get("HOME") ?? "/root",
      DENORT_BIN: "/nonexistent/denort",
    });
    assert.notEqual(r.code, 0);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /^agent:build: the denort runtime for .* is missing: DENORT_BIN=\/nonexistent\/denort is not usable .*set DENORT_BIN/,
    );
    assert.equal((await Array.fromAsync(Deno.readDir(out))).length, 0, "no partial release");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test({
  name:
    "agent:build compiles the agent for this machine's target, named with the version, with a signed manifest",
  ignore: denort.path === undefined,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "capstan-build-" });
    const keys = await generateReleaseKeys();
    const keyFile = join(out, "key");
    await Deno.writeTextFile(keyFile, keys.privateKey);
    try {
      const r = await run(
        ["task", "--quiet", "agent:build", "--out", out, "--target", TARGET, "--key", keyFile],
        {
          PATH: Deno.env.get("PATH")!,
          HOME: Deno.env.get("HOME") ?? "/root",
          ...(denort.path ? { DENORT_BIN: denort.path } : {}),
        },
      );
      assert.equal(r.code, 0, r.stderr);
      const rel = await readReleaseDir(out);
      const bin = join(out, `capstan-agent-${BUILT_VERSION}-${TARGET}`);
      assert.equal(rel.manifest.files[0].name, `capstan-agent-${BUILT_VERSION}-${TARGET}`);
      assert.ok(
        await verifyBytes(
          [keys.publicKey],
          new TextEncoder().encode(rel.manifestText),
          rel.signature,
        ),
      );
      const v = await new Deno.Command(bin, { args: ["--version"], stdout: "piped" }).output();
      assert.equal(new TextDecoder().decode(v.stdout).trim(), `capstan-agent ${BUILT_VERSION}`);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
