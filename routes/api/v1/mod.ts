import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../../../lib/http/context.ts";
import * as system from "./system.ts";
import * as me from "./me.ts";
import * as orgs from "./orgs.ts";
import * as members from "./members.ts";
import * as tokens from "./tokens.ts";
import * as audit from "./audit.ts";
import * as users from "./users.ts";

/** Static registry of the v1 API's resource modules. */
export const apiModules: { register(app: OpenAPIHono<AppEnv>): void }[] = [
  system,
  me,
  orgs,
  members,
  tokens,
  audit,
  users,
];
