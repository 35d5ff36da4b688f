import { join } from "./path.ts";
import { sha256Hex } from "../lib/util/ids.ts";

/** The host token file and what it was enrolled with, in the agent's state dir. */
export interface AgentState {
  /** The host token, or undefined before enrollment. */
  readToken(): Promise<string | undefined>;
  /** Replaces the token file atomically with mode 0600 (a crash leaves the old or the new one). */
  writeToken(token: string): Promise<void>;
  /** Whether `enrollToken` is the one this host already enrolled with (so it need not again). */
  enrolledWith(enrollToken: string): Promise<boolean>;
  /** Records which enrollment token produced the current host token (its hash only). */
  markEnrolled(enrollToken: string): Promise<void>;
  readonly tokenFile: string;
}

const TOKEN = /^caph_[\w-]{43}$/;

async function readTrimmed(path: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** Writes `text` to `path` through a temporary file and a rename, with `mode` from the start. */
async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text, { mode, createNew: true });
    // The umask may have narrowed or widened nothing, but a pre-existing umask of 0 must not matter.
    await Deno.chmod(tmp, mode);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/** The state of an agent kept under `dir` (created 0700 on first write). */
export function agentState(dir: string): AgentState {
  const tokenFile = join(dir, "host-token");
  const markFile = join(dir, "enrolled-with");
  const ensureDir = () => Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  return {
    tokenFile,
    async readToken() {
      const t = await readTrimmed(tokenFile);
      return t && TOKEN.test(t) ? t : undefined;
    },
    async writeToken(token) {
      if (!TOKEN.test(token)) throw new Error("refusing to store a malformed host token");
      await ensureDir();
      await writeAtomic(tokenFile, token + "\n", 0o600);
    },
    async enrolledWith(enrollToken) {
      return (await readTrimmed(markFile)) === await sha256Hex(enrollToken);
    },
    async markEnrolled(enrollToken) {
      await ensureDir();
      await writeAtomic(markFile, (await sha256Hex(enrollToken)) + "\n", 0o600);
    },
  };
}
