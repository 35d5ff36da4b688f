/**
 * Volumes of an organization's hosts: the list (sizes only when asked), creation, and removal
 * refused while containers use a volume, naming them.
 */
import { Conflict } from "../errors.ts";
import type { DockerCaller, DockerDeps } from "./docker_actions.ts";
import { type VolumeView, volumeViews } from "./docker_views.ts";
import { isConflict, operate, operateWith, query, validOp } from "./operate.ts";

/** Volumes of a host; sizes only when asked (the engine walks every volume to compute them). */
export async function listVolumes(
  deps: DockerDeps,
  caller: Pick<DockerCaller, "orgId">,
  hostId: string,
  sizes: boolean,
): Promise<VolumeView[]> {
  const r = await query<{ volumes: Parameters<typeof volumeViews>[0] }>(
    deps,
    caller.orgId,
    hostId,
    "volumes.list",
    { sizes },
  );
  return volumeViews(r.volumes);
}

/** Creates a named local volume. */
export async function createVolume(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
  input: { name: string; labels?: Record<string, string> },
): Promise<{ name: string }> {
  const v = await operate<{ Name: string }, "volume.create">(deps, {
    ctx: caller.ctx,
    orgId: caller.orgId,
    hostId,
    action: "volume.created",
    target: { type: "volume", id: input.name, name: input.name },
    op: "volume.create",
    params: { name: input.name, labels: input.labels },
  });
  return { name: v.Name };
}

/** Removes a volume; refused with 409 naming the containers while any container uses it. */
export async function removeVolume(
  deps: DockerDeps,
  caller: DockerCaller,
  hostId: string,
  name: string,
): Promise<void> {
  const valid = validOp("volume.remove", { name });
  await operateWith(deps, {
    ctx: caller.ctx,
    orgId: caller.orgId,
    hostId,
    action: "volume.removed",
    target: { type: "volume", id: name, name },
    run: async (conn) => {
      try {
        await conn.call("volume.remove", valid);
      } catch (err) {
        if (!isConflict(err)) throw err;
        const r = await conn.call<{ volumes: Parameters<typeof volumeViews>[0] }>(
          "volumes.list",
          {},
        ).catch(() => ({ volumes: [] }));
        const users = volumeViews(r.volumes).find((v) => v.name === name)?.containers ?? [];
        const who = users.length
          ? `${users.length} container(s) (${users.slice(0, 5).map((c) => c.name).join(", ")})`
          : "a container";
        throw new Conflict(`Cannot remove volume "${name}": it is in use by ${who}`);
      }
    },
  });
}
