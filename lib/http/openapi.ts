import { createRoute, OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { AppEnv } from "./context.ts";
import { validationError } from "./errors.ts";
import { declare, guard, type GuardOptions, type Policy } from "./policy.ts";

/** The JSON error body every API error uses. */
export const ErrorSchema = z.object({
  error: z.object({
    code: z.string().openapi({ example: "validation" }),
    message: z.string(),
    fields: z.record(z.string(), z.string()).optional(),
  }),
}).openapi("Error");

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

/** Standard error responses documented on every authenticated route. */
export const STANDARD_ERRORS = {
  400: errorResponse("Invalid input; `fields` names each offending field"),
  401: errorResponse("No or invalid credentials"),
  403: errorResponse("Role or token scope below the route's policy"),
  404: errorResponse("Not found, or belongs to another organization"),
} as const;

const AUTHENTICATED: Record<string, string[]>[] = [{ bearer: [] }, { session: [] }];

/** `{org}` style OpenAPI path to Hono's `:org` style. */
export function toHonoPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

/**
 * Creates an OpenAPI route whose first middleware enforces `policy`, and records the policy for the
 * route-walk test. Every API route goes through here.
 */
export function apiRoute<R extends Omit<RouteConfig, "middleware">>(
  policy: Policy,
  config: R,
  opts: GuardOptions = {},
) {
  declare({
    method: config.method.toUpperCase(),
    path: toHonoPath(config.path),
    policy,
    kind: "api",
  });
  return createRoute({
    ...config,
    middleware: [guard(policy, opts)] as const,
    security: policy === "public" ? [] : AUTHENTICATED,
    responses: { ...(policy === "public" ? {} : STANDARD_ERRORS), ...config.responses },
  });
}

/** An OpenAPIHono app whose validation failures become the standard 400 with fields. */
export function createApiApp(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });
}

export { z };
