import type { DockerClient } from "../lib/docker/client.ts";
import type { Logger } from "../lib/log.ts";
import { CLOSE, FATAL_CLOSE_CODES } from "../lib/protocol/messages.ts";
import { type Transport, webSocketTransport } from "../lib/protocol/transport.ts";
import { type Backoff, createBackoff } from "./backoff.ts";
import type { AgentConfig } from "./config.ts";
import { createControl } from "./control.ts";
import { enroll, EnrollmentRefused, EnrollmentUnavailable } from "./enroll.ts";
import { runAgentSession } from "./session.ts";
import type { AgentState } from "./state.ts";
import { AGENT_VERSION } from "./version.ts";
import { type MetricsHandle, startMetrics } from "./metrics/mod.ts";
import { createHealthRunner, transportSender } from "./health/mod.ts";

/** How the agent ended: 0 when asked to stop, EX_CONFIG (78) when the hub refused it for good. */
export interface AgentExit {
  code: 0 | 78;
  message: string;
}

/** systemd's unit uses RestartPreventExitStatus=78: a refused token is not retried every few seconds. */
export const EXIT_REFUSED = 78;
/** A connection up this long counts as healthy: the next failure starts the backoff from scratch. */
const STABLE_AFTER_MS = 30_000;
/** How long the WebSocket handshake may take. */
const DIAL_TIMEOUT_MS = 20_000;

/** What the reconnect loop needs; fetch and backoff are injectable for tests. */
export interface RunnerDeps {
  config: AgentConfig;
  docker: DockerClient;
  state: AgentState;
  machineId: string;
  hostname: string;
  log: Logger;
  /** Aborted on SIGTERM/SIGINT: the current connection is closed and the runner returns. */
  signal: AbortSignal;
  fetch?: typeof fetch;
  backoff?: Backoff;
  /** Self-update hooks (agent/update): told of each connection, and the hub's update checks. */
  update?: { connected(): void; checkNow(): unknown };
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Opens the agent WebSocket with the host token in the Authorization header (never the URL). */
function dial(hubUrl: string, token: string, signal: AbortSignal): Promise<WebSocket> {
  const url = hubUrl.replace(/^http/, "ws") + "/api/v1/agent/connect";
  // Deno's client takes headers as a second argument; the DOM typing only knows protocols.
  const ws = new WebSocket(url, {
    headers: { authorization: `Bearer ${token}`, "user-agent": `capstan-agent/${AGENT_VERSION}` },
  } as unknown as string[]);
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      cleanup();
      try {
        ws.close();
      } catch {
        // Not open yet.
      }
      reject(new Error(why));
    };
    const onOpen = () => {
      cleanup();
      resolve(ws);
    };
    const onClose = (e: CloseEvent) =>
      fail(`handshake failed (${e.code}${e.reason ? ` ${e.reason}` : ""})`);
    const onAbort = () => fail("stopping");
    const timer = setTimeout(() => fail("handshake timed out"), DIAL_TIMEOUT_MS);
    const cleanup = () => {
      clearTimeout(timer);
      ws.removeEventListener("open", onOpen);
      ws.removeEventListener("close", onClose);
      signal.removeEventListener("abort", onAbort);
    };
    ws.addEventListener("open", onOpen);
    ws.addEventListener("close", onClose);
    ws.addEventListener("error", () => {});
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * After a failed handshake: asks the hub plainly whether it still accepts the token. A WebSocket
 * client never sees the HTTP status of a refused upgrade, and "refused" must stop the agent while
 * "hub down" must not.
 */
async function tokenRefused(
  hubUrl: string,
  token: string,
  fetchFn: typeof fetch,
): Promise<boolean> {
  try {
    const res = await fetchFn(`${hubUrl}/api/v1/agent/connect`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    await res.body?.cancel();
    return res.status === 401;
  } catch {
    return false;
  }
}

/**
 * The agent's life: enroll when there is no host token yet, then stay connected to the hub,
 * reconnecting with backoff and jitter, until stopped or refused.
 */
export async function runAgent(d: RunnerDeps): Promise<AgentExit> {
  const { config, state, log, signal } = d;
  const fetchFn = d.fetch ?? fetch;
  const backoff = d.backoff ?? createBackoff();

  let token = await state.readToken();
  const enrollToken = config.enrollToken;
  if (enrollToken && (!token || !(await state.enrolledWith(enrollToken)))) {
    for (;;) {
      if (signal.aborted) return { code: 0, message: "stopped" };
      try {
        const r = await enroll(config.hubUrl, {
          token: enrollToken,
          machineId: d.machineId,
          hostname: d.hostname,
        }, fetchFn);
        await state.writeToken(r.hostToken);
        await state.markEnrolled(enrollToken);
        token = r.hostToken;
        log.info("enrolled with the hub", { host_id: r.hostId, token_file: state.tokenFile });
        backoff.reset();
        break;
      } catch (err) {
        if (err instanceof EnrollmentRefused) {
          // An already enrolled host keeps working with its token when the old token is reused.
          if (token) {
            log.warn(
              "the configured enrollment token was refused; keeping the existing host token",
            );
            break;
          }
          return {
            code: EXIT_REFUSED,
            message: `${err.message}. Ask an admin for a new enrollment token.`,
          };
        }
        const wait = err instanceof EnrollmentUnavailable && err.retryAfterMs
          ? err.retryAfterMs
          : backoff.next();
        log.warn("enrollment failed; retrying", {
          error: (err as Error).message,
          retry_in_ms: wait,
        });
        await sleep(wait, signal);
      }
    }
  }
  if (!token) {
    return {
      code: EXIT_REFUSED,
      message:
        `no host token in ${state.tokenFile} and no enrollment token given (--enroll-token / CAPSTAN_ENROLL_TOKEN)`,
    };
  }

  // Health checks outlive connections: results wait in the runner's buffer while the hub is away.
  let live: Transport | undefined;
  const health = createHealthRunner({ docker: d.docker, log, send: transportSender(() => live) });
  // stop-mode snapshots stage volumes on disk: the state folder, not a /tmp that may be in RAM.
  const control = createControl(d.docker, {
    health,
    restic: { stagingDir: `${config.stateDir}/snapshot-staging` },
  });
  let since: number | undefined;
  // Metrics go over their own HTTP reports (spooled while the hub is away), beside the WebSocket.
  const startReporting = (hostToken: string) =>
    config.metricsIntervalMs > 0
      ? startMetrics({
        hubUrl: config.hubUrl,
        token: hostToken,
        machineId: d.machineId,
        stateDir: config.stateDir,
        docker: d.docker,
        log,
        intervalMs: config.metricsIntervalMs,
        reportIntervalMs: config.reportIntervalMs,
        fetch: d.fetch,
        onUnauthorized: (status) =>
          log.warn("the hub refused a metrics report; reports paused", { status }),
      }).catch((err) => {
        log.error("metrics could not start", { error: String(err) });
        return undefined;
      })
      : Promise.resolve(undefined);
  let current: string = token;
  let metrics: MetricsHandle | undefined = await startReporting(current);
  try {
    return await connectLoop();
  } finally {
    health.close();
    await metrics?.stop();
  }

  async function connectLoop(): Promise<AgentExit> {
    while (!signal.aborted) {
      let ws: WebSocket;
      try {
        ws = await dial(config.hubUrl, current, signal);
      } catch (err) {
        if (signal.aborted) break;
        if (await tokenRefused(config.hubUrl, current, fetchFn)) {
          return {
            code: EXIT_REFUSED,
            message:
              `the hub refused this host's token (host removed, or token rotated while the agent was offline); update ${state.tokenFile} or enroll again`,
          };
        }
        const wait = backoff.next();
        log.warn("cannot connect to the hub; retrying", {
          error: (err as Error).message,
          retry_in_ms: wait,
        });
        await sleep(wait, signal);
        continue;
      }

      const opened = Date.now();
      const transport: Transport = webSocketTransport(ws);
      live = transport;
      let closeCode = 1006;
      let closeReason = "";
      transport.onClose((code, reason) => {
        closeCode = code;
        closeReason = reason;
      });
      const stop = () => transport.close(1000, "agent stopping");
      signal.addEventListener("abort", stop, { once: true });
      log.info("connected to the hub", { hub: config.hubUrl });
      d.update?.connected();
      const result = await runAgentSession(transport, {
        docker: d.docker,
        control,
        agentVersion: AGENT_VERSION,
        machineId: d.machineId,
        hostname: d.hostname,
        log,
        since,
        onUpdateCheck: d.update && (() => d.update!.checkNow()),
        onRotate: async (next) => {
          await state.writeToken(next);
          current = next;
          await metrics?.stop();
          metrics = await startReporting(next);
          log.info("host token rotated by the hub; stored", { token_file: state.tokenFile });
        },
      });
      signal.removeEventListener("abort", stop);
      live = undefined;
      since = result.lastEventNano ?? since;
      if (signal.aborted) break;
      if (FATAL_CLOSE_CODES.includes(closeCode)) {
        const why = closeCode === CLOSE.HOST_REMOVED
          ? "this host was removed from the hub"
          : "the hub refused this host's token (it is bound to another machine)";
        return { code: EXIT_REFUSED, message: `${why}: ${closeReason}` };
      }
      if (Date.now() - opened >= STABLE_AFTER_MS || closeCode === CLOSE.TOKEN_ROTATED) {
        backoff.reset();
      }
      if (closeCode === CLOSE.TOKEN_ROTATED) {
        log.info("reconnecting with the rotated token");
        continue;
      }
      const wait = backoff.next();
      log.warn("disconnected from the hub; reconnecting", {
        code: closeCode,
        reason: closeReason,
        retry_in_ms: wait,
      });
      await sleep(wait, signal);
    }
    return { code: 0, message: "stopped" };
  }
}
