/**
 * The one path every Docker action of the hub takes: validate the parameters with the operation's
 * protocol schema (400 naming the field, before anything else), resolve the host inside the
 * caller's organization (404 for anyone else's), then run the operation on the host's agent inside
 * `audit.run`, so each attempt — including one refused because the host is offline — leaves one
 * audit row with its outcome and duration.
 */
import type { AgentConnection } from "../agents/connection.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import type { ActionContext, AuditLog, AuditTarget } from "../audit/service.ts";
import { HttpError, validationError } from "../http/errors.ts";
import { type CallOp, type OpName, type OpParams, opSchema } from "../protocol/ops.ts";
import type { Host, Hosts } from "./service.ts";

/** What operating a host needs from the services (narrow, so tests can pass fakes). */
export interface OperateDeps {
  hosts: Pick<Hosts, "get">;
  agents: Pick<AgentRegistry, "require">;
  audit: Pick<AuditLog, "run">;
}

/** Validates an operation's parameters as the agent will: 400 naming the field on failure. */
export function validOp<O extends OpName>(op: O, params: OpParams<O>): OpParams<O> {
  const schema = opSchema(op);
  if (!schema) throw new HttpError(400, "unknown_op", `Unknown operation "${op}"`);
  const r = schema.safeParse(params ?? {});
  if (!r.success) throw validationError(r.error);
  return r.data as OpParams<O>;
}

/** A host of the organization and its live agent: 404 for other organizations, 503 when offline. */
export async function reach(
  deps: Pick<OperateDeps, "hosts" | "agents">,
  orgId: string,
  hostId: string,
): Promise<{ host: Host; conn: AgentConnection }> {
  const host = await deps.hosts.get(orgId, hostId);
  return { host, conn: deps.agents.require(host.id) };
}

/** Runs a read-only operation on a host's agent (reads are not audited). */
export async function query<T, O extends CallOp = CallOp>(
  deps: Pick<OperateDeps, "hosts" | "agents">,
  orgId: string,
  hostId: string,
  op: O,
  params: OpParams<O>,
): Promise<T> {
  const valid = validOp(op, params);
  const { conn } = await reach(deps, orgId, hostId);
  return await conn.call<T>(op, valid);
}

/** Options of {@link operate}. */
export interface OperateOptions<T> {
  metadata?: Record<string, unknown>;
  /** Target or metadata known only from the result (the id of a created container). */
  after?: (result: T) => { target?: AuditTarget; metadata?: Record<string, unknown> };
  /** Turns an agent error into a clearer one; the audit row records the clearer message. */
  mapError?: (err: unknown) => unknown | Promise<unknown>;
  timeoutMs?: number;
}

/**
 * Runs `run` against a host's agent as one audited action. A host outside `orgId` is a 404 before
 * anything is recorded; from there on every outcome (503 offline, 409 conflict, success) writes one
 * row with its duration. `run` may make several calls (look up, then act) that count as one action.
 */
export async function operateWith<T>(
  deps: OperateDeps,
  ctx: ActionContext,
  orgId: string,
  hostId: string,
  action: string,
  target: AuditTarget,
  run: (conn: AgentConnection) => Promise<T>,
  opts: OperateOptions<T> = {},
): Promise<T> {
  const host = await deps.hosts.get(orgId, hostId);
  return await deps.audit.run<T>(ctx, action, {
    orgId,
    target,
    metadata: { host_id: host.id, host_name: host.name, ...opts.metadata },
    after: opts.after,
  }, async () => {
    try {
      return await run(deps.agents.require(host.id));
    } catch (err) {
      throw opts.mapError ? await opts.mapError(err) : err;
    }
  });
}

/**
 * Runs one state-changing operation of the closed list on a host, audited as `action`. Invalid
 * parameters are a 400 naming the field before the host is even looked up.
 */
export async function operate<T, O extends CallOp = CallOp>(
  deps: OperateDeps,
  ctx: ActionContext,
  orgId: string,
  hostId: string,
  action: string,
  target: AuditTarget,
  op: O,
  params: OpParams<O>,
  opts: OperateOptions<T> = {},
): Promise<T> {
  const valid = validOp(op, params);
  return await operateWith(
    deps,
    ctx,
    orgId,
    hostId,
    action,
    target,
    (conn) => conn.call<T>(op, valid, opts.timeoutMs),
    opts,
  );
}
