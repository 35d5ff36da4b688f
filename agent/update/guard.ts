import { installLayout } from "./layout.ts";
import { updateState } from "./pending.ts";

/** What the start-up check did. */
export type GuardAction = "none" | "trial" | "rolled_back";

/**
 * The start-up check run before every start of the agent (systemd ExecStartPre, or the test's
 * supervisor), by the last binary that confirmed its health. A switch awaiting confirmation gets
 * exactly one start: if the guard runs again for the same switch, the new agent exited without
 * confirming (it crashed, exited at once or gave up at its deadline), so the previous binary is
 * put back and the failure is left for that agent to report.
 */
export async function runUpdateGuard(o: {
  installDir: string;
  stateDir: string;
  now?: number;
}): Promise<{ action: GuardAction; message?: string }> {
  const now = o.now ?? Date.now();
  const state = updateState(o.stateDir);
  const pending = await state.readPending();
  if (!pending) return { action: "none" };
  const layout = installLayout(o.installDir);
  const late = now > pending.deadline;
  if (pending.starts === 0 && !late) {
    await state.writePending({ ...pending, starts: 1 });
    return { action: "trial" };
  }
  const message = late
    ? `capstan-agent ${pending.to_version} did not confirm its health in time; restored ${pending.from_version}`
    : `capstan-agent ${pending.to_version} exited before confirming its health; restored ${pending.from_version}`;
  await layout.point("current", pending.previous);
  // Blocked before anything else runs, so no check can install the same version again.
  await state.addBlocked(pending.to_version);
  await state.writeResult({
    from_version: pending.from_version,
    to_version: pending.to_version,
    outcome: "rolled_back",
    message,
    rollout_id: pending.rollout_id,
    at: now,
  });
  await state.clearPending();
  return { action: "rolled_back", message };
}
