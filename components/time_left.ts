/** "3 d 4 h" / "5 h 12 min" / "7 min" left until `ms` (shared by pages and the countdown island). */
export function timeLeft(ms: number, now: number): string {
  const min = Math.max(0, Math.ceil((ms - now) / 60_000));
  const d = Math.floor(min / 1440), h = Math.floor((min % 1440) / 60), m = min % 60;
  return d ? `${d} d ${h} h` : h ? `${h} h ${m} min` : `${m} min`;
}
