/**
 * The fire op: in one transaction, moves the subject's stored state (compare-and-set), records the
 * alert, and queues its first notification unless something withholds it (quiet hours, a silence
 * of the subject, or its host being down). An instant alert (OOM kill) is recorded as started and
 * ended at once and never resolves.
 */
import type { AlertsTable } from "../../db/schema.ts";
import type { CompiledRule } from "../compile.ts";
import { withheld } from "../evaluator.ts";
import { uuidv7 } from "../../util/ids.ts";
import type { FireOp, InstantOp } from "./worker.ts";
import { stateWrite } from "./subject.ts";
import { type OpContext, queueNotifications } from "./notify.ts";

/** Runs a fire or instant op; false when another writer changed the subject first. */
export async function runFire(
  c: OpContext,
  op: FireOp | InstantOp,
  rule: CompiledRule,
  now: number,
): Promise<boolean> {
  const { org, subj } = op;
  const info = typeof op.info === "function" ? await op.info() : op.info;
  const muted = subj.containerId !== "" && c.hostDown(org, subj.hostId, now);
  const alertId = uuidv7(now);
  const instant = op.kind === "instant";
  let kicked: string[] = [];
  const done = await c.db.transaction().execute(async (tx) => {
    const stored = await c.states.get(subj.ruleId, subj.subject, tx);
    const gate = withheld({
      quiet: rule.quiet,
      silencedUntil: stored?.silenced_until ?? null,
      acknowledged: false,
      muted,
      event: "firing",
    }, now);
    const notifiedAt = gate === null ? now : (instant ? subj.lastNotifiedAt : null);
    const v = await c.states.cas(
      tx,
      stateWrite(subj, op.snap, org.id, {
        last_notified_at: notifiedAt,
        alert_id: instant ? null : alertId,
      }),
      subj.version,
      now,
    );
    if (v === null) return null;
    const a: AlertsTable = {
      id: alertId,
      org_id: org.id,
      rule_id: rule.id,
      rule_name: rule.name,
      subject: subj.subject,
      host_id: subj.hostId,
      host_name: info.hostName,
      container_id: subj.containerId || null,
      container_name: info.containerName,
      severity: rule.spec.severity,
      title: info.title,
      value: op.snap.value,
      state: instant ? "resolved" : "firing",
      started_at: op.snap.since,
      ended_at: instant ? op.snap.since : null,
      acknowledged_by: null,
      acknowledged_at: null,
      silenced_until: stored?.silenced_until ?? null,
      muted: muted ? 1 : 0,
    };
    await tx.insertInto("alerts").values(a).execute();
    if (gate === null) {
      kicked = await queueNotifications(c, tx, org, rule, a, "firing", info.detail);
    }
    return { v, notifiedAt };
  });
  if (!done) return false;
  subj.version = done.v;
  subj.lastNotifiedAt = done.notifiedAt;
  subj.alertId = instant ? null : alertId;
  if (rule.spec.event === "host_offline") org.offline.add(subj.hostId);
  c.delivery.kick(kicked);
  c.publish(org.id, {
    kind: instant ? "event" : "fired",
    id: alertId,
    severity: rule.spec.severity,
    title: info.title,
    host_id: subj.hostId,
    muted,
  });
  return true;
}
