/**
 * One (rule, subject) in memory: the evaluator's state plus what is persisted with it, and the
 * conversions between memory and its stored row (state_store.ts).
 */
import { type AlertState, newSubject, type SubjectState } from "../evaluator.ts";
import type { StateRow, StateWrite } from "../state_store.ts";

/** One (rule, subject): the evaluator's state plus what is persisted with it. */
export interface Subject extends SubjectState {
  key: string;
  ruleId: string;
  subject: string;
  hostId: string;
  containerId: string;
  /** Version of the stored row this memory is based on (0: none). */
  version: number;
  alertId: string | null;
  lastNotifiedAt: number | null;
  lastEventAt: number | null;
  /** Container name seen in the event that made an event subject pending. */
  name?: string;
  /** Restart-loop: engine times (ms) of recent `die` events. */
  events?: number[];
  /** A persist-only write queued and not yet started, updated in place instead of queueing more. */
  queuedSync?: { snap: Snap; started?: boolean };
}

/** The persisted part of a subject at the moment a change was made (what a queued write writes). */
export type Snap = {
  state: AlertState;
  since: number;
  value: number | null;
  lastEventAt: number | null;
};

/** The key of a subject in its organization's map. */
export const subjectKey = (ruleId: string, subject: string) => `${ruleId}\u0000${subject}`;

/** The persisted part of a subject now. */
export const snapOf = (s: Subject): Snap => ({
  state: s.state,
  since: s.since,
  value: s.value,
  lastEventAt: s.lastEventAt,
});

/** A subject in state ok that has never been stored. */
export function freshSubject(
  ruleId: string,
  subject: string,
  hostId: string,
  containerId: string,
): Subject {
  return {
    ...newSubject(),
    key: subjectKey(ruleId, subject),
    ruleId,
    subject,
    hostId,
    containerId,
    version: 0,
    alertId: null,
    lastNotifiedAt: null,
    lastEventAt: null,
  };
}

/** A subject as its stored row says. */
export function subjectFromRow(r: StateRow): Subject {
  return {
    ...newSubject(),
    key: subjectKey(r.rule_id, r.subject),
    ruleId: r.rule_id,
    subject: r.subject,
    hostId: r.host_id,
    containerId: r.container_id,
    state: r.state,
    since: Number(r.since),
    value: r.value === null ? null : Number(r.value),
    version: Number(r.version),
    alertId: r.alert_id,
    lastNotifiedAt: r.last_notified_at === null ? null : Number(r.last_notified_at),
    lastEventAt: r.last_event_at === null ? null : Number(r.last_event_at),
  };
}

/** Takes the stored row's word over memory (another writer won a race, or a rule was retired). */
export function adopt(s: Subject, r: StateRow | undefined): void {
  if (!r) {
    Object.assign(s, { state: "ok", version: 0, alertId: null, lastNotifiedAt: null });
    return;
  }
  const fresh = subjectFromRow(r);
  Object.assign(s, {
    state: fresh.state,
    since: fresh.since,
    value: fresh.value,
    version: fresh.version,
    alertId: fresh.alertId,
    lastNotifiedAt: fresh.lastNotifiedAt,
    lastEventAt: fresh.lastEventAt,
  });
}

/** The row a write of `s` (as of `snap`) stores; `over` replaces columns the write changes. */
export function stateWrite(
  subj: Subject,
  s: Snap,
  orgId: string,
  over: Partial<StateWrite> = {},
): StateWrite {
  return {
    rule_id: subj.ruleId,
    subject: subj.subject,
    org_id: orgId,
    host_id: subj.hostId,
    container_id: subj.containerId,
    state: s.state,
    since: s.since,
    value: s.value,
    last_event_at: s.lastEventAt,
    last_notified_at: subj.lastNotifiedAt,
    alert_id: subj.alertId,
    ...over,
  };
}
