import * as z from "zod";
import type { Logger } from "../../lib/log.ts";
import { parseKeyList } from "../../lib/release_format/signing.ts";
import { TRUSTED_RELEASE_KEYS } from "../release_keys.ts";
import { type ReleaseClient, releaseClient } from "./hub_client.ts";
import { installLayout } from "./layout.ts";
import { updateState } from "./pending.ts";
import { type CheckResult, createUpdater } from "./updater.ts";

/** Self-update settings, from the environment (install.sh writes them to agent.env). */
export interface UpdateSettings {
  /** Install dir of a binary install (versions/, current, previous, guard); unset: no self-update. */
  installDir: string;
  intervalMs: number;
  confirmMs: number;
  trustedKeys: readonly string[];
  arch: string;
}

const Env = z.object({
  CAPSTAN_AGENT_INSTALL_DIR: z.string().startsWith("/").optional(),
  CAPSTAN_UPDATE_INTERVAL_MS: z.coerce.number().int().min(0).max(30 * 86_400_000).default(
    86_400_000,
  ),
  CAPSTAN_UPDATE_CONFIRM_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  CAPSTAN_RELEASE_PUBLIC_KEYS: z.string().optional(),
  CAPSTAN_AGENT_ARCH: z.enum(["x86_64", "aarch64"]).optional(),
});

/** The update settings, or undefined when this agent does not update itself (no install dir). */
export function updateSettings(
  env: Record<string, string | undefined>,
): UpdateSettings | undefined {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  const r = Env.safeParse(clean);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`agent: ${String(i.path[0])} is invalid: ${i.message}`);
  }
  const e = r.data;
  if (!e.CAPSTAN_AGENT_INSTALL_DIR) return undefined;
  const keys = e.CAPSTAN_RELEASE_PUBLIC_KEYS !== undefined
    ? parseKeyList(e.CAPSTAN_RELEASE_PUBLIC_KEYS)
    : TRUSTED_RELEASE_KEYS;
  return {
    installDir: e.CAPSTAN_AGENT_INSTALL_DIR,
    intervalMs: e.CAPSTAN_UPDATE_INTERVAL_MS,
    confirmMs: e.CAPSTAN_UPDATE_CONFIRM_MS,
    trustedKeys: keys,
    arch: e.CAPSTAN_AGENT_ARCH ?? (Deno.build.arch === "aarch64" ? "aarch64" : "x86_64"),
  };
}

/** Delay before the next periodic check: the interval ±10 %, so a fleet does not check at once. */
export function jittered(intervalMs: number, random = Math.random): number {
  return Math.round(intervalMs * (0.9 + 0.2 * random()));
}

/** The running update machinery of one agent process. */
export interface AgentUpdates {
  /** The agent connected to the hub: confirms a pending switch and reports stored outcomes. */
  connected(): void;
  /** On-demand check (hub's "Update agent"); answers at once, the check runs in the background. */
  checkNow(): { accepted: boolean };
  /** Resolves with each finished check (tests wait on it). */
  lastCheck(): Promise<CheckResult> | undefined;
  stop(): void;
}

/**
 * Starts self-update for an agent of `version`: periodic jittered checks, on-demand checks, and,
 * when this process is a freshly switched-to binary, the health confirmation that must arrive
 * before the deadline. Without a confirmation the agent exits (`giveUp`) and the guard restores
 * the previous binary on the next start.
 */
export function startUpdates(o: {
  settings: UpdateSettings;
  stateDir: string;
  hubUrl: string;
  version: string;
  token(): Promise<string | undefined>;
  log: Logger;
  /** Exit so the supervisor restarts (after an install, or when giving up unconfirmed). */
  restart(reason: string, code: number): void;
  client?: ReleaseClient;
  fetch?: typeof fetch;
}): AgentUpdates {
  const { settings, log } = o;
  const client = o.client ?? releaseClient(o.hubUrl, o.token, o.fetch);
  const state = updateState(o.stateDir);
  const layout = installLayout(settings.installDir);
  const updater = createUpdater({
    installDir: settings.installDir,
    stateDir: o.stateDir,
    arch: settings.arch,
    currentVersion: o.version,
    trustedKeys: settings.trustedKeys,
    confirmMs: settings.confirmMs,
    client,
    log,
    restart: (why) => o.restart(why, 0),
  });
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let giveUpTimer: ReturnType<typeof setTimeout> | undefined;
  let last: Promise<CheckResult> | undefined;
  let confirming: Promise<void> | undefined;
  const started = Date.now();

  const runCheck = () => {
    last = updater.check();
    return last;
  };
  const schedule = (ms: number) => {
    if (stopped || settings.intervalMs === 0) return;
    timer = setTimeout(async () => {
      await runCheck();
      schedule(jittered(settings.intervalMs));
    }, ms);
  };
  // The first check comes soon after start (within a minute, jittered), then every interval.
  schedule(Math.round(Math.min(settings.intervalMs, 60_000) * Math.random()));

  // A freshly switched-to binary: it must confirm before its deadline or hand back to the guard.
  const pendingAtStart = state.readPending().then((p) => {
    if (!p || p.to_version !== o.version || stopped) return undefined;
    const left = Math.max(0, Math.min(p.deadline - Date.now(), settings.confirmMs));
    log.info(`update to ${o.version} awaits health confirmation`, { within_ms: left });
    giveUpTimer = setTimeout(() => {
      log.error(`capstan-agent ${o.version} could not confirm its health in time; exiting`);
      o.restart("health not confirmed", 1);
    }, left);
    return p;
  });

  async function confirm() {
    const p = await pendingAtStart;
    // Outcomes left by the guard (a rollback) or a previous process go to the hub first.
    const stored = await state.readResult();
    if (stored) {
      await client.report(stored);
      await state.clearResult();
      log.info("reported the last update outcome to the hub", { outcome: stored.outcome });
    }
    if (!p || stopped) return;
    await client.report({
      from_version: p.from_version,
      to_version: p.to_version,
      outcome: "succeeded",
      message: `capstan-agent ${p.to_version} connected and confirmed its health in ${
        Math.round((Date.now() - started) / 1000)
      } s`,
      rollout_id: p.rollout_id,
    });
    // Confirmed: this binary becomes the guard (the known-good binary for the next update).
    clearTimeout(giveUpTimer);
    await layout.point("guard", p.next);
    await state.clearPending();
    log.info(`update to ${o.version} confirmed`);
  }

  const api: AgentUpdates = {
    connected() {
      confirming ??= confirm().catch(async (err) => {
        log.warn("could not confirm the update with the hub yet", { error: String(err) });
        confirming = undefined;
        // Retried on the next connection; a pending switch also retries shortly, until its deadline.
        if (!stopped && await pendingAtStart) setTimeout(() => api.connected(), 2000);
      });
    },
    checkNow() {
      if (stopped) return { accepted: false };
      runCheck();
      return { accepted: true };
    },
    lastCheck: () => last,
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(giveUpTimer);
    },
  };
  return api;
}
