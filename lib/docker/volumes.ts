import {
  type CallOptions,
  enc,
  type EngineTransport,
  type Filters,
  filtersParam,
} from "./transport.ts";
import { driverName } from "./inputs.ts";
import { volumeName } from "./validate.ts";
import type { Volume } from "./types.ts";

/** Options for creating a volume. */
export interface VolumeCreateSpec {
  name: string;
  driver?: string;
  labels?: Record<string, string>;
  driverOpts?: Record<string, string>;
}

/** Volume calls. */
export interface VolumesApi {
  /** Volumes (without sizes; see systemDf). */
  listVolumes(opts?: { filters?: Filters } & CallOptions): Promise<Volume[]>;
  /** One volume. */
  inspectVolume(name: string, opts?: CallOptions): Promise<Volume>;
  /** Creates a volume (returns the existing one if the name is taken, as Docker does). */
  createVolume(spec: VolumeCreateSpec, opts?: CallOptions): Promise<Volume>;
  /** Removes a volume; 409 while a container uses it. */
  removeVolume(name: string, opts?: { force?: boolean } & CallOptions): Promise<void>;
}

/** The volume calls over one transport. */
export function volumesApi(t: EngineTransport): VolumesApi {
  return {
    async listVolumes(opts = {}) {
      const r = await t.json<{ Volumes: Volume[] | null }>({
        method: "GET",
        path: "/volumes",
        query: { filters: filtersParam(opts.filters) },
        signal: opts.signal,
      });
      return r.Volumes ?? [];
    },
    inspectVolume: async (name, opts = {}) =>
      await t.json({
        method: "GET",
        path: `/volumes/${enc(volumeName(name))}`,
        signal: opts.signal,
      }),
    async createVolume(spec, opts = {}) {
      const name = volumeName(spec.name, "name");
      const driver = driverName(spec.driver ?? "local");
      return await t.json({
        method: "POST",
        path: "/volumes/create",
        body: {
          Name: name,
          Driver: driver,
          Labels: spec.labels ?? {},
          DriverOpts: spec.driverOpts ?? {},
        },
        signal: opts.signal,
      });
    },
    removeVolume: async (name, opts = {}) =>
      await t.void({
        method: "DELETE",
        path: `/volumes/${enc(volumeName(name))}`,
        query: { force: opts.force },
        signal: opts.signal,
      }),
  };
}
