/**
 * The install script: POSIX sh (checked with `sh -n`, dash, and shellcheck where installed), and
 * a run in a temporary root with stub system tools, downloading the agent from a real hub.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../lib/config.ts";
import { startHub } from "../hub.ts";
import { silentLogger } from "../lib/log.ts";
import { AGENT_RUN_FLAGS, AGENT_UNIT_ENV } from "../agent/unit.ts";

const SCRIPT = fileURLToPath(new URL("../agent/install.sh", import.meta.url));
const TOKEN = "cape_" + "A".repeat(43);

function which(bin: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(join(dir, bin)).isFile) return join(dir, bin);
    } catch {
      // Not here.
    }
  }
  return undefined;
}

async function run(bin: string, args: string[], env: Record<string, string> = {}, stdin?: string) {
  const child = new Deno.Command(bin, {
    args,
    env,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("install.sh: parses as POSIX sh (sh -n, dash -n) and passes shellcheck when installed", async () => {
  for (const sh of ["sh", "dash"]) {
    if (!which(sh)) continue;
    const r = await run(which(sh)!, ["-n", SCRIPT]);
    assert.equal(r.code, 0, `${sh} -n: ${r.stderr}`);
  }
  const shellcheck = which("shellcheck");
  if (shellcheck) {
    const r = await run(shellcheck, ["-s", "sh", SCRIPT]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  } else console.log("note: shellcheck not installed; only sh -n was checked");
  // No bashisms that sh -n lets through.
  const text = await Deno.readTextFile(SCRIPT);
  for (const bashism of ["[[", "function ", "source ", "$'\\", "<<<", "pipefail", "local "]) {
    assert.ok(!text.includes(bashism), `bashism in install.sh: ${bashism}`);
  }
});

Deno.test("install.sh: refuses bad input before touching anything", async () => {
  const root = await Deno.makeTempDir({ prefix: "capstan-install-bad-" });
  try {
    const base = { PATH: Deno.env.get("PATH")!, PREFIX: root };
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /hub URL is required/],
      [{ HUB: "ftp://x" }, /HUB must be an http\(s\) URL/],
      [{ HUB: "http://x'; rm -rf /" }, /HUB must be an http\(s\) URL/],
      [{ HUB: "http://x\nEVIL=1" }, /HUB must be one line/],
      [{ HUB: "http://x" }, /TOKEN is required/],
      [{ HUB: "http://x", TOKEN: "cape_short" }, /TOKEN must be the enrollment token/],
      [{ HUB: "http://x", TOKEN: TOKEN + "\nX=1" }, /TOKEN must be one line/],
    ];
    for (const [env, message] of cases) {
      const r = await run("sh", [SCRIPT], { ...base, ...env });
      assert.equal(r.code, 1, JSON.stringify(env));
      assert.match(r.stderr, message);
    }
    assert.deepEqual([...Deno.readDirSync(root)], [], "nothing was written");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name:
    "[e2e] install.sh: from the hub, in a temp root with stub user/systemctl tools: downloads the agent, writes env file (0600) and systemd unit",
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "capstan-install-hub-" });
    const root = await Deno.makeTempDir({ prefix: "capstan-install-root-" });
    const hub = await startHub(
      loadConfig({ CAPSTAN_PORT: "0", CAPSTAN_DATA_DIR: dataDir, CAPSTAN_LOCAL_AGENT: "0" }),
      { log: silentLogger, jobs: false },
    );
    try {
      // Stubs for the system tools the script calls: they log their arguments instead of acting.
      const stubs = join(root, "stubs");
      const log = join(root, "calls.log");
      await Deno.mkdir(stubs);
      const stub = async (name: string, body: string) => {
        await Deno.writeTextFile(
          join(stubs, name),
          `#!/bin/sh\necho "${name} $*" >> "${log}"\n${body}\n`,
          { mode: 0o755 },
        );
      };
      await stub("id", 'case "$1" in -u) echo 0 ;; *) exit 1 ;; esac');
      await stub("getent", "exit 0");
      await stub("useradd", "exit 0");
      await stub("chown", "exit 0");
      await stub("systemctl", "exit 0");

      const res = await fetch(`${hub.url}/api/v1/agent/install.sh`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type")!, /shellscript/);
      const script = await res.text();
      assert.ok(script.includes(`DEFAULT_HUB='${hub.url}'`), "the hub fills in its own URL");

      const env = {
        PATH: `${stubs}:${Deno.env.get("PATH")}`,
        HOME: root,
        PREFIX: root,
        TOKEN,
        DENO_DIR: join(root, "deno-dir"),
      };
      const r = await run("sh", ["-s"], env, script);
      assert.equal(r.code, 0, r.stderr);

      const agentJs = join(root, "opt/capstan-agent/agent.js");
      assert.ok((await Deno.stat(agentJs)).size > 10_000);
      const version = await run(Deno.execPath(), ["run", "--no-config", agentJs, "--version"]);
      assert.equal(version.stdout.trim(), "capstan-agent 0.1.0");

      const envFile = join(root, "etc/capstan-agent/agent.env");
      assert.equal((await Deno.stat(envFile)).mode! & 0o777, 0o600);
      const envText = await Deno.readTextFile(envFile);
      assert.match(envText, new RegExp(`^CAPSTAN_HUB_URL=${hub.url}$`, "m"));
      assert.match(envText, new RegExp(`^CAPSTAN_ENROLL_TOKEN=${TOKEN}$`, "m"));
      assert.match(envText, new RegExp(`^CAPSTAN_AGENT_DIR=${root}/var/lib/capstan-agent$`, "m"));

      const unit = await Deno.readTextFile(join(root, "etc/systemd/system/capstan-agent.service"));
      for (
        const line of [
          "User=capstan-agent",
          `EnvironmentFile=${envFile}`,
          "Restart=always",
          "RestartPreventExitStatus=78",
          "MemoryMax=256M",
          "StandardOutput=journal",
          "WantedBy=multi-user.target",
        ]
      ) assert.ok(unit.includes(`\n${line}\n`), `unit has ${line}\n${unit}`);
      assert.match(unit, new RegExp(`\\nExecStart=\\S*deno run .* ${agentJs}\\n`));
      // The flags the benchmark runs the bundle with (agent/unit.ts), word for word.
      assert.ok(
        unit.includes(` run ${AGENT_RUN_FLAGS.join(" ")} --allow-write=`),
        `flags\n${unit}`,
      );
      // The memory settings (issue 20), the same the agent benchmark measures with.
      for (const [name, value] of Object.entries(AGENT_UNIT_ENV)) {
        assert.ok(unit.includes(`\nEnvironment=${name}=${value}\n`), `unit sets ${name}\n${unit}`);
      }
      assert.equal((await Deno.stat(join(root, "var/lib/capstan-agent"))).mode! & 0o777, 0o700);

      const calls = await Deno.readTextFile(log);
      assert.match(calls, /^useradd --system .*--groups docker capstan-agent$/m);
      assert.match(calls, /^systemctl daemon-reload$/m);
      assert.match(calls, /^systemctl enable capstan-agent$/m);
      assert.match(calls, /^systemctl restart capstan-agent$/m);

      // --root and SKIP_SYSTEMCTL=1: no user, no systemctl; re-running upgrades in place.
      await Deno.remove(log);
      const again = await run(
        "sh",
        ["-s", "--", "--root"],
        { ...env, SKIP_SYSTEMCTL: "1" },
        script,
      );
      assert.equal(again.code, 0, again.stderr);
      const unit2 = await Deno.readTextFile(join(root, "etc/systemd/system/capstan-agent.service"));
      assert.ok(unit2.includes("\nUser=root\n"));
      const calls2 = await Deno.readTextFile(log).catch(() => "");
      assert.doesNotMatch(calls2, /useradd|systemctl/);
    } finally {
      await hub.stop();
      await Deno.remove(root, { recursive: true });
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
