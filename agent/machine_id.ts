import { join } from "./path.ts";

/** What the hub accepts as a machine id (lib/protocol Hello). */
const MACHINE_ID = /^[A-Za-z0-9-]{8,128}$/;

async function readId(path: string): Promise<string | undefined> {
  try {
    const id = (await Deno.readTextFile(path)).trim();
    return MACHINE_ID.test(id) ? id : undefined;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * The id the host token is bound to: the system's machine id (systemd's /etc/machine-id), or one
 * generated once into the state dir where the system has none (containers, minimal distros). It
 * must not change between runs, or the hub refuses the token as coming from another machine.
 */
export async function loadMachineId(systemFile: string, stateDir: string): Promise<string> {
  const system = await readId(systemFile);
  if (system) return system;
  const own = join(stateDir, "machine-id");
  const existing = await readId(own);
  if (existing) return existing;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
  // createNew: two agents started at once on an empty dir must not end up with two ids.
  try {
    await Deno.writeTextFile(own, id + "\n", { createNew: true, mode: 0o644 });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    return (await readId(own)) ?? id;
  }
  return id;
}
