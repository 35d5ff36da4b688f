import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../lib/config.ts";
import { startHub } from "../../hub.ts";
import { silentLogger } from "../../lib/log.ts";
import { RELEASE_KEYS_FILE } from "../../lib/releases/keys.ts";
import type { Target } from "../../lib/release_format/manifest.ts";
import { readReleaseDir, writeReleaseManifest } from "../../lib/releases/release_dir.ts";
import { generateReleaseKeys } from "../../lib/release_format/signing.ts";

/** Test support for agent releases (imported by tests only). */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CTX = { actor: { type: "system" as const, name: "test" }, ip: null };

/** This machine's release target. */
export const HOST_TARGET: Target = Deno.build.arch === "aarch64"
  ? "aarch64-unknown-linux-gnu"
  : "x86_64-unknown-linux-gnu";

/**
 * A stand-in for a compiled agent of `version` (deno compile needs denort, which this environment
 * lacks): an sh launcher running agent/main.ts with deno, claiming that version.
 */
export function launcherScript(version: string): string {
  return `#!/bin/sh\nCAPSTAN_AGENT_VERSION_OVERRIDE=${version} exec "${Deno.execPath()}" run -A --no-prompt --config "${
    join(ROOT, "deno.json")
  }" "${join(ROOT, "agent/main.ts")}" "$@"\n`;
}

/**
 * A real hub on a temporary data dir that trusts a fresh signing key, and a way to publish a
 * signed release whose one file (for this machine's target) has the given content.
 */
export async function startReleaseHub(prefix: string) {
  const root = await Deno.makeTempDir({ prefix });
  const dataDir = join(root, "hub");
  await Deno.mkdir(dataDir);
  const keys = await generateReleaseKeys();
  await Deno.writeTextFile(join(dataDir, RELEASE_KEYS_FILE), keys.publicKey + "\n");
  const hub = await startHub(
    loadConfig({ CAPSTAN_PORT: "0", CAPSTAN_DATA_DIR: dataDir, CAPSTAN_LOCAL_AGENT: "0" }),
    { log: silentLogger, jobs: false },
  );
  return {
    root,
    hub,
    keys,
    /** Writes, signs and publishes a release; resolves with the path of its file. */
    async publish(version: string, body: string): Promise<string> {
      const dir = join(root, `rel-${version}`);
      await Deno.mkdir(dir);
      const path = join(dir, `capstan-agent-${version}-${HOST_TARGET}`);
      await Deno.writeTextFile(path, body, { mode: 0o755 });
      await writeReleaseManifest(dir, version, [{ path, target: HOST_TARGET }], keys.privateKey);
      await hub.services.releases.publish(CTX, await readReleaseDir(dir));
      return path;
    },
    async stop() {
      await hub.stop();
      await Deno.remove(root, { recursive: true });
    },
  };
}
