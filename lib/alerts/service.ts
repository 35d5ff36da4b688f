/**
 * Alerts and notifications, wired: rules, channels (secrets encrypted with the hub key), the
 * engine on the ingest path, agent-event and host hooks, the delivery queue, the history, and the
 * lease-protected jobs (evaluation tick every 30 s, delivery retries every 10 s, hourly purge of
 * history older than the retention).
 */
import type { EventBus } from "../events.ts";
import type {} from "../agents/events.ts";
import type {} from "../health/mod.ts";
import type {} from "../metrics/service.ts";
import type {} from "../hosts/service.ts";
import type {} from "../apps/events.ts";
import type {} from "../proxy/events.ts";
import type {} from "../builds/events.ts";
import type {} from "../snapshots/events.ts";
import type { DbHandle } from "../db/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { Bus } from "../realtime/bus.ts";
import type { RealtimePublisher } from "../realtime/publisher.ts";
import { type AlertsEvent, topics } from "../realtime/topics.ts";
import type { Logger } from "../log.ts";
import type { ActionContext, AuditLog } from "../audit/service.ts";
import type { Job } from "../jobs/scheduler.ts";
import type { SecretBox } from "../crypto/secrets.ts";
import { createStateStore } from "./state_store.ts";
import { createRuleStore } from "./rules.ts";
import { createChannelStore } from "./channels/store.ts";
import { type Backoff, createDelivery } from "./channels/delivery.ts";
import type { SendOptions } from "./channels/send.ts";
import { type AlertEngine, createAlertEngine } from "./engine/engine.ts";
import { createAlertHistory } from "./history.ts";
import {
  type BuildNotice,
  type CertificateChange,
  type ContainerEvent,
  eventMatters,
  type HealthCheckChange,
  type NasStatus,
  type QuotaNotice,
  type SecretRestarts,
  type SnapshotFailed,
  type SnapshotVerifyFailed,
  type TasksMoved,
  type WalletNotice,
  type WebhookDisabled,
} from "./kinds/mod.ts";
import { alertTick } from "./engine/tick.ts";
import type { AlertMessage } from "./channels/message.ts";
import { notificationsUrl } from "./engine/notify.ts";
import { purgeAlertHistory } from "./purge.ts";
import { metricCatalog } from "./metric_catalog.ts";
import type { AlertFacts } from "./facts.ts";

/** Bus topic on which replicas tell each other that an organization's rules changed. */
const CONTROL_TOPIC = "hub:alerts";

/** What the hub gives the alerts module. */
export interface AlertsDeps {
  dbh: DbHandle;
  clock: Clock;
  /** Carries rule changes and host renames between replicas. */
  bus: Bus;
  /** Publishes alert changes to the organization. */
  realtime: RealtimePublisher;
  log: Logger;
  audit: AuditLog;
  /** The hub's key ring (Core.secretBox), which channel configs are encrypted under. */
  box: () => Promise<SecretBox>;
  allowPrivateTargets: boolean;
  /** Days resolved alerts and finished deliveries are kept (default 90). */
  retentionDays?: number;
  publicUrl: string;
  isOnline(hostId: string): boolean;
  /**
   * What alerts listen to: committed metric batches, agent container events and connections,
   * health state changes, host renames (lib/events.ts). Without it (unit tests) nothing arrives.
   */
  events?: EventBus;
  /** What alerts read of the hosts, metrics and orgs modules (never their tables). */
  facts: AlertFacts;
  /** Retry policy and send options (tests shorten them). */
  backoff?: Backoff;
  send?: Partial<SendOptions>;
}

/** Creates the alerts module; see the module comment. */
export function createAlerts(deps: AlertsDeps) {
  const { clock, bus, log, audit } = deps;
  const db = deps.dbh.db;
  const box = deps.box;
  const policy = { allowPrivate: deps.allowPrivateTargets };
  const publish = (orgId: string, data: AlertsEvent) =>
    void deps.realtime.publish(topics.alerts(orgId), data);

  const states = createStateStore(db);
  // deno-lint-ignore prefer-const
  let engine: AlertEngine;
  const rules = createRuleStore({
    db,
    clock,
    audit,
    facts: deps.facts,
    onChange: (orgId) => {
      engine.invalidate(orgId);
      bus.publish(CONTROL_TOPIC, { invalidate: orgId }).catch(() => {});
    },
  });
  const channels = createChannelStore({ db, clock, audit, box, policy });
  const delivery = createDelivery({
    db,
    clock,
    log,
    channels,
    send: { ...policy, ...deps.send },
    backoff: deps.backoff,
  });
  engine = createAlertEngine({
    db,
    clock,
    log,
    rules,
    states,
    channels,
    delivery,
    facts: deps.facts,
    publish,
    isOnline: deps.isOnline,
    publicUrl: deps.publicUrl,
  });
  const history = createAlertHistory(db, clock, audit, publish);
  const unsubscribe = bus.subscribe((topic, data) => {
    if (topic !== CONTROL_TOPIC) return;
    const id = (data as { invalidate?: unknown }).invalidate;
    if (typeof id === "string") engine.invalidate(id);
    const renamed = (data as { renamed?: { org?: unknown; host?: unknown } }).renamed;
    if (typeof renamed?.org === "string" && typeof renamed.host === "string") {
      engine.forgetHost(renamed.org, renamed.host);
    }
  });

  /** Runs a hook's work on the engine's worker, logging (never throwing at the producer) a failure. */
  const onEngine = (what: string, about: Record<string, string>, run: () => Promise<void>) =>
    void engine.task(run).catch((err) =>
      log.error(`alerts: ${what} failed`, { ...about, error: String(err) })
    );

  const tick = () =>
    alertTick({ clock, engine, facts: deps.facts, states, isOnline: deps.isOnline });

  const alerts = {
    rules,
    channels,
    history,
    delivery,
    tick,

    /** The metrics a rule may name in an organization, with units and label values seen. */
    metricCatalog: (orgId: string) => metricCatalog(deps.facts, orgId),

    /** Metrics ingest hook: a committed, new batch. */
    onBatch: engine.onBatch,

    /** Agent registry hooks: container events and the host coming back. */
    agentObserver: {
      event(host: { id: string; org_id: string }, e: ContainerEvent): void {
        if (!eventMatters(e)) return;
        const now = clock.now();
        engine.task(() => engine.containerEvent(host, e, now)).catch((err) =>
          log.error("alerts: event failed", { hostId: host.id, error: String(err) })
        );
      },
      online(host: { id: string; org_id: string }): void {
        engine.task(() => engine.hostOnline(host)).catch((err) =>
          log.error("alerts: host online failed", { error: String(err) })
        );
      },
    },

    /**
     * Hosts hook: a host was renamed. Its stored alerts take the new name, and every replica's
     * engine drops the host's cached facts so the alerts it fires next carry it too.
     */
    async hostRenamed(host: { id: string; org_id: string }, name: string): Promise<void> {
      await history.renameHost(host.id, name);
      const renamed = { org: host.org_id, host: host.id };
      await bus.publish(CONTROL_TOPIC, { renamed }).catch((e) => {
        log.warn("alerts: publish failed; forgetting the host here only", { error: String(e) });
        engine.forgetHost(host.org_id, host.id);
      });
    },

    /** Health hook (lib/health): a check's state changed; unhealthy fires, the rest resolves. */
    onHealthChange(host: { id: string; org_id: string }, change: HealthCheckChange): void {
      engine.task(() => engine.healthChange(host, change)).catch((err) =>
        log.error("alerts: health change failed", { hostId: host.id, error: String(err) })
      );
    },

    /** Apps hook (lib/apps): Swarm moved an app's tasks off a down node. */
    onTasksMoved(moved: TasksMoved): void {
      engine.task(() => engine.tasksMoved(moved)).catch((err) =>
        log.error("alerts: tasks moved failed", { appId: moved.app.id, error: String(err) })
      );
    },

    /** Apps hook (lib/apps): a secret apps use was rotated; what each app did about it. */
    onSecretRestarts(restarts: SecretRestarts): void {
      engine.task(() => engine.secretRestarts(restarts)).catch((err) =>
        log.error("alerts: secret restarts failed", {
          secretId: restarts.secret.id,
          error: String(err),
        })
      );
    },

    /** Proxy hook (lib/proxy): a route hostname's certificate changed state. */
    onCertificate(change: CertificateChange): void {
      engine.task(() => engine.certificateChange(change)).catch((err) =>
        log.error("alerts: certificate change failed", {
          hostname: change.hostname,
          error: String(err),
        })
      );
    },

    /** Builds hook (lib/builds): a build or the deployment it made changed stage. */
    onBuildNotice(notice: BuildNotice): void {
      onEngine(
        "build notice",
        { buildId: notice.build.id, stage: notice.stage },
        () => engine.buildNotice(notice),
      );
    },

    /** Builds hook (lib/builds): an app's Git webhook was disabled after bad signatures. */
    onWebhookDisabled(disabled: WebhookDisabled): void {
      onEngine(
        "webhook disabled",
        { appId: disabled.app.id },
        () => engine.webhookDisabled(disabled),
      );
    },

    /** NAS hook (lib/nas): a target was checked or removed. */
    onNasStatus(status: NasStatus): void {
      onEngine("nas status", { targetId: status.target.id }, () => engine.nasStatus(status));
    },

    /** Billing hook (lib/billing): a wallet entered grace, passed halfway, was blocked, recovered. */
    onBillingWallet(notice: WalletNotice): void {
      onEngine(
        "billing wallet",
        { orgId: notice.org_id, transition: notice.transition },
        () => engine.billingWallet(notice),
      );
    },

    /** Quotas hook (lib/quotas): an org's use of a resource crossed a level, or was blocked. */
    onQuotaUsage(notice: QuotaNotice): void {
      onEngine(
        "quota usage",
        { orgId: notice.org_id, resource: notice.resource, to: notice.to },
        () => engine.quotaUsage(notice),
      );
    },

    /** Snapshots hook (lib/snapshots): a volume snapshot or a restore failed. */
    onSnapshotFailed(failed: SnapshotFailed): void {
      onEngine("snapshot failed", { id: failed.id }, () => engine.snapshotFailed(failed));
    },

    /** Snapshots hook (lib/snapshots): a storage target's verification failed. */
    onSnapshotVerifyFailed(failed: SnapshotVerifyFailed): void {
      onEngine(
        "snapshot verify failed",
        { targetId: failed.target.id },
        () => engine.snapshotVerifyFailed(failed),
      );
    },

    /** Sends a test message through a channel now (audited); the result says sent or why not. */
    async testChannel(ctx: ActionContext, orgId: string, channelId: string) {
      const row = await channels.row(orgId, channelId);
      return await audit.run(ctx, "channel.tested", {
        orgId,
        target: { type: "channel", id: row.id, name: row.name },
        after: (r) => ({ metadata: { status: r.status } }),
      }, async () => {
        const slug = await deps.facts.orgSlug(orgId);
        const now = clock.now();
        const message: AlertMessage = {
          event: "test",
          alert_id: null,
          org: slug ?? "",
          rule: "Test notification",
          severity: "warning",
          title: `Test notification from Capstan to "${row.name}"`,
          detail: "If you can read this, the channel works.",
          host: null,
          container: null,
          value: null,
          started_at: now,
          ended_at: null,
          url: notificationsUrl(deps.publicUrl, slug ?? ""),
        };
        return await delivery.sendTest(orgId, row, message);
      });
    },

    /** The scheduled jobs (lease-protected; evaluation and delivery run more often than once a minute). */
    jobs(): Job[] {
      return [
        { name: "alerts_evaluate", schedule: "* * * * *", intervalMs: 30_000, run: tick },
        {
          name: "alerts_deliver",
          schedule: "* * * * *",
          intervalMs: 10_000,
          run: () => delivery.runDue(),
        },
        {
          name: "alerts_purge",
          schedule: "29 * * * *",
          intervalMs: 3600_000,
          run: () => purgeAlertHistory(db, clock.now(), deps.retentionDays ?? 90),
        },
      ];
    },

    /** Resolves when queued state changes and background sends are done (tests, shutdown). */
    async idle(): Promise<void> {
      await engine.idle();
      await delivery.idle();
    },

    async close(): Promise<void> {
      unsubscribe();
      await engine.idle();
      await delivery.idle();
    },
  };

  const events = deps.events;
  events?.on("metrics.batch_committed", ({ host, batch }) => alerts.onBatch(host, batch));
  events?.on("agent.container_event", ({ host, event }) => alerts.agentObserver.event(host, event));
  events?.on("agent.connected", ({ host }) => alerts.agentObserver.online(host));
  events?.on(
    "health.changed",
    (c) => alerts.onHealthChange({ id: c.host_id, org_id: c.org_id }, c),
  );
  events?.on("host.renamed", ({ host, name }) => alerts.hostRenamed(host, name));
  events?.on("apps.tasks_moved", (moved) => alerts.onTasksMoved(moved));
  events?.on("apps.secret_restarts", (restarts) => alerts.onSecretRestarts(restarts));
  events?.on("proxy.certificate", (change) => alerts.onCertificate(change));
  events?.on("builds.notice", (notice) => alerts.onBuildNotice(notice));
  events?.on("builds.webhook_disabled", (disabled) => alerts.onWebhookDisabled(disabled));
  events?.on("nas.status", (status) => alerts.onNasStatus(status));
  events?.on("snapshots.failed", (failed) => alerts.onSnapshotFailed(failed));
  events?.on("billing.wallet", (notice) => alerts.onBillingWallet(notice));
  events?.on("quotas.usage", (notice) => alerts.onQuotaUsage(notice));
  events?.on("snapshots.verify_failed", (failed) => alerts.onSnapshotVerifyFailed(failed));
  return alerts;
}

export type Alerts = ReturnType<typeof createAlerts>;
