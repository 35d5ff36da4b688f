/**
 * When each check runs. A check's attempts fall on a fixed grid: every `interval` from a phase
 * derived from its id, on the wall clock. The phase spreads many checks of the same interval evenly
 * instead of firing them together, and being a function of the id alone it survives a re-sync, a
 * reconnect and an agent restart, so a check's results keep their rhythm.
 *
 * Only the first attempt of a check is off the grid: a user who just added a check (or an agent
 * that just started) should not wait a whole interval for its first answer.
 */

/** Over how long the first attempts of many checks starting together are spread. */
export const FIRST_SPREAD_MS = 5000;

/** FNV-1a over the id: cheap, stable across processes, and well spread for UUIDs. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Phases are whole multiples of this: checks due within the same 100 ms start together, so the
 * runner wakes ten times a second at most instead of once per check (each wake-up of the event
 * loop costs more CPU than the timer itself). Well inside the jitter budget.
 */
export const PHASE_STEP_MS = 100;

/** The check's offset within its interval, in [0, intervalMs), a multiple of PHASE_STEP_MS. */
export function phaseOf(id: string, intervalMs: number): number {
  const steps = Math.max(1, Math.floor(intervalMs / PHASE_STEP_MS));
  return (hash32(id) % steps) * PHASE_STEP_MS;
}

/** The first slot of the grid (`phase` + k·`intervalMs`) at or after `notBefore`. */
export function slotAtOrAfter(notBefore: number, phase: number, intervalMs: number): number {
  const k = Math.ceil((notBefore - phase) / intervalMs);
  return phase + k * intervalMs;
}

/** The slot after `planned` that is still ahead of `now` (slots missed while busy are skipped). */
export function nextSlot(planned: number, now: number, intervalMs: number): number {
  const next = planned + intervalMs;
  if (next > now) return next;
  return next + Math.ceil((now - next + 1) / intervalMs) * intervalMs;
}

/**
 * The first attempt: soon after `earliest` (the start delay's end), spread by the phase over at
 * most FIRST_SPREAD_MS so an agent starting with hundreds of checks does not fire them at once.
 */
export function firstSlot(earliest: number, phase: number, intervalMs: number): number {
  return earliest + (phase % Math.min(intervalMs, FIRST_SPREAD_MS));
}

/** The grid slot that follows a first attempt, at least half an interval after it. */
export function slotAfterFirst(first: number, phase: number, intervalMs: number): number {
  return slotAtOrAfter(first + intervalMs / 2, phase, intervalMs);
}
