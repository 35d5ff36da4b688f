/**
 * One host's checks kept in step with its container cache: label-declared checks appear, change
 * and go with their containers' labels; a manual check follows its container when it is
 * recreated under the same name (its state starts over), and when its container is gone with none
 * of that name in its place it is marked so: not run, no alert, until such a container is back.
 */
import { uuidv7 } from "../util/ids.ts";
import type { CheckSpec } from "./schema.ts";
import { checksFromLabels } from "./labels.ts";
import { changeBase, freshState, type HealthChange, newRow, specColumns, specOf } from "./rows.ts";
import type { HostWork } from "./host_work.ts";

/**
 * Reconciles the host's checks with its containers; true when the set of checks changed. A manual
 * check's container counts as gone only on evidence: a full snapshot (`removed` "any") or its own
 * `destroy` event (`removed` naming it) — a cache row missing for another reason (an event applied
 * out of turn) must not stop a check.
 */
export async function reconcileHost(
  w: HostWork,
  host: { id: string; org_id: string },
  removed: "any" | ReadonlySet<string> = "any",
): Promise<boolean> {
  const { db, clock, log, announce, announceChange } = w;
  const containers = await db.selectFrom("containers").select(["id", "name", "labels", "ports"])
    .where("host_id", "=", host.id).execute();
  const existing = await db.selectFrom("health_checks").selectAll()
    .where("host_id", "=", host.id).execute();
  const now = clock.now();
  const byId = new Map(containers.map((c) => [c.id, c]));
  const byName = new Map(containers.map((c) => [c.name.replace(/^\//, ""), c]));
  const desired = new Map<string, { ctr: typeof containers[number]; spec: CheckSpec }>();
  for (const ctr of containers) {
    const labels = JSON.parse(ctr.labels) as Record<string, string>;
    for (const d of checksFromLabels(labels, JSON.parse(ctr.ports))) {
      if (d.ok) desired.set(`${ctr.id}/${d.spec.kind}`, { ctr, spec: d.spec });
      else {
        log.warn("health: container label check refused", {
          hostId: host.id,
          container: ctr.name,
          error: d.error,
        });
      }
    }
  }
  let dirty = false;
  const gone: HealthChange[] = [];
  /** Whether this reconcile may take the absence of a check's container as its removal. */
  const knownRemoved = (containerId: string) => removed === "any" || removed.has(containerId);
  for (const r of existing) {
    if (r.source === "label") {
      const key = `${r.container_id}/${r.kind}`;
      const want = desired.get(key);
      desired.delete(key);
      // Its container missing without evidence of a removal: keep the check and its history.
      if (!want && !byId.has(r.container_id) && !knownRemoved(r.container_id)) continue;
      if (!want) {
        await db.deleteFrom("health_checks").where("id", "=", r.id).execute();
        gone.push({ ...changeBase(r), from: r.state, to: "removed", at: now, error: null });
        dirty = true;
      } else {
        const have = specOf(r);
        const spec = { ...want.spec, enabled: have.enabled };
        if (JSON.stringify(have) !== JSON.stringify(spec)) {
          await db.updateTable("health_checks").set({ ...specColumns(spec), updated_at: now })
            .where("id", "=", r.id).execute();
          dirty = true;
        }
      }
    } else if (!byId.has(r.container_id)) {
      // A manual check follows its container when it is recreated under the same name.
      const again = byName.get(r.container_name);
      if (again) {
        await db.updateTable("health_checks").set({
          container_id: again.id,
          ...freshState(now),
          container_gone_at: null,
          updated_at: now,
        }).where("id", "=", r.id).execute();
        if (r.state !== "unknown") {
          gone.push({ ...changeBase(r), from: r.state, to: "unknown", at: now, error: null });
        }
        dirty = true;
      } else if (
        r.container_gone_at === null && knownRemoved(r.container_id)
      ) {
        // Its container was removed (outside Capstan, or before this hub heard of it): the check
        // stops, says so, and any alert it raised ends instead of repeating "container not found".
        await db.updateTable("health_checks").set({
          ...freshState(now),
          container_gone_at: now,
          updated_at: now,
        }).where("id", "=", r.id).execute();
        gone.push({ ...changeBase(r), from: r.state, to: "removed", at: now, error: null });
        dirty = true;
      }
    } else if (r.container_gone_at !== null) {
      // The container is back under the same id (a cache that had missed it): run again.
      await db.updateTable("health_checks").set({
        ...freshState(now),
        container_gone_at: null,
        updated_at: now,
      }).where("id", "=", r.id).execute();
      dirty = true;
    }
  }
  for (const { ctr, spec } of desired.values()) {
    const id = uuidv7(now);
    await db.insertInto("health_checks").values(newRow(
      {
        id,
        org_id: host.org_id,
        host_id: host.id,
        container_id: ctr.id,
        container_name: ctr.name.replace(/^\//, ""),
        source: "label",
        created_by: null,
      },
      spec,
      now,
    )).execute();
    dirty = true;
  }
  for (const c of gone) announceChange(c);
  if (dirty) announce(host.org_id, { kind: "checks", host_id: host.id });
  return dirty;
}
