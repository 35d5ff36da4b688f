/**
 * `dump` mode (lib/protocol/snapshots.ts): a database's own dump tool runs inside the database's
 * container through the Engine's exec API (an argv array, never a shell) and its stdout is piped,
 * piece by piece with backpressure, into `restic backup --stdin` — nothing is buffered whole. The
 * dump counts only when the tool exits 0: the caller keeps restic's stdin open until then, so a
 * failed dump is killed with restic before restic could save it as a snapshot.
 */
import type * as z from "zod";
import type { DockerClient } from "../../lib/docker/client.ts";
import type { SnapshotCreateParams } from "../../lib/protocol/snapshots.ts";
import { OpError } from "../control.ts";

export type DumpSpec = NonNullable<z.output<typeof SnapshotCreateParams>["dump"]>;

/** The most of the tool's stderr kept for the error of a failed dump. */
const STDERR_TAIL_BYTES = 2048;
/** How long the exit code may lag behind the end of the output. */
const EXIT_CODE_WAIT_MS = 10_000;

/**
 * The tool's argv and the name of the file it becomes in the snapshot. `env` is the database
 * container's own environment (from its inspect), read for the defaults the official images set.
 */
export function dumpCommand(
  spec: DumpSpec,
  env: Record<string, string> = {},
): { cmd: string[]; filename: string; execEnv: Record<string, string> } {
  const db = spec.database;
  const name = (ext: string) => `${spec.engine}-${db ?? "all"}.${ext}`;
  if (spec.engine === "postgres") {
    // Inside the official image the local socket trusts its users; POSTGRES_USER is the superuser.
    const user = spec.user ?? env.POSTGRES_USER ?? "postgres";
    return {
      cmd: [
        "pg_dump",
        "--no-password",
        "--format=plain",
        `--username=${user}`,
        ...(db ?? env.POSTGRES_DB ? [`--dbname=${db ?? env.POSTGRES_DB}`] : []),
      ],
      filename: name("sql"),
      execEnv: {},
    };
  }
  if (spec.engine === "mysql") {
    const user = spec.user ?? "root";
    // mysqldump reads MYSQL_PWD, so the password the image was started with stays out of argv.
    const password = user === "root"
      ? env.MYSQL_ROOT_PASSWORD ?? env.MARIADB_ROOT_PASSWORD
      : user === (env.MYSQL_USER ?? env.MARIADB_USER)
      ? env.MYSQL_PASSWORD ?? env.MARIADB_PASSWORD
      : undefined;
    return {
      cmd: [
        "mysqldump",
        "--single-transaction",
        "--routines",
        "--triggers",
        "--events",
        `--user=${user}`,
        ...(db ? ["--databases", db] : ["--all-databases"]),
      ],
      filename: name("sql"),
      execEnv: password ? { MYSQL_PWD: password } : {},
    };
  }
  return {
    cmd: [
      "mongodump",
      "--archive",
      ...(db ? [`--db=${db}`] : []),
      ...(spec.user ? [`--username=${spec.user}`, "--authenticationDatabase=admin"] : []),
    ],
    filename: name("archive"),
    execEnv: {},
  };
}

/** The environment of a container's config as a record. */
function envRecord(list: string[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const i = kv.indexOf("=");
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** The dump about to run in `spec.container`: its argv, file name and environment. */
export async function prepareDump(docker: DockerClient, spec: DumpSpec) {
  const c = await docker.inspectContainer(spec.container, { signal: AbortSignal.timeout(30_000) });
  if (!c.State?.Running) {
    throw new OpError({
      status: 409,
      code: "conflict",
      message: `Cannot dump: container "${spec.container}" is not running`,
    });
  }
  return { id: c.Id, ...dumpCommand(spec, envRecord(c.Config?.Env)) };
}

/**
 * Runs the dump in container `id` and writes its stdout to `out` as it comes (each write awaited:
 * a slow restic slows the read of the exec stream, which slows the tool). Resolves with the bytes
 * written when the tool exited 0; throws `dump_failed` with its last stderr otherwise. Never
 * closes `out`: that is the caller's, after this resolved.
 */
export async function runDump(
  docker: DockerClient,
  dump: { id: string; cmd: string[]; execEnv: Record<string, string> },
  out: WritableStreamDefaultWriter<Uint8Array>,
  signal: AbortSignal,
): Promise<number> {
  const tool = dump.cmd[0];
  const exec = await docker.execCreate(dump.id, { cmd: dump.cmd, env: dump.execEnv }, { signal });
  const stream = await docker.execStart(exec.id, { signal });
  const stderr = new Uint8Array(STDERR_TAIL_BYTES);
  let errLen = 0;
  let bytes = 0;
  try {
    for await (const f of stream) {
      if (f.stream === "stdout") {
        await out.write(f.data);
        bytes += f.data.length;
      } else {
        // Keep the end of stderr: the reason comes last.
        const d = f.data.subarray(Math.max(0, f.data.length - stderr.length));
        const keep = Math.min(errLen, stderr.length - d.length);
        stderr.copyWithin(0, errLen - keep, errLen);
        stderr.set(d, keep);
        errLen = keep + d.length;
      }
    }
  } finally {
    await stream.close();
  }
  if (signal.aborted) throw signal.reason;
  const deadline = Date.now() + EXIT_CODE_WAIT_MS;
  for (;;) {
    const info = await docker.execInspect(exec.id, { signal });
    if (!info.Running && info.ExitCode !== null) {
      if (info.ExitCode === 0) return bytes;
      const said = new TextDecoder().decode(stderr.subarray(0, errLen)).trim().split("\n").at(-1);
      throw new OpError({
        status: 502,
        code: "dump_failed",
        message: `The database dump failed: ${tool} exited with ${info.ExitCode}${
          said ? ` (${said.slice(0, 500)})` : ""
        }`,
      });
    }
    if (Date.now() > deadline) {
      throw new OpError({
        status: 502,
        code: "dump_failed",
        message: `The database dump failed: ${tool}'s exit code did not arrive`,
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
