import type { Handler, Hono } from "hono";
import type { AppEnv } from "./context.ts";
import { declare, guard, type Policy } from "./policy.ts";

/** Registers a server-rendered page or form handler behind its policy (deny by default: no policy, no route). */
export function page(
  app: Hono<AppEnv>,
  method: "GET" | "POST",
  path: string,
  policy: Policy,
  handler: Handler<AppEnv>,
): void {
  declare({ method, path, policy, kind: "page" });
  app.on(method, path, guard(policy), handler);
}
