import type { ZodError } from "zod";
import { invalidInput } from "../errors.ts";

/** The one error type of the HTTP surface; `app.onError` maps it to a JSON body or an error page. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 503 | 507,
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string>,
    /** More of the error's own shape, beside code and message (a quota's numbers). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** JSON body as documented: `{"error":{"code","message","fields"}}`. */
  toJSON() {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.fields ? { fields: this.fields } : {}),
        ...this.extra,
      },
    };
  }
}

/** A 400 with one message per offending field, from a zod error. */
export function validationError(error: ZodError): HttpError {
  const e = invalidInput(error);
  return new HttpError(400, e.code, e.message, e.fields);
}

export const notFound = (what = "resource") => new HttpError(404, "not_found", `${what} not found`);
export const unauthorized = () =>
  new HttpError(401, "unauthorized", "Sign in or send a bearer token");
export const forbidden = (why = "Your role does not allow this action") =>
  new HttpError(403, "forbidden", why);
export const conflict = (message: string) => new HttpError(409, "conflict", message);
