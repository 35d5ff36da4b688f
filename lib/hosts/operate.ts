/**
 * The one path every Docker action of the hub takes: validate the parameters with the operation's
 * protocol schema (400 naming the field, before anything else), resolve the host inside the
 * caller's organization (404 for anyone else's), then run the operation on the host's agent inside
 * `audit.run`, so each attempt — including one refused because the host is offline — leaves one
 * audit row with its outcome and duration. The parameters are parsed once on the hub: the agent
 * connection recognises a value parsed here and does not parse it again (the agent checks its own).
 */
import type { AgentConnection } from "../agents/connection.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import type { ActionContext, AuditLog, AuditTarget } from "../audit/service.ts";
import { Conflict, Invalid, invalidInput } from "../errors.ts";
import { type CallOp, type OpName, type OpParams, parseOpParams } from "../protocol/ops.ts";
import type { Host, Hosts } from "./service.ts";

/** What operating a host needs from the services (narrow, so tests can pass fakes). */
export interface OperateDeps {
  hosts: Pick<Hosts, "get">;
  agents: Pick<AgentRegistry, "require">;
  audit: Pick<AuditLog, "run">;
}

/** Validates an operation's parameters as the agent will: Invalid naming the field on failure. */
export function validOp<O extends OpName>(op: O, params: OpParams<O>): OpParams<O> {
  const r = parseOpParams(op, params);
  if (!r) throw new Invalid(`Unknown operation "${op}"`, undefined, "unknown_op");
  if (!r.success) throw invalidInput(r.error);
  return r.data as OpParams<O>;
}

/**
 * Whether an agent call failed because the engine refused with a conflict (a resource in use, a
 * running container). The agent connection reports engine refusals with an HTTP-style status.
 */
export function isConflict(err: unknown): boolean {
  return err instanceof Conflict ||
    (err instanceof Error && (err as { status?: unknown }).status === 409);
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

/** Who acts on which host, and how the action is audited. */
export interface AuditedAction<T> {
  ctx: ActionContext;
  orgId: string;
  hostId: string;
  /** The audit action, like `container.started`. */
  action: string;
  target: AuditTarget;
  metadata?: Record<string, unknown>;
  /** Target or metadata known only from the result (the id of a created container). */
  after?: (result: T) => { target?: AuditTarget; metadata?: Record<string, unknown> };
  /** Turns an agent error into a clearer one; the audit row records the clearer message. */
  mapError?: (err: unknown) => unknown | Promise<unknown>;
}

/**
 * Runs `run` against a host's agent as one audited action. A host outside `orgId` is a 404 before
 * anything is recorded; from there on every outcome (503 offline, 409 conflict, success) writes one
 * row with its duration. `run` may make several calls (look up, then act) that count as one action.
 */
export async function operateWith<T>(
  deps: OperateDeps,
  a: AuditedAction<T> & { run: (conn: AgentConnection) => Promise<T> },
): Promise<T> {
  const host = await deps.hosts.get(a.orgId, a.hostId);
  return await deps.audit.run<T>(a.ctx, a.action, {
    orgId: a.orgId,
    target: a.target,
    metadata: { host_id: host.id, host_name: host.name, ...a.metadata },
    after: a.after,
  }, async () => {
    try {
      return await a.run(deps.agents.require(host.id));
    } catch (err) {
      throw a.mapError ? await a.mapError(err) : err;
    }
  });
}

/** One operation of the closed list, with its parameters, run as an audited action. */
export interface Operation<T, O extends CallOp> extends AuditedAction<T> {
  op: O;
  params: OpParams<O>;
  timeoutMs?: number;
}

/**
 * Runs one state-changing operation of the closed list on a host, audited as `action`. Invalid
 * parameters are a 400 naming the field before the host is even looked up.
 */
export async function operate<T, O extends CallOp = CallOp>(
  deps: OperateDeps,
  o: Operation<T, O>,
): Promise<T> {
  const valid = validOp(o.op, o.params);
  return await operateWith(deps, {
    ...o,
    run: (conn) => conn.call<T>(o.op, valid, o.timeoutMs),
  });
}
