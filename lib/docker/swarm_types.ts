/**
 * Hand-written shapes of the Engine API v1.41's Swarm responses (swarm, nodes, services, tasks),
 * limited to the fields Capstan reads. Names stay as Docker spells them.
 */

/** An object version; updates must name the version they were computed from. */
export interface ObjectVersion {
  Index: number;
}

/** `GET /swarm` (managers only). */
export interface SwarmInspect {
  ID: string;
  Version: ObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  JoinTokens: { Worker: string; Manager: string };
  DataPathPort?: number;
  DefaultAddrPool?: string[];
}

/** The engine's own view of its swarm membership (`GET /info` → `Swarm`). */
export interface SwarmLocalState {
  NodeID: string;
  NodeAddr: string;
  /** "inactive" | "pending" | "active" | "error" | "locked". */
  LocalNodeState: string;
  ControlAvailable: boolean;
  Error: string;
  RemoteManagers: { NodeID: string; Addr: string }[] | null;
  Nodes?: number;
  Managers?: number;
  Cluster?: { ID: string };
}

/** A node's settable spec. */
export interface NodeSpec {
  Name?: string;
  Labels?: Record<string, string>;
  Role: "worker" | "manager";
  Availability: "active" | "pause" | "drain";
}

/** `GET /nodes` entry. */
export interface SwarmNode {
  ID: string;
  Version: ObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: NodeSpec;
  Description: {
    Hostname: string;
    Platform: { Architecture: string; OS: string };
    Resources: { NanoCPUs: number; MemoryBytes: number };
    Engine: { EngineVersion: string; Labels?: Record<string, string> };
  };
  Status: { State: "unknown" | "down" | "ready" | "disconnected"; Message?: string; Addr: string };
  ManagerStatus?: { Leader?: boolean; Reachability: string; Addr: string };
}

/** A published port of a service. */
export interface EndpointPortConfig {
  Name?: string;
  Protocol: "tcp" | "udp" | "sctp";
  TargetPort: number;
  PublishedPort?: number;
  PublishMode: "ingress" | "host";
}

/** The spec of a service as the engine stores it (what `serviceBody` builds). */
export interface ServiceSpecBody {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Labels?: Record<string, string>;
      Command?: string[];
      Args?: string[];
      Env?: string[];
      Secrets?: {
        SecretID: string;
        SecretName: string;
        File?: { Name: string; UID: string; GID: string; Mode: number };
      }[];
      Dir?: string;
      User?: string;
      Mounts?: { Type: "volume" | "bind"; Source: string; Target: string; ReadOnly: boolean }[];
      CapabilityAdd?: string[];
      StopGracePeriod?: number;
      Healthcheck?: Record<string, unknown>;
    };
    Resources?: {
      Limits?: { NanoCPUs?: number; MemoryBytes?: number };
      Reservations?: { NanoCPUs?: number; MemoryBytes?: number };
    };
    RestartPolicy?: {
      Condition: "none" | "on-failure" | "any";
      Delay?: number;
      MaxAttempts?: number;
      Window?: number;
    };
    Placement?: { Constraints?: string[]; MaxReplicas?: number };
    Networks?: { Target: string; Aliases?: string[] }[];
    ForceUpdate?: number;
  };
  Mode: { Replicated: { Replicas: number } } | { Global: Record<string, never> };
  UpdateConfig?: UpdateConfigBody;
  RollbackConfig?: UpdateConfigBody;
  EndpointSpec?: { Mode?: "vip" | "dnsrr"; Ports?: EndpointPortConfig[] };
}

/** How Swarm rolls an update (or a rollback) through the tasks; durations in nanoseconds. */
export interface UpdateConfigBody {
  Parallelism: number;
  Delay?: number;
  FailureAction?: "continue" | "pause" | "rollback";
  Monitor?: number;
  MaxFailureRatio?: number;
  Order?: "stop-first" | "start-first";
}

/** `GET /services` entry. */
export interface SwarmService {
  ID: string;
  Version: ObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Spec: ServiceSpecBody;
  PreviousSpec?: ServiceSpecBody;
  Endpoint?: {
    Ports?: EndpointPortConfig[];
    VirtualIPs?: { NetworkID: string; Addr: string }[];
  };
  UpdateStatus?: {
    /** "updating" | "paused" | "completed" | "rollback_started" | "rollback_paused" | "rollback_completed". */
    State: string;
    StartedAt?: string;
    CompletedAt?: string;
    Message?: string;
  };
  /** With `status=true`: running and desired task counts. */
  ServiceStatus?: { RunningTasks: number; DesiredTasks: number; CompletedTasks?: number };
}

/** `GET /tasks` entry. */
export interface SwarmTask {
  ID: string;
  Version: ObjectVersion;
  CreatedAt: string;
  UpdatedAt: string;
  Labels?: Record<string, string>;
  Spec: ServiceSpecBody["TaskTemplate"];
  ServiceID: string;
  Slot?: number;
  NodeID?: string;
  Status: {
    Timestamp: string;
    /** new, pending, assigned, accepted, preparing, starting, running, complete, shutdown, failed, rejected, remove, orphaned. */
    State: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; PID?: number; ExitCode?: number };
    /** Ports the task publishes in host mode, with the port its node gave it. */
    PortStatus?: {
      Ports?: { Protocol?: string; TargetPort?: number; PublishedPort?: number }[];
    };
  };
  DesiredState: string;
  NetworksAttachments?: {
    Network: { ID: string; Spec?: { Name?: string } };
    Addresses?: string[];
  }[];
}
