/**
 * Every realtime topic, defined once: its name builder, the type of its payload (the publishing
 * module and the islands both use it: islands `import type` from here) and its access rule (the
 * least organization role that may subscribe).
 *
 * Topic names are `org:<orgId>:<name>` or `user:<userId>:<name>`. A topic name carries its payload
 * type (`Topic<T>`, a string at run time, so it travels as an island prop), which is how
 * `RealtimePublisher.publish(topics.hosts(orgId), payload)` and `useLiveTopic(topic, onEvent)`
 * agree on what travels without sharing any runtime code.
 *
 * Adding a topic: one entry in `topics` below with its payload type. An organization topic that
 * is not defined here cannot be subscribed to (deny by default, DESIGN §5.2).
 */
import type { OrgRole } from "../db/schema.ts";

declare const payload: unique symbol;

/** A topic name whose events carry `T`; build one with `topics.*`, never by hand. */
export type Topic<T> = string & { readonly [payload]: T };

/** The payload type of a topic. */
export type PayloadOf<X> = X extends Topic<infer T> ? T : never;

/**
 * The owner id of install-wide topics (`org:install:<name>`): no organization has it (their ids are
 * UUIDs), and only platform admins signed in with a session may read them (access.ts).
 */
export const INSTALL_ID = "install";

const TOPIC_RE = /^(org|user):([A-Za-z0-9-]{1,64}):([a-z0-9_.-]{1,64})$/;

/** Whether `topic` is a well-formed `org:<orgId>:<name>` or `user:<userId>:<name>`. */
export function isValidTopic(topic: unknown): topic is string {
  return typeof topic === "string" && TOPIC_RE.test(topic);
}

/** Splits a topic into its scope, owner id and name (for access checks), or null when malformed. */
export function parseTopic(
  topic: string,
): { scope: "org" | "user"; id: string; name: string } | null {
  const m = TOPIC_RE.exec(topic);
  return m ? { scope: m[1] as "org" | "user", id: m[2], name: m[3] } : null;
}

/** An organization topic: `org:<orgId>:<name>`. */
export interface OrgTopic<T> {
  (orgId: string): Topic<T>;
  readonly per: "org";
  /** The name after the organization id. */
  readonly topicName: string;
  /** The least role that may subscribe (platform admins always may). */
  readonly role: OrgRole;
}

/** An organization topic per item (a host): `org:<orgId>:<name>.<itemId>`. */
export interface OrgItemTopic<T> {
  (orgId: string, itemId: string): Topic<T>;
  readonly per: "item";
  /** The name before `.<itemId>`. */
  readonly topicName: string;
  /** The least role that may subscribe (platform admins always may). */
  readonly role: OrgRole;
}

/** Defines an organization topic readable from `role` up. */
export function orgTopic<T>(topicName: string, role: OrgRole): OrgTopic<T> {
  const build = (orgId: string) => `org:${orgId}:${topicName}` as Topic<T>;
  return Object.assign(build, { per: "org" as const, topicName, role });
}

/** Defines a per-item organization topic readable from `role` up. */
export function orgItemTopic<T>(topicName: string, role: OrgRole): OrgItemTopic<T> {
  const build = (orgId: string, itemId: string) =>
    `org:${orgId}:${topicName}.${itemId}` as Topic<T>;
  return Object.assign(build, { per: "item" as const, topicName, role });
}

// ---- Payloads ----------------------------------------------------------------------------------

/** `containers`: the agent registry after a host's container cache changed. */
export type ContainersEvent =
  /** A full resync: the host's rows must be re-read. */
  | { host_id: string; kind: "snapshot" }
  /** One container's Docker event; `state` is absent when the event does not say. */
  | { host_id: string; kind: "event"; id: string; action: string; state?: string };

/** `hosts`: an agent connected or went. */
export interface HostsEvent {
  host_id: string;
  online: boolean;
}

/** One metrics sample as the host page draws it: time and every host series' value. */
export interface HostSample {
  t: number;
  host: Record<string, number>;
}

/** `metrics.<hostId>`: the samples of a committed batch (only the last when all would not fit). */
export interface HostMetricsEvent {
  host_id: string;
  samples: HostSample[];
}

/** `metrics`: a host's last sample of a batch plus every sample's CPU and memory, for the fleet. */
export interface FleetEvent {
  host_id: string;
  t: number;
  cpu?: number | null;
  mem?: number | null;
  rx?: number | null;
  tx?: number | null;
  /** `[t, cpu %, memory %]` of each sample of the batch (the newest 60). */
  points?: [number, number | null, number | null][];
  /**
   * The batch's newest container sample, per container id: `[cpu % of the host, memory %]`
   * (memory of its limit, or of the host's memory without one). For the topology map's bars.
   */
  ctr?: Record<string, [number | null, number | null]>;
}

/** One batch's entry per check (small batches only; big ones come without). */
export interface CheckNews {
  id: string;
  state: string;
  ok: boolean;
  at: number;
  response_ms: number | null;
}

/** `health`: checks created or changed, results stored, a check's state changed. */
export type HealthEvent =
  | { kind: "state"; check_id: string; host_id: string; state: string }
  | { kind: "created"; check_id: string; host_id: string }
  | { kind: "checks"; host_id: string }
  | { kind: "results"; host_id: string; count: number; checks?: CheckNews[] };

/** `alerts`: an alert fired, resolved, was acknowledged or silenced. */
export type AlertsEvent =
  | {
    /** `event`: an instant alert (an event rule) that fired and is done. */
    kind: "fired" | "event";
    id: string;
    severity: string;
    title: string;
    host_id: string;
    muted: boolean;
  }
  | { kind: "resolved"; id: string | null; host_id: string }
  | { kind: "acknowledged"; id: string }
  | { kind: "silenced"; id: string; silenced_until: number };

/** `audit`: a row was added to the organization's audit log. */
export interface AuditEvent {
  id: string;
  action: string;
}

// ---- The topics --------------------------------------------------------------------------------

/** Every realtime topic the hub publishes on. */
export const topics = {
  /** Container states of an organization's hosts (lib/agents). */
  containers: orgTopic<ContainersEvent>("containers", "viewer"),
  /** Agents connecting and going (lib/agents). */
  hosts: orgTopic<HostsEvent>("hosts", "viewer"),
  /** Every sample of a host's committed batches (lib/metrics). */
  hostMetrics: orgItemTopic<HostMetricsEvent>("metrics", "viewer"),
  /** A summary of every committed batch of the organization (lib/metrics). */
  fleetMetrics: orgTopic<FleetEvent>("metrics", "viewer"),
  /** Health check states and results (lib/health): what the health pages show viewers. */
  health: orgTopic<HealthEvent>("health", "viewer"),
  /** Alerts firing, resolving, acknowledged (lib/alerts). */
  alerts: orgTopic<AlertsEvent>("alerts", "viewer"),
  /** New audit rows (lib/audit): the audit page is for admins. */
  audit: orgTopic<AuditEvent>("audit", "admin"),
} as const;

/** Any topic definition, whatever its payload. */
export type TopicDef = OrgTopic<unknown> | OrgItemTopic<unknown>;

/**
 * The `{ name: role }` record of topic definitions, as a feature module declares its topics; an
 * item topic is keyed `<name>.*`, so `metrics` (the fleet) and `metrics.<hostId>` stay apart.
 */
export function topicRoles(defs: Iterable<TopicDef>): Record<string, OrgRole> {
  const roles: Record<string, OrgRole> = {};
  for (const def of defs) {
    const key = def.per === "item" ? `${def.topicName}.*` : def.topicName;
    if (Object.hasOwn(roles, key)) throw new Error(`Cannot define topic "${key}" twice`);
    roles[key] = def.role;
  }
  return roles;
}

const TOPIC_ROLES = topicRoles(Object.values(topics));

/**
 * The least role that may read an organization topic with this name (the part after the org id)
 * by `roles` (default: every topic above), or undefined when no topic of that name is defined.
 */
export function orgTopicRole(
  name: string,
  roles: Readonly<Record<string, OrgRole>> = TOPIC_ROLES,
): OrgRole | undefined {
  const dot = name.indexOf(".");
  const key = dot < 0 ? name : `${name.slice(0, dot)}.*`;
  return Object.hasOwn(roles, key) ? roles[key] : undefined;
}
