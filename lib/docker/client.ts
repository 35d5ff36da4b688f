/**
 * A typed client for the Docker Engine API v1.41 over its unix socket.
 *
 * It speaks the API directly with `fetch` and a unix-socket `Deno.HttpClient` (no docker CLI,
 * no shell). Every name that goes into a path is validated against an allowlist first and then
 * URL-encoded; engine errors become `DockerError` with Docker's own message; every request has a
 * timeout, and streams end when the caller's AbortSignal fires or the consumer stops iterating,
 * which closes the connection so the engine stops producing.
 *
 * The transport lives in transport.ts and each Engine resource in a file of its own
 * (containers.ts, exec.ts, images.ts, networks.ts, volumes.ts, events.ts, system.ts, and for
 * Swarm swarm.ts and services.ts); this file
 * puts them together into the one client the agent holds per engine.
 */

import { type DockerClientOptions, EngineTransport } from "./transport.ts";
import { type SystemApi, systemApi } from "./system.ts";
import { type ContainersApi, containersApi } from "./containers.ts";
import { type ExecApi, execApi } from "./exec.ts";
import { type ImagesApi, imagesApi } from "./images.ts";
import { type NetworksApi, networksApi } from "./networks.ts";
import { type VolumesApi, volumesApi } from "./volumes.ts";
import { type EventsApi, eventsApi } from "./events.ts";
import { type SwarmApi, swarmApi } from "./swarm.ts";
import { type ServicesApi, servicesApi } from "./services.ts";
import { type SecretsApi, secretsApi } from "./secrets.ts";

export type * from "./types.ts";
export type { DockerStats } from "./stats.ts";
export type { Frame, LogLine, StreamName } from "./streams.ts";
export { DockerInputError } from "./validate.ts";
export {
  type CallOptions,
  DEFAULT_DOCKER_SOCKET,
  DOCKER_API_VERSION,
  type DockerClientOptions,
  DockerError,
  type DockerStream,
  type FetchLike,
  type Filters,
} from "./transport.ts";
export type { HealthcheckSpec } from "./inputs.ts";
export type {
  ContainerSpec,
  DeviceSpec,
  LogsOptions,
  PortSpec,
  StatsOptions,
  VolumeMountSpec,
} from "./containers.ts";
export type { ExecSpec } from "./exec.ts";
export type { NetworkCreateSpec } from "./networks.ts";
export type { VolumeCreateSpec } from "./volumes.ts";
export type { EventsOptions } from "./events.ts";
export type * from "./swarm_types.ts";
export type { SwarmInitSpec, SwarmJoinSpec } from "./swarm.ts";
export type {
  ServiceLogLine,
  ServiceLogsOptions,
  ServicePortSpec,
  ServiceSpec,
  UpdatePolicy,
} from "./services.ts";

/** The Engine API operations Capstan uses. */
export interface DockerClient
  extends
    SystemApi,
    ContainersApi,
    ExecApi,
    ImagesApi,
    NetworksApi,
    VolumesApi,
    EventsApi,
    SwarmApi,
    ServicesApi,
    SecretsApi {
  readonly socketPath: string;
  /** Releases the socket connection pool. */
  close(): void;
}

/** Creates a client for the engine at `socketPath` (default /var/run/docker.sock). */
export function createDockerClient(opts: DockerClientOptions = {}): DockerClient {
  const t = new EngineTransport(opts);
  return {
    socketPath: t.socketPath,
    close: () => t.close(),
    ...systemApi(t),
    ...containersApi(t),
    ...execApi(t),
    ...imagesApi(t),
    ...networksApi(t),
    ...volumesApi(t),
    ...eventsApi(t),
    ...swarmApi(t),
    ...servicesApi(t),
    ...secretsApi(t),
  };
}
