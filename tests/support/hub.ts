import { loadConfig } from "../../lib/config.ts";
import { type RunningHub, startHub } from "../../hub.ts";
import { silentLogger } from "../../lib/log.ts";
import type { Logger } from "../../lib/log.ts";

/**
 * The real hub on a free loopback port over `dataDir`, without the embedded agent or scheduled
 * jobs unless `env` / `opts` ask for them, logging nowhere unless given a logger.
 */
export function startTestHub(
  dataDir: string,
  env: Record<string, string> = {},
  opts: { log?: Logger; jobs?: boolean } = {},
): Promise<RunningHub> {
  return startHub(
    loadConfig({
      CAPSTAN_HOST: "127.0.0.1",
      CAPSTAN_PORT: "0",
      CAPSTAN_DATA_DIR: dataDir,
      CAPSTAN_LOCAL_AGENT: "0",
      ...env,
    }),
    { log: opts.log ?? silentLogger, jobs: opts.jobs ?? false },
  );
}
