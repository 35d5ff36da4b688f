import { z } from "zod";
import { isCommonPassword, isOneRepeatedCharacter } from "./common_passwords.ts";

/** Input schemas shared by API routes, page forms and admin tasks. */
export const emailSchema = z.email({ error: "must be a valid email address" }).max(254).transform((
  s,
) => s.trim().toLowerCase());
export const passwordSchema = z.string().min(10, "must be at least 10 characters").max(
  256,
  "must be at most 256 characters",
).refine((p) => !isOneRepeatedCharacter(p), {
  message: "must not be one character repeated",
  abort: true,
}).refine((p) => !isCommonPassword(p), {
  message: "is too common: it is on lists of leaked passwords that attackers try first",
});
export const nameSchema = z.string().trim().min(1, "is required").max(
  100,
  "must be at most 100 characters",
);
export const orgRoleSchema = z.enum(["owner", "admin", "member", "viewer"]);
export const slugSchema = z.string().trim().toLowerCase().regex(
  /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/,
  "must be 1-40 lowercase letters, digits or dashes, not starting or ending with a dash",
);
