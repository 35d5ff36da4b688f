/** Formats ms since the epoch as `2026-01-31 14:05 UTC` (the hub does not know the viewer's zone). */
export function formatTime(ms: number, seconds = false): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, seconds ? 19 : 16)} UTC`;
}

/** A timestamp, machine-readable in `datetime`; "—" for none. */
export function Time({ ms, seconds }: { ms: number | null | undefined; seconds?: boolean }) {
  if (ms === null || ms === undefined) return <span class="muted">—</span>;
  return <time datetime={new Date(ms).toISOString()}>{formatTime(ms, seconds)}</time>;
}
