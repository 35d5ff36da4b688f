import assert from "node:assert/strict";
import { AgentConfigError, parseAgentArgs } from "./config.ts";
import { main } from "./main.ts";

const TOKEN = "cape_" + "a".repeat(43);

Deno.test("parseAgentArgs() takes flags over environment, with defaults", () => {
  const cmd = parseAgentArgs(["--hub", "https://hub.example.com/"], () => ({
    CAPSTAN_HUB_URL: "http://ignored",
    CAPSTAN_ENROLL_TOKEN: TOKEN,
  }));
  assert.equal(cmd.kind, "run");
  if (cmd.kind !== "run") return;
  assert.equal(cmd.config.hubUrl, "https://hub.example.com");
  assert.equal(cmd.config.enrollToken, TOKEN);
  assert.equal(cmd.config.stateDir, "/var/lib/capstan-agent");
  assert.equal(cmd.config.dockerSocket, "/var/run/docker.sock");
  assert.equal(cmd.config.machineIdFile, "/etc/machine-id");
});

Deno.test("parseAgentArgs() names the bad setting and never echoes the token", () => {
  const bad = (args: string[], env: Record<string, string>, message: RegExp) =>
    assert.throws(() => parseAgentArgs(args, () => env), (e: Error) => {
      assert.ok(e instanceof AgentConfigError);
      assert.match(e.message, message);
      assert.ok(!e.message.includes("cape_secret"), "token not echoed");
      return true;
    });
  bad([], {}, /CAPSTAN_HUB_URL is required/);
  bad(["--hub", "ftp://x"], {}, /--hub .* is invalid/);
  bad(["--hub", "http://x?a=1"], {}, /query or fragment/);
  bad(
    ["--hub", "http://x", "--enroll-token", "cape_secret"],
    {},
    /CAPSTAN_ENROLL_TOKEN is invalid/,
  );
  bad(["--hub", "http://x", "--state-dir", "relative"], {}, /absolute path/);
  bad(["--bogus"], {}, /Unknown option/);
});

Deno.test("main() --version needs no environment or engine", async () => {
  const log = console.log;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    assert.equal(
      await main(["--version"], () => {
        throw new Error("environment read");
      }),
      0,
    );
  } finally {
    console.log = log;
  }
  assert.deepEqual(lines, ["capstan-agent 0.1.0"]);
});

Deno.test("parseAgentArgs() reads --name value, --name=value and the booleans; refuses the rest", () => {
  const env = () => ({ CAPSTAN_HUB_URL: "http://env" });
  const run = (args: string[]) => parseAgentArgs(args, env);
  const a = run(["--hub=http://a", "--state-dir", "/srv/agent", "--log-level=debug"]);
  assert.ok(a.kind === "run");
  assert.equal(a.config.hubUrl, "http://a");
  assert.equal(a.config.stateDir, "/srv/agent");
  assert.equal(a.config.logLevel, "debug");
  assert.equal(run(["-h"]).kind, "help");
  assert.equal(run(["--version"]).kind, "version");
  assert.equal(run(["--"]).kind, "run");
  for (
    const [args, message] of [
      [["stray"], /Unexpected argument 'stray'/],
      [["--", "stray"], /Unexpected argument 'stray'/],
      [["--hub"], /'--hub <value>' argument missing/],
      [["--hub", "--version"], /'--hub <value>' argument missing/],
      [["--version=1"], /Unknown option '--version'/],
      [["-x"], /Unknown option '-x'/],
    ] as const
  ) {
    assert.throws(
      () => run([...args]),
      (e: Error) => e instanceof AgentConfigError && message.test(e.message),
    );
  }
});
