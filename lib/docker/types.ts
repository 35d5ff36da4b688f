/**
 * Hand-written shapes of the Engine API v1.41 responses, limited to the fields Capstan reads.
 * Field names stay as Docker spells them so the spec (docker-engine-api-v1.41.yaml) is the
 * reference; the engine sends more fields than are listed here.
 */

/** `GET /version`. */
export interface DockerVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
  BuildTime?: string;
}

/** `GET /info`. */
export interface DockerInfo {
  ID: string;
  Name: string;
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
  Driver: string;
  MemTotal: number;
  NCPU: number;
  OperatingSystem: string;
  OSType: string;
  Architecture: string;
  KernelVersion: string;
  ServerVersion: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  DockerRootDir?: string;
  NEventsListener?: number;
  Labels?: string[];
  Warnings?: string[] | null;
  Swarm?: { LocalNodeState?: string; NodeID?: string; ControlAvailable?: boolean };
}

/** A published or exposed port in a container list entry. */
export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: "tcp" | "udp" | "sctp";
}

/** A mount as the engine reports it. */
export interface MountPoint {
  Type: "bind" | "volume" | "tmpfs" | "npipe" | string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode?: string;
  RW: boolean;
}

/** One network attachment of a container. */
export interface EndpointSettings {
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  MacAddress?: string;
  Aliases?: string[] | null;
}

/** `GET /containers/json` entry. */
export interface ContainerSummary {
  Id: string;
  /** Names carry a leading slash ("/web"). */
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  /** Unix seconds. */
  Created: number;
  State: "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";
  Status: string;
  Ports: PortSummary[];
  Labels: Record<string, string>;
  SizeRw?: number;
  SizeRootFs?: number;
  HostConfig?: { NetworkMode?: string };
  NetworkSettings?: { Networks?: Record<string, EndpointSettings> };
  Mounts?: MountPoint[];
}

/** Port binding on the host side. */
export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

/** Restart policy names the engine accepts. */
export type RestartPolicyName = "" | "no" | "always" | "unless-stopped" | "on-failure";

/** HostConfig fields read back from inspect. */
export interface HostConfig {
  NetworkMode?: string;
  PidMode?: string;
  Privileged?: boolean;
  RestartPolicy?: { Name: RestartPolicyName; MaximumRetryCount?: number };
  PortBindings?: Record<string, PortBinding[] | null> | null;
  Binds?: string[] | null;
  Mounts?: { Type: string; Source?: string; Target: string; ReadOnly?: boolean }[] | null;
  NanoCpus?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  CpuShares?: number;
  Memory?: number;
  MemorySwap?: number;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Devices?: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[] | null;
  AutoRemove?: boolean;
}

/** `GET /containers/{id}/json`. */
export interface ContainerInspect {
  Id: string;
  /** With a leading slash. */
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  Image: string;
  RestartCount: number;
  State: {
    Status: ContainerSummary["State"];
    Running: boolean;
    Paused: boolean;
    Restarting: boolean;
    OOMKilled: boolean;
    Dead: boolean;
    Pid: number;
    ExitCode: number;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
    Health?: {
      Status: string;
      FailingStreak: number;
      Log?: { Start: string; End: string; ExitCode: number; Output: string }[] | null;
    };
  };
  Config: {
    Hostname?: string;
    User?: string;
    Tty: boolean;
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    Image: string;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, Record<string, never>> | null;
    StopSignal?: string;
  };
  HostConfig: HostConfig;
  NetworkSettings: {
    IPAddress?: string;
    Ports?: Record<string, PortBinding[] | null> | null;
    Networks?: Record<string, EndpointSettings>;
  };
  Mounts: MountPoint[];
}

/** `GET /images/json` entry. */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  /** Unix seconds. */
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string> | null;
  /** -1 unless the engine computed it (it does in /system/df). */
  Containers: number;
}

/** `GET /images/{name}/json`. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: string;
  Size: number;
  VirtualSize?: number;
  Architecture: string;
  Os: string;
  Config?: {
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    Env?: string[] | null;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, Record<string, never>> | null;
    WorkingDir?: string;
  };
}

/** One line of an image removal answer. */
export interface ImageDeleteItem {
  Untagged?: string;
  Deleted?: string;
}

/** `POST /images/prune`. */
export interface ImagePruneResult {
  ImagesDeleted: ImageDeleteItem[] | null;
  SpaceReclaimed: number;
}

/** One JSON line of a pull's progress stream. */
export interface PullProgress {
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { code?: number; message?: string };
}

/** `GET /networks/{id}`. */
export interface NetworkInspect {
  Name: string;
  Id: string;
  Created: string;
  Scope: "local" | "swarm" | "global" | string;
  Driver: string;
  EnableIPv6: boolean;
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  IPAM: {
    Driver: string;
    Config: { Subnet?: string; Gateway?: string; IPRange?: string }[] | null;
    Options?: Record<string, string> | null;
  };
  Containers?: Record<
    string,
    {
      Name: string;
      EndpointID: string;
      MacAddress: string;
      IPv4Address: string;
      IPv6Address: string;
    }
  >;
  Options: Record<string, string> | null;
  Labels: Record<string, string> | null;
}

/** `GET /volumes/{name}` and list entries. */
export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt?: string;
  Labels: Record<string, string> | null;
  Scope: "local" | "global";
  Options: Record<string, string> | null;
  Status?: Record<string, unknown>;
  /** Only filled by /system/df; Size is -1 when not computed. */
  UsageData?: { Size: number; RefCount: number } | null;
}

/** `GET /system/df`. */
export interface SystemDf {
  LayersSize: number;
  Images: ImageSummary[];
  Containers: ContainerSummary[];
  Volumes: Volume[];
  BuildCache?: unknown[] | null;
}

/** One JSON line of `GET /events`. */
export interface DockerEvent {
  Type: "container" | "image" | "volume" | "network" | "daemon" | "plugin" | "node" | string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope?: "local" | "swarm";
  /** Unix seconds. */
  time: number;
  /** Unix nanoseconds; use it for `since` when reconnecting. */
  timeNano: number;
  /** Deprecated mirrors of Action/Actor.ID kept by the engine. */
  status?: string;
  id?: string;
  from?: string;
}

/** `GET /exec/{id}/json`: an exec instance; `ExitCode` is null while it runs. */
export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  ContainerID: string;
}
