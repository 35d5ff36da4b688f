/**
 * A real Docker registry for tests: Debian's `docker-registry` (distribution 2.8) on a loopback
 * port with its storage in a temporary directory, optionally behind htpasswd (bcrypt) basic auth.
 * The engine talks plain HTTP to 127.0.0.0/8 without configuration (DESIGN §6).
 */
import bcrypt from "bcryptjs";
import { freePort, until } from "./process.ts";

/** A running registry. */
export interface TestRegistry {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** `127.0.0.1:<port>`, the registry part of an image reference. */
  host: string;
  close(): Promise<void>;
}

/** Starts a registry; with `htpasswd` it answers 401 to anyone without that user's password. */
export async function startRegistry(
  opts: { htpasswd?: { user: string; password: string } } = {},
): Promise<TestRegistry> {
  const dir = await Deno.makeTempDir({ prefix: "capstan-registry-" });
  const port = freePort();
  const host = `127.0.0.1:${port}`;
  const auth = opts.htpasswd
    ? `auth:\n  htpasswd:\n    realm: capstan-test\n    path: ${dir}/htpasswd\n`
    : "";
  if (opts.htpasswd) {
    const hash = bcrypt.hashSync(opts.htpasswd.password, 8);
    await Deno.writeTextFile(`${dir}/htpasswd`, `${opts.htpasswd.user}:${hash}\n`);
  }
  await Deno.writeTextFile(
    `${dir}/config.yml`,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${dir}/data`,
      "http:",
      `  addr: ${host}`,
      `  secret: ${crypto.randomUUID()}`,
      auth,
    ].join("\n"),
  );
  const child = new Deno.Command("docker-registry", {
    args: ["serve", `${dir}/config.yml`],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const logDone = (async () => {
    for await (const c of child.stderr.pipeThrough(new TextDecoderStream())) {
      log = (log + c).slice(-8192);
    }
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const close = async () => {
    if (!exited) child.kill("SIGTERM");
    await status;
    await logDone.catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await until(
      "the registry to answer /v2/",
      async () => {
        if (exited) throw new Error(`docker-registry exited: ${log}`);
        try {
          const r = await fetch(`http://${host}/v2/`);
          await r.body?.cancel();
          return r.status === 200 || r.status === 401;
        } catch {
          return false;
        }
      },
      30_000,
      100,
    );
  } catch (err) {
    await close();
    throw err;
  }
  return { url: `http://${host}`, host, close };
}
