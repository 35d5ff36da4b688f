/**
 * install.sh with a release rolled out to every host: it downloads the single binary from the hub
 * (no Deno needed), checks its SHA-256, lays out versions/ with the current and guard links, and
 * writes a unit that runs the guard before each start. The "binary" is a stand-in sh launcher of
 * agent/main.ts (deno compile cannot run here, see tests/agent_release_build_test.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { HOST_TARGET, launcherScript, startReleaseHub } from "./support/releases.ts";

const TOKEN = "cape_" + "B".repeat(43);
const CTX = { actor: { type: "system" as const, name: "test" }, ip: null };
const TARGET = HOST_TARGET;

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
    const rh = await startReleaseHub("capstan-install-bin-");
    const { root, hub } = rh;
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
      const bin = await rh.publish("0.2.0", launcherScript("0.2.0"));
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
      await rh.stop();
    }
  },
});
