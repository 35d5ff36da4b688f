/**
 * When each check runs. A check's attempts fall on a fixed grid: every `interval` from a phase
 * derived from its id, on the wall clock. The phase spreads many checks of the same interval evenly
 * instead of firing them together, and being a function of the id alone it survives a re-sync, a
 * reconnect and an agent restart, so a check's results keep their rhythm.
 */

/** FNV-1a over the id: cheap, stable across processes, and well spread for UUIDs. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The check's offset within its interval, in [0, intervalMs). */
export function phaseOf(id: string, intervalMs: number): number {
  return hash32(id) % intervalMs;
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
