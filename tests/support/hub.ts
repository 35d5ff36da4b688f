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

/** An owner of organization `org` (made if missing) and a write API token of theirs in it. */
export async function ownerToken(
  services: RunningHub["services"],
  org: string,
  email: string,
): Promise<{ userId: string; orgId: string; token: string }> {
  const sys = { actor: { type: "system" as const, name: "test" } };
  const user = await services.accounts.createUser(sys, {
    email,
    name: email.split("@")[0],
    password: `password-${email}`,
  });
  await services.accounts.ensureMembership(sys, user.id, org, "owner");
  const orgId = (await services.orgs.bySlug(org))!.id;
  const { token } = await services.tokens.create({
    userId: user.id,
    orgId,
    name: "test",
    scope: "write",
    expiresAt: null,
  });
  return { userId: user.id, orgId, token };
}
