/**
 * `deno task agent:build [--target T]… [--out DIR] [--key FILE]`: compiles the agent into one
 * executable per Linux target with `deno compile`, named with its version
 * (dist/agent/capstan-agent-0.1.0-x86_64-unknown-linux-gnu), then writes the release manifest
 * (version, per-file SHA-256 and size) and, with a signing key, its detached Ed25519 signature.
 *
 * `deno compile` needs Deno's `denort` runtime for each target: DENORT_BIN_X86_64 /
 * DENORT_BIN_AARCH64 (or DENORT_BIN for this machine's own target) point at one; otherwise Deno
 * downloads it. Where neither works the task fails with one line saying what is missing.
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { BUILT_VERSION } from "../agent/version.ts";
import { AGENT_V8_FLAGS } from "../agent/unit.ts";
import { releaseFileName, type Target, TARGETS } from "../lib/release_format/manifest.ts";
import { writeReleaseManifest } from "../lib/releases/release_dir.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** What the compiled agent may do: the network (hub), its state and install dirs, the socket. */
const PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-sys=hostname,osRelease,loadavg,networkInterfaces,systemMemoryInfo,uid",
];

/** Built into the binary: the V8 flags install.sh's unit gives the bundle (agent/unit.ts says why). */
const V8_FLAGS = [`--v8-flags=${AGENT_V8_FLAGS.join(",")}`];

/** This machine's own target, for which plain DENORT_BIN applies. */
function hostTarget(): Target {
  return Deno.build.arch === "aarch64" ? "aarch64-unknown-linux-gnu" : "x86_64-unknown-linux-gnu";
}

/** The denort binary to use for `target`, if one is configured. */
export function denortFor(target: Target, env: Record<string, string | undefined>) {
  const arch = TARGETS[target].toUpperCase();
  return env[`DENORT_BIN_${arch}`] || (target === hostTarget() ? env.DENORT_BIN : undefined) ||
    undefined;
}

/** This process's environment with DENORT_BIN set to `denort`, or left out. */
function childEnv(denort: string | undefined): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.DENORT_BIN;
  // Plain text errors: the failure line is parsed from them.
  env.NO_COLOR = "1";
  return denort ? { ...env, DENORT_BIN: denort } : env;
}

/** Compiles one target; resolves with the output path or a one-line reason. */
async function compile(
  target: Target,
  out: string,
  env: Record<string, string | undefined>,
): Promise<{ ok: true; path: string } | { ok: false; why: string }> {
  const path = join(out, releaseFileName(BUILT_VERSION, target));
  const denort = denortFor(target, env);
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "--quiet",
      "--no-check",
      ...PERMISSIONS,
      ...V8_FLAGS,
      "--target",
      target,
      "--output",
      path,
      "agent/main.ts",
    ],
    cwd: ROOT,
    // DENORT_BIN is read by deno compile itself: set per target, never inherited by accident.
    env: childEnv(denort),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (r.success) return { ok: true, path };
  const err = new TextDecoder().decode(r.stderr).split("Stack backtrace:")[0];
  const runtimeMissing = /Could not find denort|denort|dl\.deno\.land|Setting up base binary/i
    .test(err);
  const cause =
    err.split("\n").map((l) => l.trim()).filter(Boolean).findLast((l) => /^\d+: /.test(l))?.replace(
      /^\d+: /,
      "",
    ) ?? err.trim().split("\n").pop() ?? "unknown error";
  const why = runtimeMissing
    ? `the denort runtime for ${target} is missing: ${
      denort ? `DENORT_BIN=${denort} is not usable` : "it could not be downloaded"
    } (${cause}); set DENORT_BIN_${
      TARGETS[target].toUpperCase()
    } (or DENORT_BIN for this machine's target) to a denort ${Deno.version.deno} binary`
    : `deno compile failed for ${target}: ${cause}`;
  return { ok: false, why };
}

/** Runs the build; returns the exit code. */
export async function buildAgent(
  argv: string[],
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string", multiple: true },
      out: { type: "string" },
      key: { type: "string" },
    },
  });
  const targets = (values.target?.length ? values.target : Object.keys(TARGETS)) as Target[];
  for (const t of targets) {
    if (!(t in TARGETS)) {
      console.error(`agent:build: unknown target ${t} (${Object.keys(TARGETS).join(", ")})`);
      return 2;
    }
  }
  const out = resolve(values.out ?? join(ROOT, "dist/agent"));
  await Deno.mkdir(out, { recursive: true });
  const files: { path: string; target: Target }[] = [];
  for (const target of targets) {
    const r = await compile(target, out, env);
    if (!r.ok) {
      console.error(`agent:build: ${r.why}`);
      return 1;
    }
    files.push({ path: r.path, target });
  }
  const keyFile = values.key ?? env.CAPSTAN_RELEASE_KEY_FILE;
  const privateKey = keyFile ? (await Deno.readTextFile(keyFile)).trim() : undefined;
  const m = await writeReleaseManifest(out, BUILT_VERSION, files, privateKey);
  for (const f of m.manifest.files) console.log(`${f.name}  ${f.size} bytes  sha256 ${f.sha256}`);
  console.log(
    m.signed
      ? `wrote ${
        join(out, "manifest.json")
      } and its signature; publish with: deno task admin publish-agent ${out}`
      : `wrote ${
        join(out, "manifest.json")
      } UNSIGNED (no --key / CAPSTAN_RELEASE_KEY_FILE): agents will refuse it`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(await buildAgent(Deno.args));
