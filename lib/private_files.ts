/**
 * The hub's files are for the hub's user alone: the data dir holds the database, the secret key
 * and the setup token, so it is 0700, and a SQLite database (with its -wal/-shm/-journal files,
 * which SQLite creates with the database file's mode) is 0600, also when an older hub left them
 * readable by everyone.
 */
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";

const SQLITE_SIDE_FILES = ["-wal", "-shm", "-journal"];

function chmodIfNeeded(path: string, mode: number): void {
  const current = Deno.statSync(path).mode;
  // On systems without POSIX modes there is nothing to tighten.
  if (current !== null && (current & 0o777) !== mode) Deno.chmodSync(path, mode);
}

/** Creates `dir` (and its parents) if needed and makes it 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodIfNeeded(dir, 0o700);
}

/** Creates the SQLite file at `path` as 0600 before SQLite does (so its side files follow), and tightens existing ones. */
export function ensurePrivateSqliteFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  if (!existsSync(path)) closeSync(openSync(path, "a", 0o600));
  for (const file of [path, ...SQLITE_SIDE_FILES.map((s) => path + s)]) {
    if (existsSync(file)) chmodIfNeeded(file, 0o600);
  }
}
