import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./context.ts";
import { HttpError } from "./errors.ts";
import {
  Conflict,
  DomainError,
  Forbidden,
  InsufficientCapacity,
  Invalid,
  NotFound,
  QuotaExceeded,
  RateLimited,
  Rejected,
  Unauthenticated,
  Unavailable,
} from "../errors.ts";

/** The status each domain error answers with: the one place the domain meets HTTP. */
function domainStatus(err: DomainError): HttpError["status"] {
  if (err instanceof NotFound) return 404;
  if (err instanceof Conflict) return 409;
  // An org's limit, not the cluster's room (507): the request may pass once the org uses less.
  if (err instanceof QuotaExceeded) return 409;
  if (err instanceof Invalid) return 400;
  if (err instanceof Forbidden) return 403;
  if (err instanceof Unavailable) return 503;
  if (err instanceof InsufficientCapacity) return 507;
  if (err instanceof Unauthenticated) return 401;
  if (err instanceof Rejected) return 422;
  if (err instanceof RateLimited) return 429;
  return 500;
}
import { isApiPath } from "./paths.ts";

/** Turns anything thrown into an HttpError; unexpected errors become an opaque 500. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof DomainError) {
    return new HttpError(
      domainStatus(err),
      err.code,
      err.message,
      err.fields,
      err instanceof QuotaExceeded ? { quota: err.quota } : undefined,
    );
  }
  if (err instanceof HTTPException) {
    // Hono raises these for malformed JSON bodies and similar protocol errors.
    const status = err.status === 413 ? 413 : err.status >= 500 ? 500 : 400;
    return new HttpError(
      status,
      status === 413 ? "payload_too_large" : "bad_request",
      err.message || "Bad request",
    );
  }
  return new HttpError(500, "internal", "Internal error; the hub log has details");
}

/**
 * The one place errors become responses: JSON under /api, an HTML page elsewhere (rendered by
 * `renderErrorPage`, injected so this module stays free of UI code).
 */
export function errorHandler(
  renderErrorPage: (
    err: HttpError,
    c: Parameters<ErrorHandler<AppEnv>>[1],
  ) => Response | Promise<Response>,
): ErrorHandler<AppEnv> {
  return (err, c) => {
    const e = toHttpError(err);
    if (e.status === 500) {
      c.var.services?.log.error("unhandled error", {
        path: c.req.path,
        error: String(err),
        stack: (err as Error)?.stack,
      });
    }
    if (isApiPath(c.req.path)) {
      if (e.status === 429) c.header("Retry-After", "60");
      return c.json(e.toJSON(), e.status);
    }
    return renderErrorPage(e, c);
  };
}

/** 404 for unknown paths, through the same mapping. */
export const notFoundHandler: NotFoundHandler<AppEnv> = () => {
  throw new HttpError(404, "not_found", "No such page or endpoint");
};
