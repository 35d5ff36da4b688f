// Number formatting shared by the metrics islands and the pages that server-render them, so a
// figure reads the same before and after hydration. Pure functions only: this file ships to the
// browser.

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Bytes in binary units: 1536 → "1.5 KiB"; "—" when unknown. */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  const s = i === 0 ? String(Math.round(v)) : v >= 100 ? v.toFixed(0) : v.toFixed(1);
  return `${n < 0 ? "-" : ""}${s} ${UNITS[i]}`;
}

/** Bytes per second: "1.5 MiB/s". */
export function rate(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? "—" : `${bytes(n)}/s`;
}

/** A percentage with one decimal below 100: "42.5 %". */
export function pct(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  return `${n >= 100 ? Math.round(n) : n.toFixed(1)} %`;
}

/** A plain number with sensible precision (load averages, temperatures, counts). */
export function num(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  return Math.abs(n) >= 100 ? String(Math.round(n)) : n.toFixed(digits);
}

/** Seconds as a short duration: "3 d 4 h", "5 h 12 min", "42 s". */
export function duration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return "—";
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min`;
  return `${Math.round(s)} s`;
}

/** The label value of a key like `fs.used_pct{mount=/var}` → "/var"; undefined without one. */
export function labelOf(key: string): string | undefined {
  const open = key.indexOf("{");
  if (open < 0) return undefined;
  const eq = key.indexOf("=", open);
  return key.slice(eq + 1, -1);
}

/** The name part of a key: `fs.used_pct{mount=/}` → "fs.used_pct". */
export function nameOf(key: string): string {
  const open = key.indexOf("{");
  return open < 0 ? key : key.slice(0, open);
}
