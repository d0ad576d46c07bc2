/**
 * Currency facts the fake needs to settle charges the way Stripe does: the minor-unit exponent of each
 * currency and a fixed table of reference rates, so converted amounts are deterministic.
 */

const ZERO_DECIMAL = new Set([
  'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf',
]);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** Digits after the decimal point in the currency's minor unit (JPY 0, KWD 3, most 2). */
export function currencyExponent(currency: string): number {
  const c = currency.toLowerCase();
  if (ZERO_DECIMAL.has(c)) return 0;
  if (THREE_DECIMAL.has(c)) return 3;
  return 2;
}

/** US dollars per one major unit of each currency: a frozen snapshot, not market data. */
const USD_PER_UNIT: Readonly<Record<string, number>> = {
  usd: 1,
  eur: 1.085,
  gbp: 1.27,
  jpy: 0.0067,
  kwd: 3.25,
  bhd: 2.65,
  chf: 1.12,
  cad: 0.73,
};

/** The currencies the fake can settle a charge in (lowercase). */
export const REFERENCE_CURRENCIES: readonly string[] = Object.keys(USD_PER_UNIT);

export function hasReferenceRate(currency: string): boolean {
  return USD_PER_UNIT[currency.toLowerCase()] !== undefined;
}

/**
 * Stripe's `exchange_rate`: an amount in `from` (major units) times this rate is the amount in `to`.
 * Rounded to 6 decimals as Stripe shows it.
 */
export function referenceRate(from: string, to: string): number {
  const f = USD_PER_UNIT[from.toLowerCase()];
  const t = USD_PER_UNIT[to.toLowerCase()];
  if (f === undefined || t === undefined) throw new Error(`fake Stripe has no reference rate for ${from}->${to}`);
  return Math.round((f / t) * 1e6) / 1e6;
}

/** Converts minor units of `from` into minor units of `to` at `rate`, rounding half away from zero. */
export function convertMinor(amount: number, from: string, to: string, rate: number): number {
  const shift = 10 ** (currencyExponent(to) - currencyExponent(from));
  const exact = amount * rate * shift;
  return Math.sign(exact) * Math.round(Math.abs(exact));
}
