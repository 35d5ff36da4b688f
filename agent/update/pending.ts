import { join } from "../path.ts";
import * as z from "zod";
import { OutcomeReport } from "../../lib/protocol/release.ts";

/**
 * Update state kept in the agent's state dir between processes: the switch awaiting the new
 * agent's health confirmation, and the outcome waiting to be reported to the hub.
 */

export const Pending = z.object({
  from_version: z.string().max(64),
  to_version: z.string().max(64),
  /** `versions/<name>` links (relative to the install dir). */
  previous: z.string().max(300),
  next: z.string().max(300),
  switched_at: z.number(),
  /** After this (ms since the epoch) an unconfirmed switch is rolled back. */
  deadline: z.number(),
  /** How many times the guard let the new binary start (a second start means it exited). */
  starts: z.number().int().min(0),
  rollout_id: z.string().max(64).nullable(),
});
export type Pending = z.infer<typeof Pending>;

/** An outcome waiting to be reported to the hub, with when it happened. */
export const Result = OutcomeReport.extend({ at: z.number() });
export type Result = z.infer<typeof Result>;

async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  let text;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  try {
    const r = schema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

async function writeJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(value) + "\n", { mode: 0o600 });
  await Deno.rename(tmp, path);
}

const remove = (path: string) =>
  Deno.remove(path).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });

/** The update files of a state dir. */
export function updateState(stateDir: string) {
  const pendingFile = join(stateDir, "update-pending.json");
  const resultFile = join(stateDir, "update-result.json");
  const blockedFile = join(stateDir, "update-blocked.json");
  const readBlocked = async () => (await readJson(blockedFile, z.array(z.string().max(64)))) ?? [];
  return {
    /** Versions rolled back on this host: never installed again (the last 20). */
    readBlocked,
    async addBlocked(version: string) {
      await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
      await writeJson(blockedFile, [...new Set([...await readBlocked(), version])].slice(-20));
    },
    pendingFile,
    resultFile,
    readPending: () => readJson(pendingFile, Pending),
    async writePending(p: Pending) {
      await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
      await writeJson(pendingFile, p);
    },
    clearPending: () => remove(pendingFile),
    readResult: () => readJson(resultFile, Result),
    async writeResult(r: Result) {
      await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
      await writeJson(resultFile, r);
    },
    clearResult: () => remove(resultFile),
  };
}
export type UpdateState = ReturnType<typeof updateState>;
