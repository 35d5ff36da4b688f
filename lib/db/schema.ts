import type { Generated } from "kysely";
import type { AppsTables } from "../apps/tables.ts";
import type { BillingTables } from "../billing/tables.ts";
import type { QuotasTables } from "../quotas/tables.ts";
import type { BuildsTables } from "../builds/tables.ts";
import type { SnapshotsTables } from "../snapshots/tables.ts";
import type { NasTables } from "../nas/tables.ts";
import type { ProxyTables } from "../proxy/tables.ts";
import type { SecretsTables } from "../secrets/tables.ts";
import type { TemplatesTables } from "../templates/tables.ts";
/** Table types for Kysely. Timestamps are integer milliseconds; booleans are 0/1 integers on both dialects. */

export type OrgRole = "owner" | "admin" | "member" | "viewer";
export type TokenScope = "read" | "write";

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  is_admin: number;
  created_at: number;
  password_changed_at: number;
}

export interface OrganizationsTable {
  id: string;
  slug: string;
  name: string;
  created_at: number;
}

export interface MembershipsTable {
  org_id: string;
  user_id: string;
  role: OrgRole;
  created_at: number;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

/** A sign-in attempt counter (lib/auth/attempts.ts). */
export interface AuthAttemptsTable {
  key: string;
  count: number;
  reset_at: number;
  next_at: number;
  nonce: string;
}

/** An invitation to join an organization, accepted by the invited account itself. */
export interface OrgInvitationsTable {
  org_id: string;
  email: string;
  role: OrgRole;
  invited_by: string | null;
  created_at: number;
  expires_at: number;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  org_id: string;
  name: string;
  scope: TokenScope;
  token_hash: string;
  /** First characters of the token, shown in lists so users can tell tokens apart. */
  prefix: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditLogTable {
  id: string;
  at: number;
  actor_type: "user" | "token" | "system" | "anonymous";
  actor_id: string | null;
  actor_name: string | null;
  org_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  target_name: string | null;
  status: "ok" | "error";
  error: string | null;
  duration_ms: number;
  ip: string | null;
  metadata: string;
}

export interface JobLeasesTable {
  name: string;
  /** The last time slot (ms since epoch, floored to the job's interval) that some replica claimed. */
  last_slot: number;
  holder: string;
  claimed_at: number;
}

export interface KvTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface HostsTable {
  id: string;
  org_id: string;
  name: string;
  /** JSON object of string labels. */
  labels: string;
  local: number;
  machine_id: string | null;
  token_hash: string | null;
  created_at: number;
  enrolled_at: number | null;
  last_seen_at: number | null;
  agent_version: string | null;
  hostname: string | null;
  docker_version: string | null;
  os: string | null;
  kernel: string | null;
  arch: string | null;
  cpus: number | null;
  memory_bytes: number | null;
  containers_running: number | null;
  containers_total: number | null;
  /** JSON of the engine facts from the agent's hello. */
  engine: string;
  removed_at: number | null;
  /** restic on the host, as its agent's hello said; null: none (or not reported yet). */
  restic_version: string | null;
}

export interface HostEnrollmentsTable {
  id: string;
  org_id: string;
  host_id: string;
  token_hash: string;
  created_by: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface ContainersTable {
  host_id: string;
  id: string;
  org_id: string;
  name: string;
  image: string;
  image_id: string;
  command: string;
  state: string;
  status: string;
  /** Unix seconds, as Docker reports it. */
  created: number;
  labels: string;
  ports: string;
  updated_at: number;
}

export interface MetricSeriesTable {
  id: Generated<number>;
  host_id: string;
  /** '' for host series. */
  container_id: string;
  key: string;
  created_at: number;
}

export interface MetricRawTable {
  series_id: number;
  t: number;
  v: number;
}

/** A run of one series' raw samples, compressed (lib/metrics/chunks.ts). */
export interface MetricChunksTable {
  series_id: number;
  /** Time of the first and last sample, ms; a chunk never crosses an hour boundary. */
  t0: number;
  t1: number;
  /** Samples in the chunk. */
  n: number;
  data: Uint8Array;
}

/** One ingested batch's raw samples, every series of it, until compaction moves them (lib/metrics/head.ts). */
export interface MetricHeadTable {
  id: Generated<number>;
  host_id: string;
  /** Time of the batch's first and last sample, ms. */
  t0: number;
  t1: number;
  /** Samples in the row. */
  n: number;
  data: Uint8Array;
}

/** A host-hour with small chunks to merge (lib/metrics/chunk_compaction.ts). */
export interface MetricCompactTable {
  host_id: string;
  hour: number;
}

/** Progress of the conversion of `metric_raw` rows into chunks (one row, id 1). */
export interface MetricChunkMigrationTable {
  id: number;
  started_at: number;
  /** Rows of metric_raw when the conversion started, and converted since. */
  total_rows: number;
  converted_rows: number;
  finished_at: number | null;
}

export interface MetricRollupTable {
  series_id: number;
  /** Bucket start, ms. */
  t: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  /** Encoded log-bucket histogram (lib/metrics/histogram.ts). */
  hist: string;
}

export interface MetricBatchesTable {
  host_id: string;
  /** The agent's spool epoch ('' for agents that send none): seqs are unique per (host, epoch). */
  epoch: Generated<string>;
  seq: number;
  received_at: number;
  samples: number;
  dropped: number;
}

/** What ingest saw of a host's agent: spool epoch, clock skew, refused samples, reported problems. */
export interface MetricAgentsTable {
  host_id: string;
  epoch: string;
  epoch_since: number;
  prev_epoch: string | null;
  last_report_at: number;
  last_stored_at: number | null;
  skew_ms: number | null;
  refused_future: Generated<number>;
  refused_old: Generated<number>;
  refused_at: number | null;
  problem: string | null;
  lost: Generated<number>;
  /** New series not created because the host was at its series limit, and their samples. */
  capped_series: Generated<number>;
  capped_samples: Generated<number>;
  capped_at: number | null;
  /** Bumped by retention when it deletes series of the host: cached series ids may be stale. */
  series_gen: Generated<number>;
}

export interface MetricDirtyTable {
  /** Dirty, or being recomputed by a rollup run (lib/metrics/rollup.ts RUNNING). */
  tier: "1m" | "1h" | "1m/running" | "1h/running";
  host_id: string;
  bucket: number;
}

export interface AlertRulesTable {
  id: string;
  org_id: string;
  name: string;
  enabled: number;
  scope: "host" | "label" | "org";
  scope_value: string | null;
  kind: "metric" | "event";
  metric: string | null;
  container: number;
  op: ">" | "<";
  trigger_value: number | null;
  clear_value: number | null;
  hold_s: number;
  mode: "instant" | "avg";
  window_s: number;
  event: string | null;
  event_count: number | null;
  event_window_s: number | null;
  severity: "warning" | "critical";
  repeat_s: number;
  quiet_start: number | null;
  quiet_end: number | null;
  quiet_tz_offset: number;
  /** JSON: "all" or an array of channel ids. */
  channels: string;
  created_at: number;
  updated_at: number;
}

export interface AlertRuleStatesTable {
  rule_id: string;
  subject: string;
  org_id: string;
  host_id: string;
  container_id: string;
  state: "ok" | "pending" | "firing";
  since: number;
  value: number | null;
  last_event_at: number | null;
  last_notified_at: number | null;
  alert_id: string | null;
  silenced_until: number | null;
  version: number;
  updated_at: number;
}

export interface AlertsTable {
  id: string;
  org_id: string;
  rule_id: string | null;
  rule_name: string;
  subject: string;
  host_id: string | null;
  host_name: string | null;
  container_id: string | null;
  container_name: string | null;
  severity: "warning" | "critical";
  title: string;
  value: number | null;
  state: "firing" | "resolved";
  started_at: number;
  ended_at: number | null;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  silenced_until: number | null;
  muted: number;
}

export interface AlertChannelsTable {
  id: string;
  org_id: string;
  name: string;
  kind: "slack" | "discord" | "webhook" | "email";
  enabled: number;
  /** Encrypted JSON config (lib/crypto/secrets.ts). */
  config: string;
  /** JSON of non-secret hints. */
  summary: string;
  created_at: number;
  updated_at: number;
}

export interface AlertDeliveriesTable {
  id: string;
  org_id: string;
  alert_id: string | null;
  channel_id: string;
  event: "firing" | "resolved" | "reminder" | "test";
  status: "pending" | "sent" | "failed";
  attempts: number;
  last_error: string | null;
  next_attempt_at: number;
  claimed_until: number | null;
  /** JSON of the rendered message. */
  message: string;
  created_at: number;
  sent_at: number | null;
}

export interface AlertReadsTable {
  user_id: string;
  org_id: string;
  last_read_at: number;
}

export interface HealthChecksTable {
  id: string;
  org_id: string;
  host_id: string;
  /** Full 64-hex container id. */
  container_id: string;
  container_name: string;
  name: string;
  kind: "http" | "tcp" | "docker" | "command";
  /** JSON of the kind's probe (lib/protocol/health.ts). */
  config: string;
  interval_s: number;
  timeout_s: number;
  retries: number;
  start_delay_s: number;
  source: "manual" | "label";
  enabled: number;
  state: "unknown" | "healthy" | "unhealthy";
  state_since: number;
  consecutive_failures: number;
  consecutive_successes: number;
  /** When the start delay began (check created or container started), ms. */
  started_at: number;
  last_at: number | null;
  last_ok: number | null;
  last_response_ms: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  /** When its container was found removed (the check stops until one of that name is back), ms. */
  container_gone_at: number | null;
}

export interface HealthResultsTable {
  id: Generated<number>;
  check_id: string;
  at: number;
  ok: number;
  response_ms: number | null;
  status_code: number | null;
  exit_code: number | null;
  error: string | null;
  output: string | null;
  /** 1 when the output was cut to MAX_CHECK_OUTPUT_BYTES. */
  output_truncated: Generated<number>;
}

export interface AgentReleasesTable {
  id: string;
  version: string;
  /** The manifest's exact text; the Ed25519 signature covers these bytes. */
  manifest: string;
  signature: string;
  key_id: string;
  status: "uploading" | "ready";
  created_by: string | null;
  created_at: number;
}

export interface AgentRolloutsTable {
  id: string;
  release_id: string;
  percent: number;
  /** `key=value` host label, or null for every host. */
  label: string | null;
  pinned: number;
  max_failures: number;
  max_failure_percent: number;
  status: "active" | "halted" | "superseded";
  halted_reason: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface AgentUpdateOutcomesTable {
  id: string;
  host_id: string;
  rollout_id: string | null;
  from_version: string;
  to_version: string;
  outcome: "succeeded" | "rolled_back" | "rejected" | "failed";
  message: string;
  at: number;
}

export interface Database
  extends
    AppsTables,
    BillingTables,
    BuildsTables,
    NasTables,
    ProxyTables,
    QuotasTables,
    SecretsTables,
    SnapshotsTables,
    TemplatesTables {
  agent_releases: AgentReleasesTable;
  agent_rollouts: AgentRolloutsTable;
  agent_update_outcomes: AgentUpdateOutcomesTable;
  health_checks: HealthChecksTable;
  health_results: HealthResultsTable;
  alert_rules: AlertRulesTable;
  alert_rule_states: AlertRuleStatesTable;
  alerts: AlertsTable;
  alert_channels: AlertChannelsTable;
  alert_deliveries: AlertDeliveriesTable;
  alert_reads: AlertReadsTable;
  metric_series: MetricSeriesTable;
  metric_raw: MetricRawTable;
  metric_chunks: MetricChunksTable;
  metric_head: MetricHeadTable;
  metric_chunk_migration: MetricChunkMigrationTable;
  metric_compact: MetricCompactTable;
  metric_1m: MetricRollupTable;
  metric_1h: MetricRollupTable;
  metric_batches: MetricBatchesTable;
  metric_latest: MetricRawTable;
  metric_dirty: MetricDirtyTable;
  metric_agents: MetricAgentsTable;
  hosts: HostsTable;
  host_enrollments: HostEnrollmentsTable;
  containers: ContainersTable;
  users: UsersTable;
  organizations: OrganizationsTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  auth_attempts: AuthAttemptsTable;
  org_invitations: OrgInvitationsTable;
  audit_log: AuditLogTable;
  job_leases: JobLeasesTable;
  kv: KvTable;
}
