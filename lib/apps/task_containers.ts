/**
 * Which containers an app's Swarm tasks ran in, kept for the app's metrics over time.
 *
 * Why a table of our own rather than the container labels the docker module caches: that cache
 * (`containers`) holds what each host runs now, and a container's row goes when the container
 * does; Swarm itself keeps only a few old tasks per slot. Every deploy, restart and reschedule
 * replaces an app's containers, so a 30-day chart needs containers gone for weeks. The metric
 * series are stored per (host, container), so the app's history is this list of (host,
 * container) with the app, service and slot each belonged to, and when it was seen.
 *
 * Written wherever the apps module reads tasks anyway: the reconciler's pass (every minute, all
 * apps) and an app's status (its page). A task seen running extends its container's last_seen
 * to now; a finished one sets it to when the task reached its final state.
 */
import type { Db } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { SwarmTask } from "../docker/swarm_types.ts";
import { LABELS } from "./swarm_spec.ts";

/** One container of an app's task. */
export interface TaskContainer {
  host_id: string;
  container_id: string;
  service: string;
  slot: number | null;
  first_seen: number;
  last_seen: number;
}

/**
 * Containers seen only this long before or after a range still count for it: the reconciler
 * sees tasks once a minute, and Swarm's timestamps come from the manager's clock.
 */
export const SEEN_SLACK_MS = 10 * 60_000;
/** Rows of containers not seen for this long go (the longest range the metrics API reads). */
const KEEP_MS = 400 * 24 * 3_600_000;
const CONTAINER_ID = /^[a-f0-9]{64}$/;

/** Milliseconds of a Swarm timestamp, or `fallback` when it does not parse. */
function ms(iso: string | undefined, fallback: number): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t) && t > 0 ? t : fallback;
}

/** Records and reads the containers of apps' tasks. */
export function createTaskContainers(db: Db, clock: Clock) {
  return {
    /**
     * Records the containers of the given tasks that belong to one of `appIds` (other tasks are
     * ignored: their app is gone or not Capstan's) and run on a node that is a Capstan host.
     */
    async record(tasks: SwarmTask[], appIds: Map<string, string>): Promise<number> {
      const now = clock.now();
      const members = await db.selectFrom("swarm_members").select(["host_id", "node_id"])
        .execute();
      const hostOf = new Map(members.map((m) => [m.node_id, m.host_id]));
      const rows = [];
      for (const t of tasks) {
        const labels = t.Spec.ContainerSpec?.Labels ?? {};
        const appId = labels[LABELS.app];
        const orgId = appId ? appIds.get(appId) : undefined;
        const containerId = t.Status.ContainerStatus?.ContainerID ?? "";
        const hostId = t.NodeID ? hostOf.get(t.NodeID) : undefined;
        if (!appId || !orgId || !hostId || !CONTAINER_ID.test(containerId)) continue;
        const running = t.Status.State === "running";
        rows.push({
          host_id: hostId,
          container_id: containerId,
          app_id: appId,
          org_id: orgId,
          service: labels[LABELS.service] ?? "",
          slot: t.Slot ?? null,
          task_id: t.ID,
          first_seen: Math.min(now, ms(t.CreatedAt, now)),
          last_seen: running ? now : Math.min(now, ms(t.Status.Timestamp, now)),
        });
      }
      for (let i = 0; i < rows.length; i += 200) {
        await db.insertInto("app_task_containers").values(rows.slice(i, i + 200))
          .onConflict((oc) =>
            oc.columns(["host_id", "container_id"]).doUpdateSet((eb) => ({
              last_seen: eb.ref("excluded.last_seen"),
              task_id: eb.ref("excluded.task_id"),
            }))
          ).execute();
      }
      await db.deleteFrom("app_task_containers").where("last_seen", "<", now - KEEP_MS)
        .execute();
      return rows.length;
    },

    /**
     * An app's containers seen during [from, to) (with SEEN_SLACK_MS either side), most recently
     * seen first, at most `limit`; `truncated` when there were more.
     */
    async forApp(
      appId: string,
      from: number,
      to: number,
      limit: number,
    ): Promise<{ items: TaskContainer[]; truncated: boolean }> {
      const rows = await db.selectFrom("app_task_containers")
        .select(["host_id", "container_id", "service", "slot", "first_seen", "last_seen"])
        .where("app_id", "=", appId)
        .where("last_seen", ">=", from - SEEN_SLACK_MS)
        .where("first_seen", "<", to + SEEN_SLACK_MS)
        .orderBy("last_seen", "desc").orderBy("container_id")
        .limit(limit + 1).execute();
      const items = rows.slice(0, limit).map((r) => ({
        ...r,
        slot: r.slot === null ? null : Number(r.slot),
        first_seen: Number(r.first_seen),
        last_seen: Number(r.last_seen),
      }));
      return { items, truncated: rows.length > limit };
    },

    /** Containers of the given apps seen since `since` (those running now), at most `limit`. */
    async current(
      appIds: string[],
      since: number,
      limit: number,
    ): Promise<(Pick<TaskContainer, "host_id" | "container_id"> & { app_id: string })[]> {
      if (!appIds.length) return [];
      return await db.selectFrom("app_task_containers")
        .select(["app_id", "host_id", "container_id"])
        .where("app_id", "in", appIds).where("last_seen", ">=", since)
        .orderBy("last_seen", "desc").limit(limit).execute();
    },
  };
}

export type TaskContainers = ReturnType<typeof createTaskContainers>;
