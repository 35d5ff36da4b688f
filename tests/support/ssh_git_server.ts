/**
 * A Git server over SSH for tests: Debian's OpenSSH server (`/usr/sbin/sshd -D -e -f CONFIG`) on a
 * loopback port, with its own freshly generated host key and one authorized key, serving the bare
 * repositories under `root` to the current user (tests run as root). Nothing of the machine's own
 * sshd configuration or host keys is used.
 */
import { join } from "node:path";
import { userInfo } from "node:os";
import { freePort, until } from "./process.ts";

/** Options of the test SSH Git server. */
export interface SshGitServerOptions {
  /** The public key line ("ssh-ed25519 AAAA… comment") allowed to log in. */
  authorizedKey: string;
  /** Folder holding the bare repositories. */
  root: string;
  /** Listen on this port (to restart a server on the same address with a new host key). */
  port?: number;
  /** Also serve SFTP (OpenSSH's internal-sftp), e.g. as a restic sftp target. */
  sftp?: boolean;
}

/** A running test SSH server. */
export interface SshGitServer {
  /** The clone URL of `<root>/<repo>`: `ssh://USER@127.0.0.1:PORT/<root>/<repo>`. */
  url(repo: string): string;
  port: number;
  /** The host key's public line ("ssh-ed25519 AAAA…"). */
  hostKey: string;
  /** The host key's fingerprint ("SHA256:…") as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** What sshd wrote to stderr (for a failing test's message). */
  log(): string;
  close(): Promise<void>;
}

async function run(cmd: string, args: string[]): Promise<string> {
  const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!r.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(r.stderr)}`);
  return dec.decode(r.stdout);
}

/** Starts sshd on 127.0.0.1 and waits until it accepts connections. */
export async function startSshGitServer(opts: SshGitServerOptions): Promise<SshGitServer> {
  const dir = await Deno.makeTempDir({ prefix: "capstan-sshd-" });
  const user = userInfo().username;
  const port = opts.port ?? freePort();
  const hostKeyFile = join(dir, "host_ed25519");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", hostKeyFile]);
  const hostKey = (await Deno.readTextFile(`${hostKeyFile}.pub`)).trim();
  const fingerprint = (await run("ssh-keygen", ["-l", "-E", "sha256", "-f", `${hostKeyFile}.pub`]))
    .split(" ")[1];
  // "restrict": no pty, no forwarding, no agent: the key can run git's commands and nothing else.
  await Deno.writeTextFile(
    join(dir, "authorized_keys"),
    `restrict ${opts.authorizedKey.trim()}\n`,
    {
      mode: 0o600,
    },
  );
  const config = join(dir, "sshd_config");
  await Deno.writeTextFile(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKeyFile}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      `AllowUsers ${user}`,
      "PermitRootLogin prohibit-password",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "LogLevel VERBOSE",
      ...(opts.sftp ? ["Subsystem sftp internal-sftp"] : []),
      "",
    ].join("\n"),
  );
  // sshd refuses to start without its privilege separation directory.
  await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const child = new Deno.Command("/usr/sbin/sshd", {
    args: ["-D", "-e", "-f", config],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const drained = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({
      write(s) {
        stderr = (stderr + s).slice(-64_000);
      },
    }),
  );
  let exited = false;
  child.status.then(() => exited = true);
  const close = async () => {
    if (!exited) child.kill("SIGTERM");
    await child.status;
    await drained.catch(() => {});
    await Deno.remove(dir, { recursive: true });
  };
  try {
    await until("sshd to listen", async () => {
      if (exited) throw new Error(`sshd exited: ${stderr}`);
      if (!/Server listening on 127\.0\.0\.1/.test(stderr)) return false;
      const conn = await Deno.connect({ hostname: "127.0.0.1", port }).catch(() => null);
      conn?.close();
      return conn !== null;
    }, 60_000);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    url: (repo) => `ssh://${user}@127.0.0.1:${port}${join(opts.root, repo)}`,
    port,
    hostKey,
    hostKeyFingerprint: fingerprint,
    log: () => stderr,
    close,
  };
}
