/**
 * Money as pages show and take it: integer minor units of a currency, formatted and parsed with
 * string arithmetic only (never a float), with the currency's own number of decimals (2 for EUR,
 * 0 for JPY, 3 for KWD — as the runtime's Intl data says).
 */

/** Decimals of a currency's minor unit (2 when the runtime does not know the code). */
export function digitsOf(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency })
      .resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** `-1234` EUR → "-12.34 EUR"; thousands grouped with a thin space. */
export function money(minor: number, currency: string): string {
  const d = digitsOf(currency);
  const neg = minor < 0;
  const s = String(Math.abs(minor)).padStart(d + 1, "0");
  const whole = s.slice(0, s.length - d).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
  const frac = d ? `.${s.slice(s.length - d)}` : "";
  return `${neg ? "-" : ""}${whole}${frac} ${currency}`;
}

/** "50", "50.5", "-3.25" → minor units; undefined when not an amount of this currency. */
export function parseMoney(text: string, currency: string): number | undefined {
  const d = digitsOf(currency);
  const m = /^(-)?(\d{1,12})(?:\.(\d+))?$/.exec(text.trim().replace(",", "."));
  if (!m || (m[3] ?? "").length > d) return undefined;
  const minor = Number(m[2]) * 10 ** d + Number((m[3] ?? "").padEnd(d, "0") || "0");
  return m[1] ? -minor : minor;
}
