/**
 * tasks_moved: a node of the cluster went down and Swarm started an app's tasks on other nodes
 * (the apps reconciler records each move on the app's timeline and tells the bus). An instant
 * alert per app and failed node, naming the services and where they went.
 *
 * Once per failure, not per reconcile pass: Swarm may reschedule a down node's tasks over several
 * passes, and each pass reports only the moves it has not recorded yet. A move whose lost task
 * started before this subject's last alert belongs to the failure already told (that task was on
 * the node when it went down); only a task started after it — placed on the node once it was back —
 * means the node failed again.
 */
import type { EventRuleKind, TasksMoved } from "./kind.ts";

/** Moves listed in one message at most; the rest are counted (the app's timeline has them all). */
const LISTED = 20;

/** The tasks_moved kind. */
export const tasksMoved: EventRuleKind = {
  tasksMoved(c, rule, moved) {
    const byNode = new Map<string, TasksMoved["moves"]>();
    for (const m of moved.moves) byNode.set(m.from_node, [...byNode.get(m.from_node) ?? [], m]);
    for (const [from, moves] of byNode) {
      // No host id: the down node may be no Capstan host, and an app's alert is the org's.
      const s = c.subject(rule, `app:${moved.app.id}/${from}`, "");
      const told = s.lastEventAt;
      const fresh = told === null ? moves : moves.filter((m) => m.task_created_at > told);
      if (!fresh.length) continue;
      const services = [...new Set(fresh.map((m) => m.service))].sort();
      const listed = fresh.slice(0, LISTED).map((m) => `${m.service}.${m.slot} → ${m.to_node}`);
      const more = fresh.length > LISTED ? `, and ${fresh.length - LISTED} more` : "";
      c.instant(s, fresh.length, {
        hostName: from,
        containerName: null,
        title: `App ${moved.app.name}: ${services.join(", ")} moved off ${from} (down)`,
        detail: `Swarm started ${
          fresh.length === 1 ? "its task" : `${fresh.length} tasks`
        } of ${moved.app.name} on other nodes after ${from} went down: ${listed.join(", ")}${more}`,
      });
    }
  },
};
