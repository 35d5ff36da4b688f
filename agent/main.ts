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

/** Runs the agent with the process's flags and environment; resolves with the exit code. */
export async function main(
  args: string[],
  readEnv: () => Record<string, string | undefined> = () => Deno.env.toObject(),
): Promise<number> {
  let cmd;
  try {
    cmd = parseAgentArgs(args, readEnv);
  } catch (err) {
    if (err instanceof AgentConfigError) {
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
  try {
    const exit = await runAgent({
      config,
      docker,
      state: agentState(config.stateDir),
      machineId,
      hostname: Deno.hostname(),
      log,
      signal: ac.signal,
    });
    if (exit.code !== 0) console.error(`capstan-agent: ${exit.message}`);
    return exit.code;
  } finally {
    Deno.removeSignalListener("SIGTERM", onSignal);
    Deno.removeSignalListener("SIGINT", onSignal);
    docker.close();
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
