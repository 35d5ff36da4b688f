import type { Db } from "../db/mod.ts";
import type { AuditLogTable } from "../db/schema.ts";
import type { Clock } from "../util/clock.ts";
import { uuidv7 } from "../util/ids.ts";
import { containsText } from "../db/text_search.ts";

/** Who did something. Tokens are named by their id and name, never their value. */
export interface Actor {
  type: "user" | "token" | "system" | "anonymous";
  id?: string | null;
  name?: string | null;
}

/** The caller of a state-changing action: who, from where. */
export interface ActionContext {
  actor: Actor;
  ip?: string | null;
}

export interface AuditTarget {
  type: string;
  id?: string | null;
  name?: string | null;
}

export interface AuditEntry {
  ctx: ActionContext;
  orgId?: string | null;
  action: string;
  target?: AuditTarget;
  status: "ok" | "error";
  error?: string | null;
  durationMs: number;
  metadata?: Record<string, unknown>;
}

export interface AuditFilters {
  orgId?: string;
  actor?: string;
  action?: string;
  target?: string;
  status?: "ok" | "error";
  from?: number;
  to?: number;
  /** Opaque cursor: the id of the last row of the previous page (ids are time-ordered UUIDv7). */
  before?: string;
  limit: number;
}

export type AuditRow = Omit<AuditLogTable, "metadata"> & { metadata: Record<string, unknown> };

const SECRET_KEY = /pass(word)?|secret|token|key|authorization|cookie/i;

/** Drops values under secret-looking keys so metadata can never carry a secret into the log. */
export function redact(meta: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (SECRET_KEY.test(k)) out[k] = "[redacted]";
    else if (v && typeof v === "object" && !Array.isArray(v)) {
      out[k] = redact(v as Record<string, unknown>);
    } else out[k] = v;
  }
  return out;
}

/** The audit log: one row per state-changing action, written whether it succeeded or failed. */
export function createAuditLog(db: Db, clock: Clock, onRecord?: (row: AuditRow) => void) {
  async function record(e: AuditEntry): Promise<AuditRow> {
    const row: AuditLogTable = {
      id: uuidv7(clock.now()),
      at: clock.now(),
      actor_type: e.ctx.actor.type,
      actor_id: e.ctx.actor.id ?? null,
      actor_name: e.ctx.actor.name ?? null,
      org_id: e.orgId ?? null,
      action: e.action,
      target_type: e.target?.type ?? null,
      target_id: e.target?.id ?? null,
      target_name: e.target?.name ?? null,
      status: e.status,
      error: e.error ? e.error.slice(0, 1000) : null,
      duration_ms: Math.max(0, Math.round(e.durationMs)),
      ip: e.ctx.ip ?? null,
      metadata: JSON.stringify(redact(e.metadata ?? {})),
    };
    await db.insertInto("audit_log").values(row).execute();
    const out = { ...row, metadata: JSON.parse(row.metadata) };
    onRecord?.(out);
    return out;
  }

  return {
    record,

    /**
     * Runs `fn` and writes one audit row with its outcome and duration. The target and metadata may
     * be computed from the result (ids are often known only afterwards). Errors are rethrown.
     */
    async run<T>(
      ctx: ActionContext,
      action: string,
      info: {
        orgId?: string | null;
        target?: AuditTarget;
        metadata?: Record<string, unknown>;
        after?: (
          result: T,
        ) => { orgId?: string | null; target?: AuditTarget; metadata?: Record<string, unknown> };
      },
      fn: () => Promise<T>,
    ): Promise<T> {
      const started = performance.now();
      try {
        const result = await fn();
        const more = info.after?.(result) ?? {};
        await record({
          ctx,
          action,
          orgId: more.orgId ?? info.orgId,
          target: more.target ?? info.target,
          status: "ok",
          durationMs: performance.now() - started,
          metadata: { ...info.metadata, ...more.metadata },
        });
        return result;
      } catch (err) {
        await record({
          ctx,
          action,
          orgId: info.orgId,
          target: info.target,
          status: "error",
          error: err instanceof Error ? err.message : String(err),
          durationMs: performance.now() - started,
          metadata: info.metadata,
        });
        throw err;
      }
    },

    /** Newest first, filtered, at most `limit` rows; `nextBefore` pages further back. */
    async list(f: AuditFilters): Promise<{ rows: AuditRow[]; nextBefore: string | null }> {
      let q = db.selectFrom("audit_log").selectAll();
      if (f.orgId) q = q.where("org_id", "=", f.orgId);
      if (f.actor) {
        q = q.where((eb) =>
          eb.or([containsText("actor_name", f.actor!), eb("actor_id", "=", f.actor!)])
        );
      }
      if (f.action) q = q.where(containsText("action", f.action));
      if (f.target) {
        q = q.where((eb) =>
          eb.or([
            containsText("target_name", f.target!),
            eb("target_id", "=", f.target!),
            eb("target_type", "=", f.target!),
          ])
        );
      }
      if (f.status) q = q.where("status", "=", f.status);
      if (f.from !== undefined) q = q.where("at", ">=", f.from);
      if (f.to !== undefined) q = q.where("at", "<=", f.to);
      if (f.before) q = q.where("id", "<", f.before);
      const rows = await q.orderBy("id", "desc").limit(f.limit + 1).execute();
      const page = rows.slice(0, f.limit).map((r) => ({ ...r, metadata: JSON.parse(r.metadata) }));
      return { rows: page, nextBefore: rows.length > f.limit ? page[page.length - 1].id : null };
    },

    /** Deletes rows older than `cutoff` (ms); returns how many went. */
    async purgeOlderThan(cutoff: number): Promise<number> {
      const r = await db.deleteFrom("audit_log").where("at", "<", cutoff).executeTakeFirst();
      return Number(r.numDeletedRows ?? 0);
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;

/** The actor for work the hub does by itself (jobs, start-up). */
export const SYSTEM: ActionContext = { actor: { type: "system", name: "capstan" } };
