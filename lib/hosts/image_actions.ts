/**
 * Images of an organization's hosts: the list with in-use counts from the container cache, removal
 * refused with the names of the containers that use an image (force is for admins), and pruning.
 */
import type { AgentConnection } from "../agents/connection.ts";
import { Conflict, Forbidden } from "../errors.ts";
import type { ImageDeleteItem, ImagePruneResult, ImageSummary } from "../docker/types.ts";
import { isDockerAdmin } from "./container_policy.ts";
import { containersUsingImage, imageUsage } from "./container_list.ts";
import type { DockerCaller, DockerDeps } from "./docker_actions.ts";
import { findImage, type ImageView, imageViews } from "./docker_views.ts";
import { isConflict, operate, operateWith, query, validOp } from "./operate.ts";

/** Images of a host with their in-use counts. */
export async function listImages(
  deps: DockerDeps,
  caller: Pick<DockerCaller, "orgId">,
  hostId: string,
): Promise<ImageView[]> {
  const images = await query<ImageSummary[]>(deps, caller.orgId, hostId, "images.list", {});
  return imageViews(images, await imageUsage(deps.db, caller.orgId, hostId));
}

/**
 * Removes an image (or one of its tags). While a container uses it the engine refuses, and so do
 * we, naming the containers; `force` is for organization admins only.
 */
export async function removeImage(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
  ref: string,
  force: boolean,
): Promise<ImageDeleteItem[]> {
  if (force && !isDockerAdmin(caller)) {
    throw new Forbidden("Only organization admins may force an image removal", {
      force: "only organization admins may force an image removal",
    });
  }
  const inUse = async (err: unknown, conn: AgentConnection) => {
    if (!isConflict(err)) return err;
    // Naming the users is worth a second look-up, on this path only.
    const images = await conn.call<ImageSummary[]>("images.list", {}).catch(() => []);
    const image = findImage(images, ref);
    const users = image ? await containersUsingImage(deps.db, caller.orgId, hostId, image.Id) : [];
    const who = users.length ? ` (${users.join(", ")})` : "";
    if (/running container/i.test((err as Error).message)) {
      return new Conflict(
        `Cannot remove image "${ref}": a running container uses it${who}; stop it first`,
      );
    }
    const next = isDockerAdmin(caller) ? "or force the removal" : "or ask an admin to force it";
    return new Conflict(
      `Cannot remove image "${ref}": it is in use by containers${who}; remove them first ${next}`,
    );
  };
  const params = validOp("image.remove", { ref, force });
  return await operateWith(deps, {
    ctx: caller.ctx,
    orgId: caller.orgId,
    hostId,
    action: "image.removed",
    target: { type: "image", name: ref },
    metadata: { force },
    run: async (conn) => {
      try {
        return await conn.call<ImageDeleteItem[]>("image.remove", params);
      } catch (err) {
        throw await inUse(err, conn);
      }
    },
  });
}

/** Removes the host's dangling images. */
export async function pruneImages(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
): Promise<{ deleted: number; space_reclaimed: number }> {
  const r = await operate<ImagePruneResult, "images.prune">(deps, {
    ctx: caller.ctx,
    orgId: caller.orgId,
    hostId,
    action: "images.pruned",
    target: { type: "host", id: hostId },
    op: "images.prune",
    params: {},
    after: (r) => ({
      metadata: { deleted: r.ImagesDeleted?.length ?? 0, space_reclaimed: r.SpaceReclaimed },
    }),
  });
  return {
    deleted: (r.ImagesDeleted ?? []).filter((d) => d.Deleted).length,
    space_reclaimed: r.SpaceReclaimed,
  };
}
