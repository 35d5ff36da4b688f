/**
 * Validation messages people read: zod's defaults ("Too small: expected string to have >=16
 * characters") are written for developers, and they reach forms and API errors alike. This error
 * map says the same as a sentence that follows the field's name ("must be at least 16 characters");
 * a schema's own message (`.regex(re, "must look like key=value")`) still wins over it.
 */
import * as z from "zod";

type Issue = Parameters<z.core.$ZodErrorMap>[0];

const ANY_TYPE: Record<string, string> = {
  number: "a number",
  int: "a whole number",
  string: "text",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  date: "a date",
};

/** The sentence for a size limit: "at least 16 characters", "at most 20 items", "at least 1". */
function limit(origin: string, n: number | bigint, words: [string, string]): string {
  const [word, strictWord] = words;
  if (origin === "string") return `${word} ${n} ${n === 1 ? "character" : "characters"}`;
  if (origin === "array" || origin === "set") return `${word} ${n} ${n === 1 ? "item" : "items"}`;
  return origin === "date" ? `${strictWord} ${new Date(Number(n)).toISOString()}` : `${word} ${n}`;
}

/** A sentence for an issue zod would describe in its own words; undefined keeps zod's. */
export function sentenceFor(issue: Issue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined || issue.input === null) return "is required";
      return `must be ${ANY_TYPE[issue.expected] ?? issue.expected}`;
    case "too_small":
      if (issue.origin === "string" && Number(issue.minimum) === 1) return "is required";
      if (issue.exact) {
        return `must be exactly ${limit(issue.origin, issue.minimum, ["", ""]).trim()}`;
      }
      return issue.inclusive === false
        ? `must be more than ${issue.minimum}`
        : `must be ${limit(issue.origin, issue.minimum, ["at least", "on or after"])}`;
    case "too_big":
      if (issue.exact) {
        return `must be exactly ${limit(issue.origin, issue.maximum, ["", ""]).trim()}`;
      }
      return issue.inclusive === false
        ? `must be less than ${issue.maximum}`
        : `must be ${limit(issue.origin, issue.maximum, ["at most", "on or before"])}`;
    case "invalid_format":
      if (issue.format === "email") return "must be an email address";
      if (issue.format === "url") return "must be a URL";
      if (issue.format === "uuid") return "must be an id";
      return "is not in the expected format";
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "unrecognized_keys":
      return `has unknown ${issue.keys.length === 1 ? "field" : "fields"}: ${
        issue.keys.join(", ")
      }`;
    default:
      return undefined;
  }
}

let installed = false;

/** Makes every zod message without one of its own a sentence (once per process). */
export function useSentenceMessages(): void {
  if (installed) return;
  installed = true;
  z.config({ customError: (issue) => sentenceFor(issue) });
}
