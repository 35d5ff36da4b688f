/** Order statistics of the bench's samples (the input is not changed). */

/** The value at percentile `p` (0–100) of `xs`: the sample below which p % of them lie. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** The median (the upper one of an even count). */
export const median = (xs: number[]): number => percentile(xs, 50);
