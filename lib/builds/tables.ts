/** Table types of the builds module (its migration: lib/builds/migration.ts). */

/**
 * Where a service of an app gets its image from: a Git repository, built on a worker. One per
 * (app, service). Credentials (an HTTPS token, the private half of the deploy key) live in one
 * encrypted blob under context `build-source:<id>`, never in another column.
 */
export interface BuildSourcesTable {
  id: string;
  org_id: string;
  app_id: string;
  service: string;
  repo_url: string;
  branch: string;
  /** Directory of the repository that is the build context (relative; "" for the root). */
  subdir: string;
  /** Dockerfile (or Nix file) path relative to the context; "" to detect. */
  build_file: string;
  /** auto: Dockerfile if present, else a Nix expression, else a detected plan. */
  builder: "auto" | "dockerfile" | "nix";
  /** JSON object of build arguments (not secrets: they end up in the image's history). */
  build_args: string;
  target: string;
  auth: "none" | "token" | "ssh";
  /** Encrypted JSON `{ username?, token?, ssh_private_key? }` (always present, `{}` when none). */
  credentials: string;
  credentials_key_id: string;
  /** The deploy key's public half and fingerprint, shown to paste into the Git host. */
  ssh_public_key: string | null;
  ssh_fingerprint: string | null;
  /** The Git host's key, pinned on first use (a known_hosts line), and its fingerprint. */
  known_host: string | null;
  known_host_fingerprint: string | null;
  /** 1: a successful build is deployed at once (health-gated); 0: built only. */
  auto_deploy: number;
  /** 1: pushes of tags build too. */
  build_tags: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** An app's webhook: the unguessable id in its URL and its secret (encrypted, shown once). */
export interface BuildHooksTable {
  id: string;
  org_id: string;
  app_id: string;
  secret: string;
  secret_key_id: string;
  created_at: number;
  rotated_at: number;
  /** Bad signatures counted in the current minute, and when that minute began. */
  bad_count: number;
  bad_window_at: number;
  /** Too many bad signatures: deliveries are refused until then. */
  disabled_until: number | null;
}

/** One delivery a webhook received, whatever became of it. */
export interface BuildDeliveriesTable {
  id: string;
  hook_id: string;
  org_id: string;
  app_id: string;
  at: number;
  provider: string;
  event: string;
  /** The provider's delivery id (a replay is recognised by it). */
  delivery_id: string | null;
  branch: string | null;
  commit_sha: string | null;
  outcome: "queued" | "skipped" | "duplicate" | "bad_signature" | "ignored" | "disabled" | "ping";
  reason: string;
  build_id: string | null;
  /** The normalised push (JSON) of a good delivery, kept so it can be delivered again. */
  push: string | null;
}

/** A build of one service: its source at one commit, its outcome and the deployment it made. */
export interface BuildsTable {
  id: string;
  org_id: string;
  app_id: string;
  service: string;
  /** 1, 2, … per app. */
  number: number;
  state: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  trigger: "manual" | "webhook" | "retry";
  actor_id: string | null;
  actor_name: string | null;
  delivery_id: string | null;
  repo_url: string;
  branch: string;
  /** The commit asked for (a webhook's) until the clone records the one built. */
  commit_sha: string | null;
  commit_author: string | null;
  commit_message: string | null;
  /** dockerfile, nix or plan:<kind>, once known. */
  builder: string | null;
  /** JSON of the detected plan and its summary (plan builds). */
  plan: string | null;
  /** The Dockerfile Capstan generated (plan builds). */
  dockerfile: string | null;
  /** The worker's host, chosen when the build is queued. */
  host_id: string | null;
  /** The hub process running it (another replica leaves it alone). */
  runner: string | null;
  cancel_requested: number;
  image: string | null;
  image_id: string | null;
  size_bytes: number | null;
  failure: string | null;
  error: string | null;
  /** 1: deploy when it succeeds. */
  deploy: number;
  deployment_id: string | null;
  queued_at: number;
  started_at: number | null;
  finished_at: number | null;
  heartbeat_at: number | null;
}

/** A build's log: gzip of its last (at most CAPSTAN_BUILD_LOG_MAX_BYTES) bytes, base64. */
export interface BuildLogsTable {
  build_id: string;
  gz: string;
  raw_bytes: number;
  /** Bytes dropped from the start to keep the cap. */
  dropped_bytes: number;
  updated_at: number;
}

/** The builds module's tables, merged into the database type by lib/db/schema.ts. */
export interface BuildsTables {
  build_sources: BuildSourcesTable;
  build_hooks: BuildHooksTable;
  build_deliveries: BuildDeliveriesTable;
  builds: BuildsTable;
  build_logs: BuildLogsTable;
}
