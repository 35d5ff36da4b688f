/**
 * The island registry mechanism: a static map from island name to its source file.
 *
 * Static rather than a folder scan (DESIGN §4) so SSR, the bundler and the type checker all see
 * the same closed list, and a typo in an island name is a compile error, not a blank widget.
 */

/** Source path of an island, relative to the project root. */
export type IslandPath = `islands/${string}.tsx` | `islands/${string}.ts`;

/** Island names become file names and HTML attribute values, so keep them identifier-like. */
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PATH_RE = /^islands\/(?:[A-Za-z0-9_-]+\/)*[A-Za-z0-9_-]+\.tsx?$/;

/** Declares the island registry; validates names and paths once at module load. */
export function defineIslands<const T extends Record<string, IslandPath>>(map: T): Readonly<T> {
  for (const [name, path] of Object.entries(map)) {
    if (!NAME_RE.test(name)) {
      throw new Error(
        `Cannot register island "${name}": name must match ${NAME_RE} (it becomes a file name)`,
      );
    }
    if (!PATH_RE.test(path)) {
      throw new Error(
        `Cannot register island "${name}": path "${path}" must be a .ts/.tsx file under islands/`,
      );
    }
  }
  return Object.freeze({ ...map });
}
