/**
 * The event-rule kinds, one line each: what the engine feeds agent events, health changes, hosts
 * coming back and the periodic tick to. Adding a kind is a file in this folder, its entry in
 * schema.ts's EVENT_TYPES, and a line here.
 */
import type { EventType } from "../schema.ts";
import type { EventRuleKind } from "./kind.ts";
import { hostOffline } from "./host_offline.ts";
import { containerExited } from "./container_exited.ts";
import { restartLoop } from "./restart_loop.ts";
import { unhealthy } from "./unhealthy.ts";
import { oom } from "./oom.ts";
import { healthCheck } from "./health_check.ts";
import { tasksMoved } from "./tasks_moved.ts";
import { secretRotated } from "./secret_rotated.ts";
import { certificate } from "./certificate.ts";
import { build } from "./build.ts";
import { webhookDisabled } from "./webhook_disabled.ts";
import { nasBackupStale } from "./nas_backup_stale.ts";
import { snapshotFailed } from "./snapshot_failed.ts";
import { snapshotVerifyFailed } from "./snapshot_verify_failed.ts";
import { billingWallet } from "./billing_wallet.ts";
import { quotaUsage } from "./quota_usage.ts";

/** Every event type's kind. */
export const EVENT_RULE_KINDS: Record<EventType, EventRuleKind> = {
  host_offline: hostOffline,
  container_exited: containerExited,
  restart_loop: restartLoop,
  unhealthy,
  oom,
  // A threshold on docker.root_bytes (compile.ts): the metric path evaluates it, nothing here.
  data_root_size: {},
  health_check: healthCheck,
  tasks_moved: tasksMoved,
  secret_rotated: secretRotated,
  certificate,
  build,
  webhook_disabled: webhookDisabled,
  nas_backup_stale: nasBackupStale,
  snapshot_failed: snapshotFailed,
  snapshot_verify_failed: snapshotVerifyFailed,
  billing_wallet: billingWallet,
  quota_usage: quotaUsage,
};

/** The kind of an event rule (undefined for a metric rule). */
export function kindOf(rule: { spec: { event: EventType | null } }): EventRuleKind | undefined {
  return rule.spec.event ? EVENT_RULE_KINDS[rule.spec.event] : undefined;
}

/** Whether an agent event can matter to any event rule (cheap filter before queueing work). */
export function eventMatters(e: { type: string; action: string }): boolean {
  return e.type === "container" &&
    ["die", "start", "destroy", "health_status", "oom"].includes(e.action);
}

export type {
  BuildNotice,
  CertificateChange,
  ContainerEvent,
  EventRuleKind,
  HealthCheckChange,
  NasStatus,
  QuotaNotice,
  RuleContext,
  SecretRestarts,
  SnapshotFailed,
  SnapshotVerifyFailed,
  TasksMoved,
  WalletNotice,
  WebhookDisabled,
} from "./kind.ts";
