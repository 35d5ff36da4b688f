/**
 * Helpers shared by the page handlers: reading forms, turning zod and service errors into
 * per-field messages, and redirect targets that can only stay on this site.
 */
import { z } from "zod";
import type { AppContext } from "../lib/http/context.ts";
import { HttpError } from "../lib/http/errors.ts";
import { toHttpError } from "../lib/http/error_handler.ts";
import { DomainError } from "../lib/errors.ts";

/** Submitted form values as strings (files are dropped: no page form takes uploads). */
export type FormValues = Record<string, string>;
/** Field name → message; `_form` holds a message that belongs to no single field. */
export type FieldErrors = Record<string, string>;

/** Reads a urlencoded or multipart body; anything else (JSON, empty) reads as no fields. */
export async function readForm(c: AppContext): Promise<FormValues> {
  const type = c.req.header("content-type") ?? "";
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return {};
  const body = await c.req.parseBody();
  const out: FormValues = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
  return out;
}

/** Query parameters of the request as a plain record (first value of each name). */
export function queryValues(c: AppContext): FormValues {
  const out: FormValues = {};
  for (const [k, v] of new URL(c.req.url).searchParams) out[k] ??= v;
  return out;
}

/**
 * Links of a filtered list page: `href(extra)` is the page with its filters (the named, non-blank
 * query values) and `extra` on top, e.g. `href({ before: cursor })` for "Older"; `active` says
 * whether any filter is set (for the empty state's wording).
 */
export function filterLinks(
  path: string,
  values: FormValues,
  names: readonly string[],
): { href: (extra?: Record<string, string>) => string; active: boolean } {
  const filters = new URLSearchParams();
  for (const k of names) if (values[k]?.trim()) filters.set(k, values[k]);
  const href = (extra: Record<string, string> = {}) => {
    const q = new URLSearchParams(filters);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  };
  return { href, active: filters.size > 0 };
}

/**
 * Validates form values with a zod schema. Blank fields count as absent, because a browser sends
 * every input of a form, filled or not, and "optional" must mean "may be left blank".
 */
export function parseForm<T extends z.ZodType>(
  schema: T,
  values: FormValues,
): { ok: true; data: z.infer<T> } | { ok: false; errors: FieldErrors } {
  const input: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v.trim() !== "") input[k] = v;
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, data: r.data };
  const errors: FieldErrors = {};
  for (const issue of r.error.issues) {
    const key = issue.path.length ? issue.path.map(String).join(".") : "_form";
    const missing = issue.path.length > 0 && input[String(issue.path[0])] === undefined;
    errors[key] ??= missing && issue.code === "invalid_type" ? "is required" : issue.message;
  }
  return { ok: false, errors };
}

/** Messages of a service error for a form: its per-field messages, or one form-level message. */
export function errorsOf(err: HttpError, field?: string): FieldErrors {
  if (err.fields && Object.keys(err.fields).length) return { ...err.fields };
  return { [field ?? "_form"]: err.message };
}

/**
 * An error as the HTTP layer answers it: an HttpError, or a domain error mapped the way the API
 * maps it (so a page shows the same status and message); undefined for anything else.
 */
export function httpErrorOf(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof DomainError) return toHttpError(err);
  return undefined;
}

/** Re-throws anything that is not an error a form should show (500s go to the error page). */
export function formError(err: unknown): HttpError {
  const e = httpErrorOf(err);
  if (e && e.status < 500 && e.status !== 401) return e;
  throw err;
}

const SAME = "http://same-origin.invalid";

/** Backslashes (browsers read `/\host` as `//host`) and control characters (header injection). */
function unsafeChar(ch: string): boolean {
  const code = ch.charCodeAt(0);
  return ch === "\\" || code < 0x20 || code === 0x7f;
}

/**
 * A redirect target that stays on this hub: a normalised path starting with one "/", or
 * `fallback`. `//evil.example`, `/\evil.example`, `https://…`, control characters, and dot
 * segments that normalise to `//evil.example` (`/.//evil.example`, `/..//evil.example`) are refused.
 */
export function safePath(raw: unknown, fallback = "/"): string {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 2000) return fallback;
  if (!raw.startsWith("/") || raw.startsWith("//") || [...raw].some(unsafeChar)) return fallback;
  let url: URL;
  try {
    url = new URL(raw, SAME);
  } catch {
    return fallback;
  }
  // Dot segments are resolved by the parser, so `/.//x` only shows its `//x` afterwards.
  if (url.origin !== SAME || url.pathname.startsWith("//")) return fallback;
  return url.pathname + url.search + url.hash;
}

/** Whether cookies must be Secure: the request or the configured public URL is https. */
export function isHttps(c: AppContext): boolean {
  return new URL(c.req.url).protocol === "https:" ||
    c.var.services.config.publicUrl.startsWith("https:");
}

/** `datetime-local` input, read as UTC (the hub cannot know the browser's zone without JS). */
export const localTime = z.string().regex(
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/,
  "must be a date and time",
).transform((s, ctx) => {
  const ms = Date.parse(`${s}Z`);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: "must be a date and time" });
    return z.NEVER;
  }
  return { ms, minutePrecision: s.length === 16 };
});
