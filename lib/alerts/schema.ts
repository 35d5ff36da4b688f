/** Alert rule input: zod shapes for the API and the one normalisation every write goes through. */
import { z } from "zod";
import { SERIES_KEY } from "../protocol/metrics.ts";
import type { AlertRulesTable } from "../db/schema.ts";
import { Invalid } from "../errors.ts";

/** Event rule types. */
export const EVENT_TYPES = [
  "host_offline",
  "container_exited",
  "restart_loop",
  "unhealthy",
  "oom",
  "data_root_size",
  // A health check (lib/health) became unhealthy; resolves when it is healthy again.
  "health_check",
  // Swarm moved an app's tasks off a node that went down (lib/apps reconciler); once per failure.
  "tasks_moved",
  // A secret an app uses was rotated (lib/apps, after the restarts); once per rotation and app.
  "secret_rotated",
  // A route hostname's certificate expires within 14 days or failed (lib/proxy); resolves when
  // it is active again.
  "certificate",
  // A build from Git or the deployment it made changed stage (lib/builds); once per build and stage.
  "build",
  // An app's Git webhook was disabled after bad signatures (lib/builds); once per disabling.
  "webhook_disabled",
  // A site on a NAS has no backup newer than its threshold, or the NAS cannot be read (lib/nas);
  // resolves when a check finds a newer backup (or reads the NAS again).
  "nas_backup_stale",
  // A volume snapshot or a restore failed (lib/snapshots); once per failure.
  "snapshot_failed",
  // A storage target's verification (restic check, test restore) failed; once per failure.
  "snapshot_verify_failed",
  // An org's wallet went below zero (grace started), reached grace's halfway point, was blocked
  // (grace ended) or recovered (lib/billing); once per transition.
  "billing_wallet",
  // An org's use of a quota resource crossed 80 %, 90 %, 100 % or its limit, came back below one
  // (hysteresis), or a violation's grace period ended (lib/quotas); once per change.
  "quota_usage",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const LABEL_SCOPE = /^[A-Za-z0-9_.\/-]{1,63}=[^\r\n\0]{0,200}$/;

/** The event types whose rules are organization-wide only, and why. */
const ORG_ONLY: Partial<Record<EventType, string>> = {
  certificate: "routes belong to the organization, not a host",
  tasks_moved: "an app's tasks move between the cluster's nodes",
  secret_rotated: "secrets and apps belong to the organization",
  build: "apps belong to the organization and build on any worker",
  webhook_disabled: "apps and their webhooks belong to the organization",
  nas_backup_stale: "NAS targets belong to the organization, not a host",
  snapshot_failed: "snapshots go to the organization's storage targets",
  snapshot_verify_failed: "storage targets belong to the organization",
  billing_wallet: "the wallet belongs to the organization",
  quota_usage: "quotas belong to the organization",
};

/** Quiet hours as the API takes them. */
export const QuietHoursSchema = z.object({
  start_min: z.number().int().min(0).max(1439),
  end_min: z.number().int().min(0).max(1439),
  tz_offset_min: z.number().int().min(-840).max(840).default(0),
});

/** A name shown in lists and sent in notifications: one line, no control characters. */
// deno-lint-ignore no-control-regex
export const ONE_LINE = /^[^\u0000-\u001f\u007f]*$/;

/**
 * Every field of a rule, all optional: creation fills defaults, an update fills from the stored
 * rule, then `normalizeRule` checks the whole (a partial update cannot leave a rule inconsistent).
 */
export const RuleFields = z.object({
  name: z.string().trim().min(1).max(100).regex(ONE_LINE, "must be one line"),
  enabled: z.boolean(),
  scope: z.enum(["host", "label", "org"]),
  scope_value: z.string().max(264).nullable(),
  kind: z.enum(["metric", "event"]),
  metric: z.string().regex(SERIES_KEY, "a series name such as cpu.total_pct or fs.used_pct")
    .nullable(),
  container: z.boolean().meta({ description: "Evaluate the metric on each container" }),
  op: z.enum([">", "<"]),
  trigger: z.number().finite().nullable(),
  clear: z.number().finite().nullable().meta({
    description: "Hysteresis: a firing alert resolves only once the value crosses this",
  }),
  hold_s: z.number().int().min(0).max(86_400),
  mode: z.enum(["instant", "avg"]),
  window_s: z.number().int().min(5).max(3600),
  event: z.enum(EVENT_TYPES).nullable(),
  event_count: z.number().int().min(2).max(1000).nullable(),
  event_window_s: z.number().int().min(10).max(86_400).nullable(),
  severity: z.enum(["warning", "critical"]),
  repeat_s: z.number().int().min(0).max(604_800),
  quiet_hours: QuietHoursSchema.nullable(),
  channels: z.union([z.literal("all"), z.array(z.string().min(1).max(64)).max(20)]),
}).partial();
export type RuleFields = z.infer<typeof RuleFields>;

/** A complete, consistent rule (what is stored). */
export type RuleSpec = {
  [K in keyof Required<RuleFields>]-?: Exclude<Required<RuleFields>[K], undefined>;
};

const DEFAULTS: Omit<RuleSpec, "name" | "kind"> = {
  enabled: true,
  scope: "org",
  scope_value: null,
  metric: null,
  container: false,
  op: ">",
  trigger: null,
  clear: null,
  hold_s: 0,
  mode: "instant",
  window_s: 60,
  event: null,
  event_count: null,
  event_window_s: null,
  severity: "warning",
  repeat_s: 0,
  quiet_hours: null,
  channels: "all",
};

/** Merges input over a base (defaults or the stored rule) and checks the rule as a whole; 400 naming fields. */
export function normalizeRule(input: RuleFields, base?: RuleSpec): RuleSpec {
  const merged = { ...DEFAULTS, ...base, ...stripUndefined(input) } as RuleSpec;
  const fields: Record<string, string> = {};
  if (!merged.name) fields.name = "is required";
  if (!merged.kind) fields.kind = "is required";
  if (merged.scope === "org") merged.scope_value = null;
  else if (!merged.scope_value) fields.scope_value = `is required for scope ${merged.scope}`;
  else if (merged.scope === "label" && !LABEL_SCOPE.test(merged.scope_value)) {
    fields.scope_value = "must look like key=value";
  }
  if (merged.kind === "metric") {
    merged.event = null;
    merged.event_count = null;
    merged.event_window_s = null;
    if (!merged.metric) fields.metric = "is required for a metric rule";
    if (merged.trigger === null) fields.trigger = "is required for a metric rule";
    else {
      merged.clear ??= merged.trigger;
      const wrongSide = merged.op === ">"
        ? merged.clear > merged.trigger
        : merged.clear < merged.trigger;
      if (wrongSide) {
        fields.clear = `must be ${merged.op === ">" ? "at most" : "at least"} the trigger`;
      }
    }
  } else if (merged.kind === "event") {
    merged.metric = null;
    merged.container = false;
    merged.mode = "instant";
    if (!merged.event) fields.event = "is required for an event rule";
    if (merged.event === "restart_loop") {
      merged.event_count ??= 3;
      merged.event_window_s ??= 300;
    } else {
      merged.event_count = null;
      merged.event_window_s = null;
    }
    if (merged.event === "data_root_size") {
      merged.op = ">";
      if (merged.trigger === null || merged.trigger <= 0) {
        fields.trigger = "is required: the data-root size in bytes";
      } else merged.clear = Math.min(merged.clear ?? merged.trigger, merged.trigger);
    } else {
      merged.trigger = null;
      merged.clear = null;
    }
    const whyOrg = merged.event && ORG_ONLY[merged.event];
    if (whyOrg && merged.scope !== "org") {
      fields.scope = `must be org for ${merged.event}: ${whyOrg}`;
    }
    if (merged.event === "host_offline" && merged.hold_s < 30) {
      fields.hold_s = "must be at least 30 s for host_offline (agents report every 10 s)";
    }
  }
  if (merged.repeat_s !== 0 && merged.repeat_s < 60) {
    fields.repeat_s = "must be 0 (no reminders) or at least 60";
  }
  if (Object.keys(fields).length) {
    throw new Invalid(`Invalid rule: ${Object.keys(fields).join(", ")}`, fields);
  }
  return merged;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Stored row → spec. */
export function ruleSpecOf(r: AlertRulesTable): RuleSpec {
  return {
    name: r.name,
    enabled: r.enabled === 1,
    scope: r.scope,
    scope_value: r.scope_value,
    kind: r.kind,
    metric: r.metric,
    container: r.container === 1,
    op: r.op,
    trigger: r.trigger_value === null ? null : Number(r.trigger_value),
    clear: r.clear_value === null ? null : Number(r.clear_value),
    hold_s: Number(r.hold_s),
    mode: r.mode,
    window_s: Number(r.window_s),
    event: r.event as EventType | null,
    event_count: r.event_count === null ? null : Number(r.event_count),
    event_window_s: r.event_window_s === null ? null : Number(r.event_window_s),
    severity: r.severity,
    repeat_s: Number(r.repeat_s),
    quiet_hours: r.quiet_start === null || r.quiet_end === null ? null : {
      start_min: Number(r.quiet_start),
      end_min: Number(r.quiet_end),
      tz_offset_min: Number(r.quiet_tz_offset),
    },
    channels: JSON.parse(r.channels),
  };
}

/** Spec → the row's columns (without id, org, timestamps). */
export function ruleColumns(s: RuleSpec) {
  return {
    name: s.name,
    enabled: s.enabled ? 1 : 0,
    scope: s.scope,
    scope_value: s.scope_value,
    kind: s.kind,
    metric: s.metric,
    container: s.container ? 1 : 0,
    op: s.op,
    trigger_value: s.trigger,
    clear_value: s.clear,
    hold_s: s.hold_s,
    mode: s.mode,
    window_s: s.window_s,
    event: s.event,
    event_count: s.event_count,
    event_window_s: s.event_window_s,
    severity: s.severity,
    repeat_s: s.repeat_s,
    quiet_start: s.quiet_hours?.start_min ?? null,
    quiet_end: s.quiet_hours?.end_min ?? null,
    quiet_tz_offset: s.quiet_hours?.tz_offset_min ?? 0,
    channels: JSON.stringify(s.channels),
  };
}

/**
 * The rules every organization starts with; editable and deletable like any other. Append-only:
 * rules.ts counts how many each organization was given and seeds only the ones added since.
 */
export const DEFAULT_RULES: RuleFields[] = [
  {
    name: "CPU above 90% for 5 minutes",
    kind: "metric",
    metric: "cpu.total_pct",
    trigger: 90,
    clear: 80,
    hold_s: 300,
    severity: "warning",
    repeat_s: 3600,
  },
  {
    name: "Memory above 95% for 5 minutes",
    kind: "metric",
    metric: "mem.used_pct",
    trigger: 95,
    clear: 90,
    hold_s: 300,
    severity: "critical",
    repeat_s: 3600,
  },
  {
    name: "Disk above 90%",
    kind: "metric",
    metric: "fs.used_pct",
    trigger: 90,
    clear: 85,
    hold_s: 60,
    severity: "warning",
    repeat_s: 6 * 3600,
  },
  {
    name: "Inodes above 90%",
    kind: "metric",
    metric: "fs.inodes_used_pct",
    trigger: 90,
    clear: 85,
    hold_s: 60,
    severity: "warning",
    repeat_s: 6 * 3600,
  },
  {
    name: "Host offline for 2 minutes",
    kind: "event",
    event: "host_offline",
    hold_s: 120,
    severity: "critical",
    repeat_s: 3600,
  },
  {
    name: "Container restart loop",
    kind: "event",
    event: "restart_loop",
    event_count: 3,
    event_window_s: 300,
    severity: "warning",
    repeat_s: 3600,
  },
  {
    name: "Health check failing",
    kind: "event",
    event: "health_check",
    severity: "critical",
    repeat_s: 3600,
  },
  {
    name: "App tasks moved off a failed node",
    kind: "event",
    event: "tasks_moved",
    severity: "warning",
    repeat_s: 0,
  },
  {
    name: "Certificate expiring or failed",
    kind: "event",
    event: "certificate",
    severity: "warning",
    repeat_s: 86400,
  },
  {
    name: "Secret rotated in an app",
    kind: "event",
    event: "secret_rotated",
    severity: "warning",
    repeat_s: 0,
  },
  // One rule tells every stage, so one severity for all (a rule's, not an alert's): warning, as
  // most notices are news rather than trouble. The rule has no field to pick stages by.
  {
    name: "App builds and deployments from Git",
    kind: "event",
    event: "build",
    severity: "warning",
    repeat_s: 0,
  },
  {
    name: "App Git webhook disabled after bad signatures",
    kind: "event",
    event: "webhook_disabled",
    severity: "warning",
    repeat_s: 0,
  },
  // The hold is for the NAS being unreachable (two missed 15-minute checks); a stale site's own
  // threshold is its hold.
  {
    name: "NAS backup stale or NAS unreachable",
    kind: "event",
    event: "nas_backup_stale",
    hold_s: 1800,
    severity: "warning",
    repeat_s: 86400,
  },
  // A backup that failed, or one that may not restore, is trouble rather than news: critical.
  {
    name: "Volume snapshot or restore failed",
    kind: "event",
    event: "snapshot_failed",
    severity: "critical",
    repeat_s: 0,
  },
  {
    name: "Storage target verification failed",
    kind: "event",
    event: "snapshot_verify_failed",
    severity: "critical",
    repeat_s: 0,
  },
  // Grace's start, halfway point and end (deploys blocked), and the recovery: each one notice.
  {
    name: "Wallet below zero: grace period and deploy blocking",
    kind: "event",
    event: "billing_wallet",
    severity: "warning",
    repeat_s: 0,
  },
  // Quota crossings (lib/quotas/watch.ts): a rule hears the notices of its severity, so one of
  // each — 80 % (and back under 75 %) as a warning; 90 %, full, exceeded and blocked as critical.
  {
    name: "Quota at 80 %",
    kind: "event",
    event: "quota_usage",
    severity: "warning",
    repeat_s: 0,
  },
  {
    name: "Quota at 90 %, full or exceeded",
    kind: "event",
    event: "quota_usage",
    severity: "critical",
    repeat_s: 0,
  },
];
