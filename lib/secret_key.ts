import { join } from "node:path";
import { base64url } from "./util/ids.ts";

/**
 * The hub's secret key (for encryption at rest in later features): from the environment when set,
 * otherwise read from `<dataDir>/secret-key`, generated there with mode 0600 on first start.
 */
export async function loadSecretKey(dataDir: string, fromEnv?: string): Promise<string> {
  if (fromEnv) return fromEnv;
  const path = join(dataDir, "secret-key");
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const key = base64url(crypto.getRandomValues(new Uint8Array(32)));
  await Deno.mkdir(dataDir, { recursive: true });
  // createNew: two processes starting at once must not overwrite each other's key.
  try {
    await Deno.writeTextFile(path, key + "\n", { mode: 0o600, createNew: true });
    return key;
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return (await Deno.readTextFile(path)).trim();
    throw err;
  }
}
