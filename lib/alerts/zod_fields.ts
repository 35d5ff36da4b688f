/** Zod issues in the API's field form, without the HTTP layer. */
import type { ZodError } from "zod";

/** One message per offending field, keyed by its dotted path ("_" for the input as a whole). */
export function issueFields(error: ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.length ? issue.path.join(".") : "_";
    fields[key] ??= issue.message;
  }
  return fields;
}
