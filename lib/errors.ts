/**
 * Domain errors: what went wrong in the domain's words. Services throw these; only the HTTP layer
 * (lib/http/error_handler.ts) knows which status each one answers with. Messages are sentences
 * a user can act on (`Cannot create app "shop": name is already in use`); `fields` name the
 * offending inputs in the API's dotted form.
 */
import type { ZodError } from "zod";

/** The base of every domain error; `code` is the stable machine-readable reason. */
export abstract class DomainError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The thing does not exist, or the caller may not know that it does. */
export class NotFound extends DomainError {
  constructor(message: string, code = "not_found") {
    super(message, code);
  }
}

/** The request contradicts the current state (a name in use, work already running). */
export class Conflict extends DomainError {
  constructor(message: string, code = "conflict", fields?: Record<string, string>) {
    super(message, code, fields);
  }
}

/** The input breaks a rule; `fields` say which inputs and why. */
export class Invalid extends DomainError {
  constructor(message: string, fields?: Record<string, string>, code = "validation") {
    super(message, code, fields);
  }
}

/** The caller may not do this (a role or scope too low for a field or an action). */
export class Forbidden extends DomainError {
  constructor(message: string, fields?: Record<string, string>, code = "forbidden") {
    super(message, code, fields);
  }
}

/** Something the request needs is down or unreachable right now; retrying later may work. */
export class Unavailable extends DomainError {
  constructor(message: string, code = "unavailable") {
    super(message, code);
  }
}

/** The cluster has no room for what was asked (no node with the requested capacity). */
export class InsufficientCapacity extends DomainError {
  constructor(message: string, fields?: Record<string, string>, code = "insufficient_capacity") {
    super(message, code, fields);
  }
}

/**
 * A quota of the organization would be exceeded (lib/quotas): not the cluster's room (that is
 * InsufficientCapacity) but a limit a platform admin set. `quota` names the resource, its limit,
 * what the organization uses now and what the request would add, in the resource's integer unit.
 */
export class QuotaExceeded extends DomainError {
  constructor(
    message: string,
    readonly quota: {
      resource: string;
      unit: string;
      limit: number;
      used: number;
      requested: number;
    },
    code = "quota_exceeded",
  ) {
    super(message, code, { [quota.resource]: message });
  }
}

/** The caller's credentials are missing, wrong or expired (a sign-in, an enrollment token). */
export class Unauthenticated extends DomainError {
  constructor(message: string, code = "unauthorized") {
    super(message, code);
  }
}

/**
 * The input is well-formed but cannot be accepted as it is: a signature that does not verify, a
 * file that does not match its manifest, a check nothing is configured to make.
 */
export class Rejected extends DomainError {
  constructor(message: string, code = "rejected", fields?: Record<string, string>) {
    super(message, code, fields);
  }
}

/** Too many attempts in a while; the message says when to try again. */
export class RateLimited extends DomainError {
  constructor(message: string, code = "rate_limited") {
    super(message, code);
  }
}

/** An Invalid naming each field with its message: `Invalid input: name, port`. */
export function invalidFields(fields: Record<string, string>): Invalid {
  return new Invalid(`Invalid input: ${Object.keys(fields).join(", ")}`, fields);
}

/**
 * An Invalid naming each offending input of a failed zod parse (the first message per field, `_`
 * for the value as a whole); under `prefix` the fields are `<prefix>.<path>` (the value as a
 * whole: `<prefix>`), for a value parsed as part of a larger body.
 */
export function invalidInput(error: ZodError, prefix?: string): Invalid {
  const fields: Record<string, string> = {};
  for (const issue of error.issues) {
    const path = prefix ? [prefix, ...issue.path] : issue.path;
    const key = path.length ? path.join(".") : "_";
    fields[key] ??= issue.message;
  }
  return invalidFields(fields);
}
