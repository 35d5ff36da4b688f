/**
 * A health check's row and the shapes made from it: the API's view, the spec a row holds, the
 * columns a spec is stored as, a fresh state machine, and the change record of a state change.
 */
import type { HealthChecksTable } from "../db/schema.ts";
import type { CheckSpec, CheckState } from "./schema.ts";

/** A state change, as the alerts hook and live feeds see it. */
export interface HealthChange {
  org_id: string;
  host_id: string;
  check_id: string;
  check_name: string;
  container_id: string;
  container_name: string;
  from: CheckState;
  /** "removed": the check was deleted or its container is gone (any alert ends). */
  to: CheckState | "removed";
  at: number;
  retries: number;
  error: string | null;
}

/** A check as the API returns it. */
export interface HealthCheckView extends CheckSpec {
  id: string;
  org_id: string;
  host_id: string;
  host_name: string;
  container_id: string;
  container_name: string;
  source: "manual" | "label";
  state: CheckState;
  state_since: number;
  consecutive_failures: number;
  consecutive_successes: number;
  last: {
    at: number;
    ok: boolean;
    response_ms: number | null;
    status_code: number | null;
    error: string | null;
  } | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  /** When its container was found removed: the check is not run and raises no alert, ms. */
  container_gone_at: number | null;
}

/** A check row with its host's name. */
export type Row = HealthChecksTable & { host_name: string };

/** A nullable numeric column as a number, or null (a driver may hand bigints back as text). */
export const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** A check as the API returns it. */
export function view(r: Row): HealthCheckView {
  return {
    id: r.id,
    org_id: r.org_id,
    host_id: r.host_id,
    host_name: r.host_name,
    container_id: r.container_id,
    container_name: r.container_name,
    ...specOf(r),
    source: r.source,
    state: r.state,
    state_since: Number(r.state_since),
    consecutive_failures: Number(r.consecutive_failures),
    consecutive_successes: Number(r.consecutive_successes),
    last: r.last_at === null ? null : {
      at: Number(r.last_at),
      ok: Number(r.last_ok) === 1,
      response_ms: num(r.last_response_ms),
      status_code: num(r.last_status_code),
      error: r.last_error,
    },
    created_by: r.created_by,
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
    container_gone_at: num(r.container_gone_at),
  };
}

/** The definition a check row holds. */
export function specOf(r: HealthChecksTable): CheckSpec {
  return {
    name: r.name,
    kind: r.kind,
    config: JSON.parse(r.config),
    interval_s: Number(r.interval_s),
    timeout_s: Number(r.timeout_s),
    retries: Number(r.retries),
    start_delay_s: Number(r.start_delay_s),
    enabled: Number(r.enabled) === 1,
  };
}

/** The columns a check definition is stored as. */
export function specColumns(s: CheckSpec) {
  return {
    name: s.name,
    kind: s.kind,
    config: JSON.stringify(s.config),
    interval_s: s.interval_s,
    timeout_s: s.timeout_s,
    retries: s.retries,
    start_delay_s: s.start_delay_s,
    enabled: s.enabled ? 1 : 0,
  };
}

/** Columns that reset the state machine (a new or re-targeted check starts unknown). */
export function freshState(now: number) {
  return {
    state: "unknown" as const,
    state_since: now,
    consecutive_failures: 0,
    consecutive_successes: 0,
    started_at: now,
  };
}

/** A new check's row: identity, the spec, a fresh state machine and no result yet. */
export function newRow(
  who: Pick<
    HealthChecksTable,
    "id" | "org_id" | "host_id" | "container_id" | "container_name" | "source" | "created_by"
  >,
  spec: CheckSpec,
  now: number,
): HealthChecksTable {
  return {
    ...who,
    ...specColumns(spec),
    ...freshState(now),
    last_at: null,
    last_ok: null,
    last_response_ms: null,
    last_status_code: null,
    last_error: null,
    created_at: now,
    updated_at: now,
    container_gone_at: null,
  };
}

/** The identity part of a state change of this row. */
export function changeBase(r: HealthChecksTable) {
  return {
    org_id: r.org_id,
    host_id: r.host_id,
    check_id: r.id,
    check_name: r.name,
    container_id: r.container_id,
    container_name: r.container_name,
    retries: Number(r.retries),
  };
}
