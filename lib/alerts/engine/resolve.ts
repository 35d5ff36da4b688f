/**
 * The resolve op: in one transaction, moves the subject's stored state back to ok
 * (compare-and-set), ends its alert, and queues the resolved notification when the firing one was
 * sent and nothing withholds this one now.
 */
import type { CompiledRule } from "../compile.ts";
import { withheld } from "../evaluator.ts";
import { resolvedDetail } from "../describe.ts";
import type { ResolveOp } from "./worker.ts";
import { stateWrite } from "./subject.ts";
import { type OpContext, queueNotifications } from "./notify.ts";

/** Runs a resolve op; false when another writer changed the subject first. */
export async function runResolve(
  c: OpContext,
  op: ResolveOp,
  rule: CompiledRule,
  now: number,
): Promise<boolean> {
  const { org, subj } = op;
  const alertId = subj.alertId;
  let kicked: string[] = [];
  const done = await c.db.transaction().execute(async (tx) => {
    const stored = await c.states.get(subj.ruleId, subj.subject, tx);
    const a = alertId
      ? await tx.selectFrom("alerts").selectAll().where("id", "=", alertId).executeTakeFirst()
      : undefined;
    const gate = subj.lastNotifiedAt === null || !a ? "never notified" : withheld({
      quiet: rule.quiet,
      silencedUntil: Math.max(
        Number(stored?.silenced_until ?? 0),
        Number(a.silenced_until ?? 0),
      ) || null,
      acknowledged: false,
      muted: a.muted === 1,
      event: "resolved",
    }, now);
    const v = await c.states.cas(
      tx,
      stateWrite(subj, op.snap, org.id, { alert_id: null, last_notified_at: null }),
      subj.version,
      now,
    );
    if (v === null) return null;
    if (a) {
      await tx.updateTable("alerts").set({ state: "resolved", ended_at: op.snap.since })
        .where("id", "=", a.id).execute();
      if (gate === null) {
        const ended = { ...a, state: "resolved" as const, ended_at: op.snap.since };
        const detail = resolvedDetail(rule, op.snap.value, Number(a.started_at), op.snap.since);
        kicked = await queueNotifications(c, tx, org, rule, ended, "resolved", detail);
      }
    }
    return v;
  });
  if (done === null) return false;
  subj.version = done;
  subj.alertId = null;
  subj.lastNotifiedAt = null;
  if (rule.spec.event === "host_offline") org.offline.delete(subj.hostId);
  c.delivery.kick(kicked);
  c.publish(org.id, { kind: "resolved", id: alertId, host_id: subj.hostId });
  return true;
}
