import type { CallOptions, EngineTransport } from "./transport.ts";
import type { DockerInfo, DockerVersion, SystemDf } from "./types.ts";

/** Engine-wide calls: liveness, versions, facts, disk usage. */
export interface SystemApi {
  /** Checks the engine answers ("OK"). */
  ping(opts?: CallOptions): Promise<string>;
  /** Engine and API versions. */
  version(opts?: CallOptions): Promise<DockerVersion>;
  /** Host facts: CPUs, memory, OS, storage driver, counts. */
  info(opts?: CallOptions): Promise<DockerInfo>;
  /** Disk usage, including each volume's size and reference count. */
  systemDf(opts?: CallOptions): Promise<SystemDf>;
}

/** The system calls over one transport. */
export function systemApi(t: EngineTransport): SystemApi {
  return {
    ping: async (opts = {}) => await t.text({ method: "GET", path: "/_ping", ...opts }),
    version: async (opts = {}) =>
      await t.json({ method: "GET", path: "/version", signal: opts.signal }),
    info: async (opts = {}) => await t.json({ method: "GET", path: "/info", signal: opts.signal }),
    // df walks every container's and volume's files, so it gets more time than a plain call.
    systemDf: async (opts = {}) =>
      await t.json({ method: "GET", path: "/system/df", signal: opts.signal, extraMs: 60_000 }),
  };
}
