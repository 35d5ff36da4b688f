/**
 * POSIX `join`, `normalize` and `tmpdir` as node:path and node:os give them, without importing
 * them: any `node:` module makes Deno start its Node compatibility layer, some 2–3 MB of V8 heap
 * and 3 MB more of the runtime's code resident in every agent (issue 20: a steady agent under
 * 60 MB). agent/imports_test.ts keeps `node:` imports out of the agent's start.
 */

/** node's posix normalizeString: resolves `.` and `..` segments, drops empty ones. */
function normalizeSegments(path: string, allowAboveRoot: boolean): string {
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length && out[out.length - 1] !== "..") out.pop();
      else if (allowAboveRoot) out.push("..");
      continue;
    }
    out.push(seg);
  }
  return out.join("/");
}

/** As node:path's posix `normalize`. */
export function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const trailing = path.endsWith("/");
  let p = normalizeSegments(path, !absolute);
  if (p === "" && !absolute) p = ".";
  if (p !== "" && trailing) p += "/";
  return absolute ? `/${p}` : p;
}

/** As node:path's posix `join`. */
export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/** As node:os `tmpdir()` on POSIX: TMPDIR, TMP or TEMP, else /tmp, without a trailing slash. */
export function tmpdir(env: (name: string) => string | undefined = (n) => Deno.env.get(n)): string {
  const dir = env("TMPDIR") || env("TMP") || env("TEMP") || "/tmp";
  return dir.length > 1 && dir.endsWith("/") ? dir.slice(0, -1) : dir;
}

/** As node:path's posix `dirname` (its algorithm, "//a" → "//" included). */
export function dirname(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  let end = -1;
  let inTrailingSlashes = true;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path[i] === "/") {
      if (!inTrailingSlashes) {
        end = i;
        break;
      }
    } else inTrailingSlashes = false;
  }
  if (end === -1) return absolute ? "/" : ".";
  if (absolute && end === 1) return "//";
  return path.slice(0, end);
}
