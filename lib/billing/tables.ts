/** Table types of the billing module (its migration: lib/billing/migration.ts). */

/**
 * A usage segment: one Swarm service of an app ran `replicas` tasks, each reserving `cpu_millis`
 * millicores and `memory_bytes` bytes, from `started_at` until `ended_at` (null: still so). Any
 * change closes the open segment and opens the next at the same instant, so an app's segments
 * tile its time without gaps or overlaps. Written from what Swarm runs (lib/billing/usage.ts).
 * No foreign keys: the record of what ran outlives the app (and the org's bill its org).
 */
export interface BillingUsageTable {
  id: string;
  org_id: string;
  app_id: string;
  service: string;
  replicas: number;
  cpu_millis: number;
  memory_bytes: number;
  /** Milliseconds since the epoch, whole seconds (the meter bills seconds). */
  started_at: number;
  ended_at: number | null;
}

/** One billed org-hour; (org_id, hour) is unique: the key that makes billing exactly-once. */
export interface BillingCyclesTable {
  id: string;
  org_id: string;
  /** Start of the hour, ms since the epoch. */
  hour: number;
  currency: string;
  /** Sum of the line items' amounts, minor units (the ledger charge is its negation). */
  total: number;
  created_at: number;
}

/** What a cycle billed for one app and resource. */
export interface BillingLineItemsTable {
  cycle_id: string;
  org_id: string;
  hour: number;
  app_id: string;
  /** cpu | memory | storage | egress | build (meter.ts BILLED_RESOURCES). */
  resource: string;
  /**
   * Millicore-seconds or byte-seconds reserved, as a decimal integer: byte-seconds pass 2^53 (a
   * large reservation for an hour), past what a JavaScript number or this driver's int8 keeps exact.
   */
  quantity: string;
  /** The plan's price for the resource's unit (core-hour, GiB-hour), minor units. */
  unit_price: number;
  /** quantity × unit_price ÷ unit, rounded half-up once, minor units. */
  amount: number;
}

/** A signed ledger entry: money moves only by appending one of these. */
export interface BillingLedgerTable {
  id: string;
  org_id: string;
  at: number;
  kind: "top_up" | "charge" | "refund" | "adjustment";
  /** Minor units; negative takes from the balance (a charge), positive adds (a top-up). */
  amount: number;
  currency: string;
  /** What it is for: a cycle id (charge), a payment id (top-up); unique per kind. */
  reference: string | null;
  /** Who: `user:<id>`, `system:billing`. */
  actor: string;
  note: string | null;
}

/**
 * The cached balance of an org's wallet, changed only in the transaction that appends a ledger
 * entry (by the entry's amount); the ledger's sum is the truth and a test checks they agree.
 */
export interface BillingWalletsTable {
  org_id: string;
  balance: number;
  updated_at: number;
}

/**
 * A price plan: `scope` is "default" (the install's, set by platform admins) or an org id (that
 * org's override). Prices are integer minor units of `currency`.
 */
export interface BillingPlansTable {
  scope: string;
  currency: string;
  cpu_core_hour: number;
  memory_gib_hour: number;
  storage_gib_month: number;
  egress_gib: number;
  build_minute: number;
  updated_at: number;
  updated_by: string | null;
}

/**
 * An org whose wallet is below zero (lib/billing/wallet.ts): in `grace` until `ends_at`, then
 * `blocked` (no new deploys). The row is deleted when a top-up brings the balance to zero or more.
 */
export interface BillingGraceTable {
  org_id: string;
  state: "grace" | "blocked";
  /** When a charge left the balance below zero (ms). */
  started_at: number;
  /** When grace ends and deploys are blocked (ms). */
  ends_at: number;
  /** 1 once the halfway notice went out (each notice exactly once). */
  halfway_notified: number;
  updated_at: number;
}

/**
 * Bytes stored by an org's app (app_id "" for the org's data outside any app) of one kind —
 * `volumes` (Docker volumes its task containers mount) or `snapshots` (restic data its snapshots
 * added) — from `started_at` until `ended_at` (null: still). Tiles time per (org, app, kind) like
 * usage segments; written by the facts job (lib/billing/facts.ts).
 */
export interface BillingStorageTable {
  id: string;
  org_id: string;
  app_id: string;
  kind: "volumes" | "snapshots";
  bytes: number;
  started_at: number;
  ended_at: number | null;
}

/** The last transmit counter of an app container's network namespace seen by the facts job. */
export interface BillingEgressCountersTable {
  host_id: string;
  container_id: string;
  org_id: string;
  app_id: string;
  /** The counter (bytes since the namespace was made). */
  tx_bytes: number;
  /** The sample's time (agent ms). */
  t: number;
  updated_at: number;
}

/** Bytes an app's containers transmitted, as recorded in one hour; (org, hour, app) unique. */
export interface BillingEgressTable {
  org_id: string;
  app_id: string;
  hour: number;
  bytes: number;
}

/** A build that ended, recorded once (its id is the key) in the hour `hour`. */
export interface BillingBuildsTable {
  build_id: string;
  org_id: string;
  app_id: string;
  started_at: number;
  finished_at: number;
  /** Whole minutes, rounded up, at least 1 (as the build-minutes quota counts). */
  minutes: number;
  hour: number;
}

/** Instants the facts job keeps: when egress and build metering started. */
export interface BillingFactsStateTable {
  key: string;
  value: number;
}

/**
 * A wallet top-up through a payment provider (lib/billing/payments): `created` (checkout made,
 * waiting for the payer), `approved` (captured but the provider holds it pending), `captured`
 * (credited: the ledger's `top_up` references `capture_id`), `denied`, `failed` (the provider
 * could not be reached when the checkout was made, or the capture's amount did not match),
 * `cancelled` (the payer came back through the cancel link).
 */
export interface BillingPaymentsTable {
  id: string;
  org_id: string;
  /** Minor units of `currency` (the org's plan currency when it was started). */
  amount: number;
  currency: string;
  /** "paypal". */
  provider: string;
  provider_order_id: string | null;
  /** Where the payer approves the order at the provider (the page links to it). */
  approve_url: string | null;
  capture_id: string | null;
  status: "created" | "approved" | "captured" | "denied" | "failed" | "cancelled";
  /** Why it failed or was denied, in words. */
  error: string | null;
  /** `user:<id>` who started it. */
  created_by: string;
  created_at: number;
  updated_at: number;
}

/** The billing module's tables, merged into the Database type (lib/db/schema.ts). */
export interface BillingTables {
  billing_usage: BillingUsageTable;
  billing_cycles: BillingCyclesTable;
  billing_line_items: BillingLineItemsTable;
  billing_ledger: BillingLedgerTable;
  billing_wallets: BillingWalletsTable;
  billing_plans: BillingPlansTable;
  billing_grace: BillingGraceTable;
  billing_storage: BillingStorageTable;
  billing_egress_counters: BillingEgressCountersTable;
  billing_egress: BillingEgressTable;
  billing_builds: BillingBuildsTable;
  billing_facts_state: BillingFactsStateTable;
  billing_payments: BillingPaymentsTable;
}
