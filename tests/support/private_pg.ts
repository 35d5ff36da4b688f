/**
 * A PostgreSQL server of the test's own: initdb into a temp dir as the `postgres` user, started and
 * stopped with pg_ctl on a free loopback port and a private socket dir. Fault-injection tests stop
 * and start it; the machine's shared cluster (other suites use it) is never touched.
 */
import { join } from "node:path";

const BIN = Deno.env.get("CAPSTAN_PG_BIN") ?? "/usr/lib/postgresql/15/bin";

/** Why a private server cannot run here, or null (the binaries and a `postgres` user are needed). */
export function privatePgMissing(): string | null {
  try {
    Deno.statSync(join(BIN, "initdb"));
  } catch {
    return `${BIN}/initdb not found (apt-get install postgresql, or set CAPSTAN_PG_BIN)`;
  }
  return postgresIds() ? null : "no postgres user in /etc/passwd";
}

function postgresIds(): { uid: number; gid: number } | undefined {
  const line = Deno.readTextFileSync("/etc/passwd").split("\n").find((l) =>
    l.startsWith("postgres:")
  );
  if (!line) return undefined;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** Runs a PostgreSQL binary as the postgres user (the server refuses to run as root). */
async function asPostgres(bin: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("setpriv", {
    args: ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", join(BIN, bin), ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${bin} ${args.join(" ")} failed: ${text}`);
  return text;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A running private server: URLs to reach it, and stop/start/remove. */
export interface PrivatePg {
  port: number;
  /** Directory holding its Unix socket (`.s.PGSQL.<port>`). */
  socketDir: string;
  /** `postgres://capstan@127.0.0.1:<port>/capstan` (trust authentication, loopback only). */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /**
   * Stops the server's processes with SIGSTOP (this test started them): connections stay open and
   * nothing answers — a hung server, not a stopped one. `thaw()` resumes them.
   */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** Stops it (if running) and deletes its files. */
  remove(): Promise<void>;
}

/** Creates and starts a private server with a superuser `capstan` and a database `capstan`. */
export async function startPrivatePg(): Promise<PrivatePg> {
  const ids = postgresIds();
  if (!ids) throw new Error("no postgres user");
  const root = await Deno.makeTempDir({ prefix: "capstan-pg-" });
  await Deno.chown(root, ids.uid, ids.gid);
  const dataDir = join(root, "data");
  const socketDir = join(root, "run");
  await Deno.mkdir(socketDir);
  await Deno.chown(socketDir, ids.uid, ids.gid);
  const port = freePort();
  await asPostgres("initdb", [
    "-D",
    dataDir,
    "-U",
    "capstan",
    "-A",
    "trust",
    "--no-sync",
    "-E",
    "UTF8",
  ]);
  let running = false;
  const start = async () => {
    await asPostgres("pg_ctl", [
      "-D",
      dataDir,
      "-l",
      join(root, "server.log"),
      "-o",
      `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "-w",
      "-t",
      "60",
      "start",
    ]);
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    await asPostgres("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "-t", "60", "stop"]);
    running = false;
  };
  /** The postmaster and its children (backends, background workers). */
  const processes = async () => {
    const pid = Number((await Deno.readTextFile(join(dataDir, "postmaster.pid"))).split("\n")[0]);
    const children = await Deno.readTextFile(`/proc/${pid}/task/${pid}/children`).catch(() => "");
    return [pid, ...children.trim().split(/\s+/).filter(Boolean).map(Number)];
  };
  const signal = async (sig: Deno.Signal) => {
    for (const pid of await processes()) {
      try {
        Deno.kill(pid, sig);
      } catch {
        // Exited meanwhile (a backend whose client went away).
      }
    }
  };
  await start();
  await asPostgres("createdb", ["-h", socketDir, "-p", String(port), "-U", "capstan", "capstan"]);
  return {
    port,
    socketDir,
    url: `postgres://capstan@127.0.0.1:${port}/capstan`,
    stop,
    start,
    freeze: () => signal("SIGSTOP"),
    thaw: () => signal("SIGCONT"),
    async remove() {
      try {
        await signal("SIGCONT").catch(() => {});
        await stop();
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  };
}
