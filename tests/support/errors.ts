import { toHttpError } from "../../lib/http/error_handler.ts";

/**
 * The HTTP status the API answers an error with: domain errors through the one mapping
 * (lib/http/error_handler.ts), so tests of services assert what a caller of the API would see.
 */
export function statusOf(err: unknown): number {
  return toHttpError(err).status;
}

/** A predicate for `assert.rejects`: the error answers with `status`. */
export function hasStatus(status: number): (err: unknown) => boolean {
  return (err) => statusOf(err) === status;
}
