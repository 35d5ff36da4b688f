import * as z from "zod";
import { SemVer } from "../release_format/manifest.ts";

/** Wire shapes of agent releases shared by the hub's release API and the agent's updater. */

/** The release a host should run, as GET /api/v1/agent/releases/current answers it. */
export const CurrentRelease = z.object({
  release: z.object({
    version: SemVer,
    /** The manifest's exact text: the signature covers these bytes. */
    manifest: z.string().max(64 * 1024),
    signature: z.string().max(200),
    /** An admin pinned this version: the agent may move to it even when it is older. */
    pinned: z.boolean(),
    rollout_id: z.string().max(64),
  }).nullable(),
});
export type CurrentRelease = z.infer<typeof CurrentRelease>;

export const UPDATE_OUTCOMES = ["succeeded", "rolled_back", "rejected", "failed"] as const;

/** An agent's report of how an update went (POST /api/v1/agent/releases/outcome). */
export const OutcomeReport = z.object({
  from_version: z.string().max(64),
  to_version: z.string().max(64),
  outcome: z.enum(UPDATE_OUTCOMES),
  message: z.string().max(500),
  rollout_id: z.string().max(64).nullable(),
});
export type OutcomeReport = z.infer<typeof OutcomeReport>;

/** Hub → agent call: check for an update now (the host page's "Update agent"). */
export const UPDATE_CHECK_OP = "agent.update_check";
export const UpdateCheckParams = z.object({});
