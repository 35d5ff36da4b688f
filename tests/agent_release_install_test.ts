/**
 * install.sh with a release rolled out to every host: it downloads the single binary from the hub
 * (no Deno needed), checks its SHA-256, lays out versions/ with the current and guard links, and
 * writes a unit that runs the guard before each start. The "binary" is a stand-in sh launcher of
 * agent/main.ts (deno compile cannot run here, see tests/agent_release_build_test.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../lib/config.ts";
import { startHub } from "../lib/hub.ts";
import { silentLogger } from "../lib/log.ts";
import { generateReleaseKeys } from "../lib/releases/signing.ts";
import { readReleaseDir, writeReleaseManifest } from "../lib/releases/release_dir.ts";
import { RELEASE_KEYS_FILE } from "../lib/releases/keys.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TOKEN = "cape_" + "B".repeat(43);
const CTX = { actor: { type: "system" as const, name: "test" }, ip: null };
const ARCH = Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
const TARGET = `${ARCH}-unknown-linux-gnu` as const;

async function sh(script: string, args: string[], env: Record<string, string>) {
  const child = new Deno.Command("sh", {
    args: ["-s", "--", ...args],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(script));
  await w.close();
  const out = await child.output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test({
  name:
    "[e2e] install.sh: installs the hub's generally available agent binary (SHA-256 checked) with versions/, current and guard links and a guarded unit",
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "capstan-install-bin-" });
    const dataDir = join(root, "hub");
    await Deno.mkdir(dataDir);
    const keys = await generateReleaseKeys();
    await Deno.writeTextFile(join(dataDir, RELEASE_KEYS_FILE), keys.publicKey + "\n");
    const hub = await startHub(
      loadConfig({ CAPSTAN_PORT: "0", CAPSTAN_DATA_DIR: dataDir, CAPSTAN_LOCAL_AGENT: "0" }),
      { log: silentLogger, jobs: false },
    );
    try {
      const stubs = join(root, "stubs");
      const calls = join(root, "calls.log");
      await Deno.mkdir(stubs);
      for (
        const [name, body] of [
          ["id", 'case "$1" in -u) echo 0 ;; *) exit 1 ;; esac'],
          ["getent", "exit 0"],
          ["useradd", "exit 0"],
          ["chown", "exit 0"],
          ["systemctl", "exit 0"],
        ]
      ) {
        await Deno.writeTextFile(
          join(stubs, name),
          `#!/bin/sh\necho "${name} $*" >> "${calls}"\n${body}\n`,
          { mode: 0o755 },
        );
      }
      const script = await (await fetch(`${hub.url}/api/v1/agent/install.sh`)).text();
      const env = {
        PATH: `${stubs}:${Deno.env.get("PATH")}`,
        HOME: root,
        PREFIX: join(root, "sys"),
        TOKEN,
      };

      // Forced binary mode without a release: a clear refusal.
      const none = await sh(script, [], { ...env, AGENT_FORMAT: "binary" });
      assert.equal(none.code, 1);
      assert.match(none.stderr, /no agent release rolled out to every host/);

      // A release rolled out to every host.
      const dir = join(root, "rel");
      await Deno.mkdir(dir);
      const bin = join(dir, `capstan-agent-0.2.0-${TARGET}`);
      await Deno.writeTextFile(
        bin,
        `#!/bin/sh\nCAPSTAN_AGENT_VERSION_OVERRIDE=0.2.0 exec "${Deno.execPath()}" run -A --config "${
          join(ROOT, "deno.json")
        }" "${join(ROOT, "agent/main.ts")}" "$@"\n`,
        { mode: 0o755 },
      );
      await writeReleaseManifest(dir, "0.2.0", [{ path: bin, target: TARGET }], keys.privateKey);
      await hub.services.releases.publish(CTX, await readReleaseDir(dir));
      await hub.services.releases.startRollout(CTX, "0.2.0", { percent: 100 });

      const r = await sh(script, [], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /installed capstan-agent 0\.2\.0/);
      const installDir = join(root, "sys/opt/capstan-agent");
      const name = `capstan-agent-0.2.0-${TARGET}`;
      assert.equal(await Deno.readLink(join(installDir, "current")), `versions/${name}`);
      assert.equal(await Deno.readLink(join(installDir, "guard")), `versions/${name}`);
      assert.deepEqual(
        await Deno.readFile(join(installDir, "versions", name)),
        await Deno.readFile(bin),
      );
      const v = await new Deno.Command(join(installDir, "current"), {
        args: ["--version"],
        stdout: "piped",
      }).output();
      assert.equal(new TextDecoder().decode(v.stdout).trim(), "capstan-agent 0.2.0");

      const envText = await Deno.readTextFile(join(root, "sys/etc/capstan-agent/agent.env"));
      assert.match(envText, new RegExp(`^CAPSTAN_AGENT_INSTALL_DIR=${installDir}$`, "m"));
      const unit = await Deno.readTextFile(
        join(root, "sys/etc/systemd/system/capstan-agent.service"),
      );
      for (
        const line of [
          `ExecStartPre=-${installDir}/guard --update-guard`,
          `ExecStart=${installDir}/current`,
          "User=capstan-agent",
          "Restart=always",
          "MemoryMax=256M",
          "StandardOutput=journal",
          "StandardError=journal",
        ]
      ) assert.ok(unit.includes(`\n${line}\n`), `unit has ${line}\n${unit}`);
      assert.doesNotMatch(unit, /deno run/, "no Deno needed for the binary");
      const log = await Deno.readTextFile(calls);
      assert.match(log, /^useradd --system .*--groups docker capstan-agent$/m);
      assert.match(log, new RegExp(`^chown -R capstan-agent ${installDir}$`, "m"));
    } finally {
      await hub.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
});
