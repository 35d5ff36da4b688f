/**
 * The shape of an event-rule kind (one file each in this folder, the way Beszel keeps one file per
 * alert kind) and the narrow interface it acts through. A kind never touches the database, the
 * worker or the cache: it reads what it is fed (an agent's container event, a health check's
 * change, the periodic tick) and moves subjects through a `RuleContext`, which the engine
 * implements (engine/transitions.ts).
 */
import type { CompiledRule } from "../compile.ts";
import { alertTitle, type FireInfo, firingDetail } from "../describe.ts";
import type { HostInfo } from "../facts.ts";
import type { Subject } from "../engine/subject.ts";
import type { RotationMode } from "../../secrets/events.ts";

/** What a kind may do to one organization's subjects. */
export interface RuleContext {
  /** Hub time the input arrived (a container event's receipt, the tick's start). */
  readonly now: number;
  /** The subject of (rule, name), created in state ok when the organization has none yet. */
  subject(rule: CompiledRule, name: string, hostId: string, containerId?: string): Subject;
  /** The subject of (rule, name), if the organization has one. */
  existing(rule: CompiledRule, name: string): Subject | undefined;
  /** Calls `fn` with every subject of the organization and its rule, oldest first. */
  each(fn: (s: Subject, rule: CompiledRule) => void): void;
  /** Moves a subject to firing at `t` (default: the hub's time now) and queues its alert. */
  fire(
    s: Subject,
    value: number | null,
    info: FireInfo | (() => Promise<FireInfo>),
    t?: number,
  ): void;
  /** Resolves a firing subject (its alert ends), or quietly returns a pending one to ok. */
  resolve(s: Subject): void;
  /** Records an instant alert: started and ended at once, never resolved (OOM kill). */
  instant(s: Subject, value: number | null, info: FireInfo): void;
  /** Persists a change that raises no alert (pending, a restart counted). */
  sync(s: Subject): void;
  /** A host's name as the engine knows it, else its id. */
  hostName(hostId: string): string;
  /** A container's name for an alert: the host's container cache's, else the short id. */
  containerName(hostId: string, containerId: string): Promise<string>;
}

/** The part of an agent's container event the rules read. */
export interface ContainerEvent {
  type: string;
  action: string;
  id: string;
  name?: string;
  time_nano: number;
  container?: { name: string; state: string; status: string };
}

/** A container event as every kind reads it, worked out once per event. */
export interface ContainerEventFacts {
  event: ContainerEvent;
  host: HostInfo;
  /** The container's name without Docker's leading "/". */
  name: string;
  /** Docker's status text after the event ("Exited (1) 3 seconds ago", "Up 2 minutes (unhealthy)"). */
  status: string;
  /** The subject of per-container event rules: `<host id>/<container id>`. */
  subject: string;
  /** The container is gone (destroyed): whatever it raised ends. */
  gone: boolean;
}

/** Works out what every kind reads of a container event on `host`. */
export function containerEventFacts(host: HostInfo, e: ContainerEvent): ContainerEventFacts {
  return {
    event: e,
    host,
    name: (e.container?.name ?? e.name ?? e.id.slice(0, 12)).replace(/^\//, ""),
    status: e.container?.status ?? "",
    subject: `${host.id}/${e.id}`,
    gone: e.action === "destroy",
  };
}

/** A health check's state change (lib/health/service.ts), as the health_check rules read it. */
export interface HealthCheckChange {
  host_id: string;
  check_id: string;
  check_name: string;
  container_id: string;
  container_name: string;
  /** unhealthy fires; anything else (healthy, unknown, removed) resolves. */
  to: string;
  retries: number;
  error: string | null;
}

/** Tasks Swarm started on other nodes because theirs went down (lib/apps reconciler), per app. */
export interface TasksMoved {
  org_id: string;
  app: { id: string; name: string };
  moves: {
    service: string;
    slot: number;
    task_id: string;
    /** When the task that was lost started (the manager's clock, ms). */
    task_created_at: number;
    from_node: string;
    to_node: string;
  }[];
}

/**
 * What a secret's rotation did to each app that uses it (lib/apps, after the restarts), as the
 * secret_rotated rules read it. Names and numbers only, never a value.
 */
export interface SecretRestarts {
  org_id: string;
  secret: { id: string; name: string };
  version: number;
  mode: RotationMode;
  /** Who rotated it. */
  actor_name: string;
  apps: { id: string; name: string; deployment_number?: number; skipped?: string }[];
}

/** A hostname's certificate changed state (lib/proxy), as the certificate rules read it. */
export type { CertificateChange } from "../../proxy/events.ts";
import type { CertificateChange } from "../../proxy/events.ts";

/**
 * A build or the deployment it made changed stage, and an app's Git webhook was disabled after
 * bad signatures (lib/builds), as the build and webhook_disabled rules read them.
 */
export type { BuildNotice, WebhookDisabled } from "../../builds/events.ts";
import type { BuildNotice, WebhookDisabled } from "../../builds/events.ts";

/** A NAS target was checked or removed (lib/nas), as the nas_backup_stale rules read it. */
export type { NasStatus } from "../../nas/events.ts";
import type { NasStatus } from "../../nas/events.ts";
/**
 * A snapshot or restore failed, and a storage target's verification failed (lib/snapshots), as
 * the snapshot_failed and snapshot_verify_failed rules read them.
 */
export type { SnapshotFailed, SnapshotVerifyFailed } from "../../snapshots/events.ts";
import type { SnapshotFailed, SnapshotVerifyFailed } from "../../snapshots/events.ts";

/** An org's wallet moved into, through or out of grace (lib/billing), as billing_wallet reads it. */
export type { WalletNotice } from "../../billing/events.ts";
import type { WalletNotice } from "../../billing/events.ts";

/** An org's use of a quota resource crossed a level (lib/quotas), as quota_usage reads it. */
export type { QuotaNotice } from "../../quotas/events.ts";
import type { QuotaNotice } from "../../quotas/events.ts";

/** One kind of event rule: what it does with each input; a kind handles only what feeds it. */
export interface EventRuleKind {
  /** An agent's container event on a host the rule covers. */
  containerEvent?(c: RuleContext, rule: CompiledRule, e: ContainerEventFacts): void;
  /** A health check's change on a host the rule covers. */
  healthChange?(
    c: RuleContext,
    rule: CompiledRule,
    host: HostInfo,
    change: HealthCheckChange,
  ): void;
  /** An app's tasks moved off a down node (organization-wide rules: apps span hosts). */
  tasksMoved?(c: RuleContext, rule: CompiledRule, moved: TasksMoved): void;
  /** A secret apps use was rotated and the apps restarted or not (organization-wide rules). */
  secretRestarts?(c: RuleContext, rule: CompiledRule, restarts: SecretRestarts): void;
  /** A route hostname's certificate changed state (organization-wide rules). */
  certificateChange?(c: RuleContext, rule: CompiledRule, change: CertificateChange): void;
  /** A build or its deployment changed stage (organization-wide rules). */
  buildNotice?(c: RuleContext, rule: CompiledRule, notice: BuildNotice): void;
  /** An app's Git webhook was disabled after bad signatures (organization-wide rules). */
  webhookDisabled?(c: RuleContext, rule: CompiledRule, disabled: WebhookDisabled): void;
  /** A NAS target was checked (its sites' ages, or why it could not be read) or removed. */
  nasStatus?(c: RuleContext, rule: CompiledRule, status: NasStatus): void;
  /** A volume snapshot or a restore failed (organization-wide rules). */
  snapshotFailed?(c: RuleContext, rule: CompiledRule, failed: SnapshotFailed): void;
  /** A storage target's verification failed (organization-wide rules). */
  snapshotVerifyFailed?(c: RuleContext, rule: CompiledRule, failed: SnapshotVerifyFailed): void;
  /** An org's wallet entered grace, passed its halfway point, was blocked or recovered. */
  billingWallet?(c: RuleContext, rule: CompiledRule, notice: WalletNotice): void;
  /** An org's use of a quota resource crossed a level, or a violation blocked deploys. */
  quotaUsage?(c: RuleContext, rule: CompiledRule, notice: QuotaNotice): void;
  /** The periodic tick, once per organization with its rules of this kind and its live hosts. */
  tickHosts?(c: RuleContext, rules: CompiledRule[], hosts: HostLiveness[]): void;
  /** The periodic tick, once per subject of a rule of this kind (holds elapsed, loops calmed). */
  tickSubject?(c: RuleContext, rule: CompiledRule, s: Subject): void;
  /** A host reported again or its agent reconnected. */
  hostBack?(c: RuleContext, rule: CompiledRule, hostId: string): void;
}

/** A live host with when it was last heard of and whether its agent is connected here. */
export interface HostLiveness {
  host: HostInfo;
  /** Hub time of its last report, last contact or enrolment, whichever is latest (0: never). */
  lastHeard: number;
  connected: boolean;
}

/** What a per-container event alert records and says. */
export function containerFireInfo(
  rule: CompiledRule,
  e: ContainerEventFacts,
  o: { value: number | null; exitCode?: number | null },
): FireInfo {
  return {
    hostName: e.host.name,
    containerName: e.name,
    title: alertTitle(rule, e.host.name, e.name, ""),
    detail: firingDetail(rule, { ...o, container: e.name }),
  };
}
