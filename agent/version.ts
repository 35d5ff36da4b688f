/** The agent's version, reported by `--version` and in every hello. Bumped with each release. */
export const AGENT_VERSION = "0.1.0";
