import type { Context, Hono } from "hono";
import type { AppEnv } from "../lib/http/context.ts";
import type { HttpError } from "../lib/http/errors.ts";

/** Registers every page route (placeholder until the UI lands). */
export function registerPages(_app: Hono<AppEnv>): void {}

/** Error page for non-API paths. */
export function renderErrorPage(err: HttpError, c: Context<AppEnv>): Response {
  return c.text(`${err.status} ${err.message}`, err.status);
}
