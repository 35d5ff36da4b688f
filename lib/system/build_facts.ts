/**
 * What this build of the hub is: its version (the one agents are released as), the commit and
 * commit date of the checkout it runs from, and its license. Read once; a hub that does not run
 * from a git checkout (or without git) says "unknown" rather than failing.
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { BUILT_VERSION } from "../../agent/version.ts";

/** The hub's build, as the About panel shows it. */
export interface BuildFacts {
  version: string;
  commit: string;
  /** ISO date of that commit. */
  date: string;
  /** The license's first line (its name), or "not declared" when the checkout has no LICENSE. */
  license: string;
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Runs git with fixed arguments in the project root; its trimmed output, or undefined. */
async function git(args: string[]): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("git", {
      args: ["-C", ROOT, ...args],
      stdout: "piped",
      stderr: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    return out.success && text ? text : undefined;
  } catch {
    return undefined; // no git binary here
  }
}

/** The first non-empty line of the project's LICENSE file, if it has one. */
async function licenseName(): Promise<string | undefined> {
  const text = await Deno.readTextFile(join(ROOT, "LICENSE")).catch(() => undefined);
  return text?.split("\n").map((l) => l.trim()).find(Boolean);
}

let cached: Promise<BuildFacts> | undefined;

/** The build's facts, read on first use and kept. */
export function buildFacts(): Promise<BuildFacts> {
  return cached ??= (async () => {
    const [commit, date, license] = await Promise.all([
      git(["rev-parse", "--short=12", "HEAD"]),
      git(["log", "-1", "--format=%cI"]),
      licenseName(),
    ]);
    return {
      version: BUILT_VERSION,
      commit: commit ?? "unknown",
      date: date ?? "unknown",
      license: license ?? "not declared",
    };
  })();
}
