/**
 * The storage page's volumes: every volume of the org's hosts, as each host's engine has them
 * now (hosts offline answer the volumes Capstan knows there), joined to the snapshot settings and
 * sync state Capstan keeps for them; and the settings a user changes (target, snapshot on stop,
 * restore on start, consistency mode), audited.
 */
import { z } from "zod";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { AgentConnection } from "../agents/connection.ts";
import type { Hosts } from "../hosts/service.ts";
import { invalidFields, invalidInput, NotFound } from "../errors.ts";
import { DockerInputError, volumeName } from "../docker/validate.ts";
import type { SnapshotStore, SnapshotVolume } from "./store.ts";
import { DumpSpec } from "../protocol/snapshots.ts";
import { type HostVolume, hostVolumesWithin, type VolumeUser } from "./host_volumes.ts";

/** One volume as the storage page shows it. */
export interface StorageVolumeView {
  /** The settings row's id, null for a volume Capstan has no settings for yet. */
  id: string | null;
  /** `<host id>:<volume>`: names the volume whether it has a row or not. */
  ref: string;
  host_id: string;
  host_name: string;
  host_online: boolean;
  volume: string;
  /** Whether the host's engine has it now (null: the host is offline). */
  present: boolean | null;
  app_id: string | null;
  service: string | null;
  containers: Omit<VolumeUser, "labels">[];
  target_id: string | null;
  mode: SnapshotVolume["mode"];
  on_stop: boolean;
  sync: boolean;
  size_bytes: number | null;
  last_snapshot_at: number | null;
  sync_state: SnapshotVolume["sync_state"];
  synced_snapshot_id: string | null;
  synced_at: number | null;
  sync_error: string | null;
}

/** What a user may change on a volume. */
export const VolumePatch = z.object({
  target_id: z.string().min(1).max(64).nullable().optional(),
  on_stop: z.boolean().optional(),
  sync: z.boolean().optional(),
  mode: z.enum(["live", "stop", "dump"]).optional(),
  /** Dump mode's tool: the database container (on the volume's host) and its engine. */
  dump: DumpSpec.nullable().optional(),
}).strict().refine(
  (p) => p.mode !== "dump" || p.dump !== null,
  { path: ["dump"], message: "dump mode needs the database container and engine" },
);
export type VolumePatch = z.input<typeof VolumePatch>;

export interface VolumeDeps {
  store: SnapshotStore;
  hosts: Pick<Hosts, "get" | "list">;
  agent: (hostId: string) => AgentConnection | undefined;
  volumes: (conn: AgentConnection, orgId: string, hostId: string) => Promise<HostVolume[]>;
  audit: Pick<AuditLog, "run">;
}

/** Most volumes one page answers. */
export const MAX_VOLUMES = 500;
const HOST_TIMEOUT_MS = 15_000;

export function createStorageVolumes(deps: VolumeDeps) {
  const { store } = deps;

  /** The engine's volumes of a host, or undefined when it is offline or does not answer. */
  const engineVolumes = (orgId: string, hostId: string) =>
    hostVolumesWithin(deps, orgId, hostId, HOST_TIMEOUT_MS);

  return {
    /**
     * The org's volumes sorted by host then name, at most `limit` after the ref `after` (the
     * last ref of the previous page); `host_id` narrows to one host.
     */
    async list(
      orgId: string,
      opts: { host_id?: string; after?: string; limit?: number } = {},
    ): Promise<{ items: StorageVolumeView[]; next_after: string | null }> {
      const limit = Math.max(1, Math.min(opts.limit ?? 200, MAX_VOLUMES));
      const hosts = opts.host_id
        ? [await deps.hosts.get(orgId, opts.host_id)]
        : await deps.hosts.list(orgId);
      const rows = await store.volumes(orgId, opts.host_id ? { host_id: opts.host_id } : {});
      const engine = await Promise.all(hosts.map((h) => engineVolumes(orgId, h.id)));
      const all: StorageVolumeView[] = [];
      hosts.forEach((h, i) => {
        const mine = rows.filter((r) => r.host_id === h.id);
        const live = engine[i];
        const names = new Set([...(live ?? []).map((v) => v.name), ...mine.map((r) => r.volume)]);
        for (const name of names) {
          const row = mine.find((r) => r.volume === name);
          const v = live?.find((x) => x.name === name);
          all.push({
            id: row?.id ?? null,
            ref: `${h.id}:${name}`,
            host_id: h.id,
            host_name: h.name,
            host_online: live !== undefined,
            volume: name,
            present: live ? Boolean(v) : null,
            app_id: v?.app_id ?? row?.app_id ?? null,
            service: v?.service ?? row?.service ?? null,
            containers: (v?.users ?? []).map(({ labels: _l, ...u }) => u),
            target_id: row?.target_id ?? null,
            mode: row?.mode ?? "live",
            on_stop: row?.on_stop === 1,
            sync: row?.sync === 1,
            size_bytes: row?.size_bytes ?? null,
            last_snapshot_at: null,
            sync_state: row?.sync_state ?? "none",
            synced_snapshot_id: row?.synced_snapshot_id ?? null,
            synced_at: row?.synced_at ?? null,
            sync_error: row?.sync_error ?? null,
          });
        }
      });
      const key = (v: StorageVolumeView) => `${v.host_name}\0${v.host_id}\0${v.volume}`;
      all.sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
      const from = opts.after ? all.findIndex((v) => v.ref === opts.after) + 1 : 0;
      const items = all.slice(from, from + limit);
      const last = await store.lastComplete(
        orgId,
        items.flatMap((v) => v.id ? [v.id] : []),
      );
      for (const v of items) v.last_snapshot_at = v.id ? last.get(v.id) ?? null : null;
      const more = from + limit < all.length;
      return { items, next_after: more ? items[items.length - 1]?.ref ?? null : null };
    },

    /**
     * Changes a volume's settings. `ref` is its row id or `<host id>:<volume>` (a volume without
     * settings yet gets its row).
     */
    async update(
      ctx: ActionContext,
      orgId: string,
      ref: string,
      raw: unknown,
    ): Promise<SnapshotVolume> {
      const parsed = VolumePatch.safeParse(raw);
      if (!parsed.success) throw invalidInput(parsed.error);
      const patch = parsed.data;
      let row = await store.volume(orgId, ref);
      if (!row && ref.includes(":")) {
        const [hostId, name] = [ref.slice(0, ref.indexOf(":")), ref.slice(ref.indexOf(":") + 1)];
        try {
          volumeName(name);
        } catch (err) {
          if (err instanceof DockerInputError) throw new NotFound(`No volume ${ref}`);
          throw err;
        }
        const host = await deps.hosts.get(orgId, hostId);
        row = await store.ensureVolume(orgId, host.id, name);
      }
      if (!row) throw new NotFound(`No volume ${ref}`);
      const found = row;
      const dumpSet = patch.dump !== undefined ? patch.dump : found.dump;
      if ((patch.mode ?? found.mode) === "dump" && !dumpSet) {
        throw invalidFields({ dump: "dump mode needs the database container and engine" });
      }
      if (patch.target_id && !(await store.target(orgId, patch.target_id))) {
        throw invalidFields({ target_id: "No such storage target" });
      }
      return await deps.audit.run(ctx, "storage_volume.updated", {
        orgId,
        target: { type: "volume", id: found.id, name: found.volume },
        metadata: { host_id: found.host_id, ...patch },
      }, async () => {
        await store.updateVolume(found.id, {
          ...(patch.target_id !== undefined ? { target_id: patch.target_id } : {}),
          ...(patch.on_stop !== undefined ? { on_stop: patch.on_stop ? 1 : 0 } : {}),
          ...(patch.sync !== undefined ? { sync: patch.sync ? 1 : 0 } : {}),
          ...(patch.mode !== undefined ? { mode: patch.mode } : {}),
          ...(patch.dump !== undefined
            ? { dump: patch.dump ? JSON.stringify(patch.dump) : null }
            : {}),
        });
        return (await store.volume(orgId, found.id))!;
      });
    },
  };
}

export type StorageVolumes = ReturnType<typeof createStorageVolumes>;
