/** The version this build was released as; bumped with each release. */
export const BUILT_VERSION = "0.1.0";

/**
 * Test stand-ins for release binaries (launchers of agent/main.ts, see tests/agent_update_e2e_test.ts)
 * claim another version through CAPSTAN_AGENT_VERSION_OVERRIDE. Read only when env access to it
 * is already granted, so `--version` still runs without permissions.
 */
function override(): string | undefined {
  const name = "CAPSTAN_AGENT_VERSION_OVERRIDE";
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    const v = Deno.env.get(name);
    return v && /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The agent's version, reported by `--version` and in every hello. */
export const AGENT_VERSION: string = override() ?? BUILT_VERSION;
