/**
 * The Capstan host agent: `deno task agent` (or the bundle the hub serves to install.sh). It dials
 * out to the hub, keeps one WebSocket open and runs the hub's operations from the closed list
 * against the local Docker Engine over its unix socket. No shell, no Engine API passthrough.
 */
import { createDockerClient } from "../lib/docker/client.ts";
import { createLogger } from "../lib/log.ts";
import { AgentConfigError, parseAgentArgs, USAGE } from "./config.ts";
import { loadMachineId } from "./machine_id.ts";
import { runAgent } from "./runner.ts";
import { agentState } from "./state.ts";
import { AGENT_VERSION } from "./version.ts";
import { runUpdateGuard } from "./update/guard.ts";
import { type AgentUpdates, startUpdates, updateSettings } from "./update/mod.ts";
import { startMemoryTrim } from "./memory_trim.ts";

/**
 * `capstan-agent --update-guard`: the start-up check before each start (systemd ExecStartPre), run
 * by the last healthy binary. Always exits 0: a failed check must not keep the agent down.
 */
async function guardMain(env: Record<string, string | undefined>): Promise<number> {
  const installDir = env.CAPSTAN_AGENT_INSTALL_DIR;
  const stateDir = env.CAPSTAN_AGENT_DIR || "/var/lib/capstan-agent";
  if (!installDir) return 0;
  try {
    const r = await runUpdateGuard({ installDir, stateDir });
    if (r.action === "rolled_back") console.error(`capstan-agent: ${r.message}`);
    if (r.action === "trial") console.error("capstan-agent: starting a new version on trial");
  } catch (err) {
    console.error(`capstan-agent: update guard failed: ${(err as Error).message}`);
  }
  return 0;
}

/** Runs the agent with the process's flags and environment; resolves with the exit code. */
export async function main(
  args: string[],
  readEnv: () => Record<string, string | undefined> = () => Deno.env.toObject(),
): Promise<number> {
  if (args[0] === "--update-guard") return await guardMain(readEnv());
  let cmd;
  let updateEnv;
  try {
    cmd = parseAgentArgs(args, readEnv);
    updateEnv = cmd.kind === "run" ? updateSettings(readEnv()) : undefined;
  } catch (err) {
    if (err instanceof AgentConfigError || (err instanceof Error && /^agent: /.test(err.message))) {
      console.error(err.message);
      return 78;
    }
    throw err;
  }
  if (cmd.kind === "version") {
    console.log(`capstan-agent ${AGENT_VERSION}`);
    return 0;
  }
  if (cmd.kind === "help") {
    console.log(USAGE);
    return 0;
  }
  const { config } = cmd;
  const log = createLogger(config.logLevel);
  const machineId = await loadMachineId(config.machineIdFile, config.stateDir);
  const docker = createDockerClient({ socketPath: config.dockerSocket });
  const ac = new AbortController();
  const onSignal = () => {
    log.info("stopping");
    ac.abort();
  };
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
  log.info(`capstan-agent ${AGENT_VERSION} starting`, {
    hub: config.hubUrl,
    state_dir: config.stateDir,
    docker_socket: config.dockerSocket,
  });
  // Self-update (binary installs only): a switch makes this process exit for its supervisor.
  let restart: { code: number } | undefined;
  const state = agentState(config.stateDir);
  const updates: AgentUpdates | undefined = updateEnv && startUpdates({
    settings: updateEnv,
    stateDir: config.stateDir,
    hubUrl: config.hubUrl,
    version: AGENT_VERSION,
    token: () => state.readToken(),
    log,
    restart: (why, code) => {
      log.info("restarting", { reason: why });
      restart ??= { code };
      ac.abort();
    },
  });
  // Freed memory goes back to the system every 30 s (where install.sh's unit enables it).
  const trim = startMemoryTrim({ env: readEnv(), log });
  try {
    const exit = await runAgent({
      config,
      docker,
      state,
      machineId,
      hostname: Deno.hostname(),
      log,
      signal: ac.signal,
      update: updates,
    });
    if (restart) return restart.code;
    if (exit.code !== 0) console.error(`capstan-agent: ${exit.message}`);
    return exit.code;
  } finally {
    trim.stop();
    updates?.stop();
    Deno.removeSignalListener("SIGTERM", onSignal);
    Deno.removeSignalListener("SIGINT", onSignal);
    docker.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
