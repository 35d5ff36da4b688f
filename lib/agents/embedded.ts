import { join } from "node:path";
import type { Db } from "../db/mod.ts";
import type { Hosts } from "../hosts/service.ts";
import type { Bus } from "../realtime/bus.ts";
import type { Logger } from "../log.ts";
import type { AgentRegistry } from "./registry.ts";
import { createDockerClient } from "../docker/client.ts";
import { memoryTransportPair, type Transport } from "../protocol/transport.ts";
import { CLOSE } from "../protocol/messages.ts";
import { createControl } from "../../agent/control.ts";
import { runAgentSession } from "../../agent/session.ts";
import { type MetricsHandle, startMetrics } from "../../agent/metrics/mod.ts";
import { inProcessReportFetch } from "./in_process_report.ts";
import type { Metrics } from "../metrics/service.ts";
import { loadMachineId } from "../../agent/machine_id.ts";
import { createBackoff } from "../../agent/backoff.ts";
import { AGENT_VERSION } from "../../agent/version.ts";
import { createHealthRunner, transportSender } from "../../agent/health/mod.ts";

/**
 * The embedded agent's batches: every second, so a hub killed outright loses at most the last
 * second before it died (a remote agent keeps sampling while the hub is down; this one cannot).
 */
const EMBEDDED_REPORT_MS = 1000;

/** The embedded agent while it runs; `stop()` ends its session and waits for it. */
export interface EmbeddedAgent {
  stop(): Promise<void>;
}

/** What the embedded agent needs from the hub. */
export interface EmbeddedAgentOptions {
  db: Db;
  hosts: Hosts;
  agents: AgentRegistry;
  bus: Bus;
  log: Logger;
  socketPath: string;
  /** Where a machine id is generated when /etc/machine-id is missing (the hub's data dir). */
  dataDir: string;
  machineIdFile?: string;
  hostname?: string;
  /** How often to look for a first organization before setup created one. */
  orgPollMs?: number;
  /** Where the local host's metrics go (in process); without it the embedded agent reports none. */
  metrics?: Metrics;
  /** Host sampling interval for the local host (ms); 0 turns local metrics off. */
  metricsIntervalMs?: number;
}

/** Whether a unix socket exists at `path`. */
export function socketExists(path: string): boolean {
  try {
    return Deno.statSync(path).isSocket === true;
  } catch {
    return false;
  }
}

/** A host name from the machine's hostname, fitted to the host-name rule (Docker's, ≤ 64). */
export function localHostName(hostname: string): string {
  const cleaned = hostname.replace(/[^a-zA-Z0-9_.-]+/g, "-").replace(/^[^a-zA-Z0-9]+/, "")
    .slice(0, 58);
  return cleaned || "local";
}

async function oldestOrg(db: Db): Promise<string | undefined> {
  const row = await db.selectFrom("organizations").select("id").orderBy("created_at").orderBy("id")
    .limit(1).executeTakeFirst();
  return row?.id;
}

/**
 * Runs an agent session inside the hub for the local engine, over an in-process transport: the
 * same protocol and code path as a remote agent, minus the socket and the token. It attaches to
 * the oldest organization's local host; before setup created an organization it waits for one
 * (woken by the `org.created` audit event, with a poll as a backstop for admin tasks run from
 * another process). A session that ends (engine restarted, connection replaced) is started again
 * with backoff; a removed local host stays removed until the hub restarts.
 *
 * Metrics outlive sessions: sampling starts as soon as an organization exists — at once on a
 * restarted hub, before its HTTP server is up — spooling one-second batches to the data dir, which
 * are sent in process once the local host is known. The hub's own host loses only the seconds the
 * hub process was really down.
 */
export function startEmbeddedAgent(o: EmbeddedAgentOptions): EmbeddedAgent {
  const stopping = new AbortController();
  const backoff = createBackoff({ baseMs: 1000, capMs: 30_000 });
  let current: Transport | undefined;
  let wake: (() => void) | undefined;
  // Health checks run for the hub's whole life, across sessions, on a client of their own (each
  // session closes its client when it ends); results go out over whichever session is live.
  let live: Transport | undefined;
  const healthDocker = createDockerClient({ socketPath: o.socketPath });
  const health = createHealthRunner({
    docker: healthDocker,
    log: o.log,
    send: transportSender(() => live),
  });

  // The local host once known (reports wait for it), and the metrics pipeline once started.
  let localHost: { id: string; org_id: string } | undefined;
  const { promise: hostKnown, resolve: knowHost } = Promise.withResolvers<void>();
  let metrics: Promise<MetricsHandle | undefined> | undefined;
  const metricsDocker = createDockerClient({ socketPath: o.socketPath });
  const startLocalMetrics = () =>
    metrics ??= o.metrics && (o.metricsIntervalMs ?? 1000) > 0
      ? startMetrics({
        hubUrl: "http://embedded.invalid",
        token: "embedded",
        stateDir: join(o.dataDir, "local-agent"),
        docker: metricsDocker,
        log: o.log,
        intervalMs: o.metricsIntervalMs,
        reportIntervalMs: EMBEDDED_REPORT_MS,
        fetch: inProcessReportFetch(() => localHost, o.metrics),
        ready: hostKnown,
      }).catch((err) => {
        o.log.warn("embedded agent: metrics could not start", { error: String(err) });
        return undefined;
      })
      : Promise.resolve(undefined);

  const unsubscribe = o.bus.subscribe((_topic, data) => {
    if ((data as { action?: unknown } | null)?.action === "org.created") wake?.();
  });

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake = undefined;
        stopping.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake = done;
      stopping.signal.addEventListener("abort", done, { once: true });
    });

  async function once(machineId: string, hostname: string): Promise<"again" | "removed"> {
    const orgId = await oldestOrg(o.db);
    if (!orgId) {
      await pause(o.orgPollMs ?? 5000);
      return "again";
    }
    // Sample from now on, whatever the engine and the session do.
    startLocalMetrics();
    const docker = createDockerClient({ socketPath: o.socketPath });
    try {
      await docker.ping({ signal: AbortSignal.timeout(5000) });
    } catch (err) {
      docker.close();
      const wait = backoff.next();
      o.log.warn("embedded agent: the local Docker engine does not answer", {
        error: String(err),
        retry_in_ms: wait,
      });
      await pause(wait);
      return "again";
    }
    const host = await o.hosts.ensureLocal(orgId, localHostName(hostname), machineId);
    localHost = host;
    knowHost();
    const [hubEnd, agentEnd] = memoryTransportPair();
    current = hubEnd;
    live = agentEnd;
    let closeCode = 0;
    hubEnd.onClose((code) => (closeCode = code));
    const started = Date.now();
    const session = runAgentSession(agentEnd, {
      docker,
      control: createControl(docker, { health }),
      agentVersion: AGENT_VERSION,
      machineId,
      hostname,
      log: o.log,
    });
    if (stopping.signal.aborted) hubEnd.close(1001, "hub stopping");
    try {
      await o.agents.attach(host, hubEnd);
      o.log.info("embedded agent connected", { host: host.name });
    } catch (err) {
      o.log.warn("embedded agent could not attach", { error: String(err) });
      hubEnd.close(1011, "attach failed");
    }
    await session;
    live = undefined;
    docker.close();
    current = undefined;
    if (closeCode === CLOSE.HOST_REMOVED) return "removed";
    if (Date.now() - started > 30_000) backoff.reset();
    if (!stopping.signal.aborted) await pause(backoff.next());
    return "again";
  }

  const loop = (async () => {
    const machineId = await loadMachineId(o.machineIdFile ?? "/etc/machine-id", o.dataDir);
    const hostname = o.hostname ?? Deno.hostname();
    while (!stopping.signal.aborted) {
      try {
        if (await once(machineId, hostname) === "removed") {
          await (await metrics)?.stop();
          o.log.info(
            "embedded agent: the local host was removed; it stays off until the hub restarts (CAPSTAN_LOCAL_AGENT=0 keeps it off)",
          );
          break;
        }
      } catch (err) {
        o.log.error("embedded agent failed; restarting", { error: String(err) });
        await pause(backoff.next());
      }
    }
    health.close();
    await (await metrics)?.stop();
  })();

  return {
    async stop() {
      stopping.abort();
      unsubscribe();
      current?.close(1001, "hub stopping");
      await loop;
      healthDocker.close();
      metricsDocker.close();
    },
  };
}
