import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AGENT_VERSION } from "../../agent/version.ts";

/** The agent as one JavaScript file, as install.sh downloads it. */
export interface AgentBundle {
  code: Uint8Array<ArrayBuffer>;
  sha256: string;
  version: string;
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

async function hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Runs `deno bundle` on agent/main.ts (no shell: the binary and its arguments). */
async function build(root: string): Promise<AgentBundle> {
  const dir = await Deno.makeTempDir({ prefix: "capstan-agent-bundle-" });
  const out = join(dir, "agent.js");
  try {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--platform", "deno", "--minify", "--quiet", "-o", out, "agent/main.ts"],
      cwd: root,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!r.success) {
      const why = new TextDecoder().decode(r.stderr).trim().split("\n").slice(-3).join(" ");
      throw new Error(`deno bundle of the agent failed: ${why}`);
    }
    const code = await Deno.readFile(out);
    return { code, sha256: await hex(code), version: AGENT_VERSION };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Builds the agent bundle on first use and keeps it for the life of the process (it only changes
 * with the hub's own code). A failed build is not cached, so the next request tries again.
 */
export function createAgentBundler(root = ROOT) {
  let pending: Promise<AgentBundle> | undefined;
  return {
    /** The bundle, building it if this is the first call. */
    get(): Promise<AgentBundle> {
      pending ??= build(root).catch((err) => {
        pending = undefined;
        throw err;
      });
      return pending;
    },
  };
}
