/**
 * Keeping the images of an app's last N deployments, and no more: after a deployment ends
 * running, the images pinned by the app's older deployments (its last 200 before those N) are
 * removed from every node of the cluster — unless another app's last N deployments pin them, a
 * Swarm service of Capstan runs them now, or a container uses them (the engine refuses then: an
 * image is never removed with force). Removal goes through each node's agent (`image.remove`, its
 * closed set of operations). A clean-up never fails a deployment: what goes wrong is logged.
 */
import type { Logger } from "../log.ts";
import type { App, AppStore } from "./store.ts";
import type { Cluster } from "./cluster.ts";
import type { AgentCaller } from "./gateway.ts";
import { LABELS } from "./swarm_spec.ts";

/** Older deployments looked at per clean-up (a bound on the work of one pass). */
const MAX_OLDER = 200;

/** How one removal on one node went. */
export type RemoveOutcome = "removed" | "absent" | "in_use";

/** What the clean-up needs. */
export interface ImageCleanupDeps {
  store: AppStore;
  log: Logger;
  /** Images of this many latest deployments of each app are kept; 0 keeps every image. */
  keep: number;
  /** The cluster's nodes that have a host (and so an agent), by hostname. */
  nodes(): Promise<{ host_id: string | null; hostname: string }[]>;
  /** Image references Capstan's Swarm services run now (their spec's image). */
  serviceImages(): Promise<string[]>;
  /** Removes an image on a host without force; "in_use" when the engine refuses. */
  removeImage(hostId: string, ref: string): Promise<RemoveOutcome>;
}

/** What one clean-up did. */
export interface CleanupReport {
  removed: { ref: string; node: string }[];
  in_use: { ref: string; node: string }[];
  errors: string[];
}

/** Creates the clean-up of old deployments' images. */
export function createImageCleanup(deps: ImageCleanupDeps) {
  /** The images only deployments older than the app's last N pinned, and nobody keeps. */
  async function candidates(app: App): Promise<string[]> {
    const recent = await deps.store.deployments(app, { limit: deps.keep });
    if (recent.length < deps.keep) return [];
    const older = await deps.store.deployments(app, {
      before: recent.at(-1)!.number,
      limit: MAX_OLDER,
    });
    const refs = new Set(older.flatMap((d) => Object.values(d.images)));
    if (!refs.size) return [];
    const kept = new Set([
      ...await deps.store.recentImages(deps.keep),
      ...await deps.serviceImages(),
    ]);
    return [...refs].filter((r) => !kept.has(r));
  }

  return {
    /** Removes what `candidates` finds on every node; never throws. */
    async run(app: App): Promise<CleanupReport> {
      const report: CleanupReport = { removed: [], in_use: [], errors: [] };
      if (deps.keep <= 0) return report;
      try {
        const refs = await candidates(app);
        if (!refs.length) return report;
        for (const n of await deps.nodes()) {
          if (!n.host_id) continue;
          for (const ref of refs) {
            try {
              const outcome = await deps.removeImage(n.host_id, ref);
              if (outcome === "removed") report.removed.push({ ref, node: n.hostname });
              if (outcome === "in_use") report.in_use.push({ ref, node: n.hostname });
            } catch (err) {
              report.errors.push(`${ref} on ${n.hostname}: ${String(err)}`);
            }
          }
        }
        if (report.removed.length) {
          await deps.store.event(
            app,
            "images",
            `Removed ${report.removed.length} image${
              report.removed.length === 1 ? "" : "s"
            } of deployments older than the last ${deps.keep}`,
            { removed: report.removed },
          );
        }
      } catch (err) {
        report.errors.push(String(err));
      }
      if (report.errors.length) {
        deps.log.warn("apps: image clean-up could not finish", {
          app: app.id,
          errors: report.errors.slice(0, 10),
        });
      }
      return report;
    },
  };
}

export type ImageCleanup = ReturnType<typeof createImageCleanup>;

/** The clean-up over the cluster: its nodes, its manager's services, each host's agent. */
export function clusterImageCleanup(o: {
  store: AppStore;
  log: Logger;
  keep: number;
  cluster: Pick<Cluster, "nodes" | "manager">;
  agent(hostId: string): Pick<AgentCaller, "call">;
}): ImageCleanup {
  return createImageCleanup({
    store: o.store,
    log: o.log,
    keep: o.keep,
    nodes: () => o.cluster.nodes(),
    serviceImages: async () => {
      const { gw } = await o.cluster.manager();
      return (await gw.services(LABELS.app)).map((s) => s.Spec.TaskTemplate.ContainerSpec.Image);
    },
    removeImage: async (hostId, ref) => {
      try {
        await o.agent(hostId).call("image.remove", { ref, force: false });
        return "removed";
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status === 404) return "absent";
        if (status === 409) return "in_use";
        throw err;
      }
    },
  });
}
