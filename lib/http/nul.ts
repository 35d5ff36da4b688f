/**
 * NUL characters in input. PostgreSQL cannot store U+0000 in text (it answers an encoding error
 * the hub could only report as a 500), and no name, id or message needs one, so the hub refuses
 * them at the edge with a 400 naming the field, the same on SQLite as on PostgreSQL.
 */
import { HttpError } from "./errors.ts";

/** The 400 for a NUL character in `field`. */
export function nulError(field: string): HttpError {
  return new HttpError(
    400,
    "validation",
    `Invalid input: ${field} contains a NUL character`,
    { [field]: "must not contain NUL characters" },
  );
}

/** The dotted path of the first string or key holding a NUL in a parsed JSON value, if any. */
export function nulPathIn(value: unknown, path: string[] = []): string | undefined {
  const here = () => (path.length ? path.join(".") : "body");
  if (typeof value === "string") return value.includes("\0") ? here() : undefined;
  if (typeof value !== "object" || value === null) return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (k.includes("\0")) return [...path, k.replaceAll("\0", "")].join(".") || "body";
    const found = nulPathIn(v, [...path, k]);
    if (found) return found;
  }
  return undefined;
}

/**
 * The field holding a NUL in a JSON text, if any. JSON spells NUL `\u0000`; the text is searched
 * first, so the common case costs one scan and no second parse. Invalid JSON is left to the route.
 */
export function nulPathInJson(text: string): string | undefined {
  if (!text.includes("\\u0000") && !text.includes("\0")) return undefined;
  try {
    return nulPathIn(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** The name of the first form or query entry whose name or text value holds a NUL, if any. */
export function nulFieldIn(
  entries: Iterable<[string, unknown]>,
  whole: string,
): string | undefined {
  for (const [k, v] of entries) {
    if (k.includes("\0") || (typeof v === "string" && v.includes("\0"))) {
      return k.replaceAll("\0", "") || whole;
    }
  }
  return undefined;
}
