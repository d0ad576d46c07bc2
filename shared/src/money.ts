/**
 * Money as integer minor units plus an ISO 4217 currency. Exponents follow Stripe's list (REFERENCE.md):
 * zero-decimal and three-decimal currencies are named, everything else has two digits. One code is not ISO:
 * XTR, Telegram Stars (whole Stars, no decimals), which no rate converts: it is shown in its own unit.
 */

export interface Money {
  amountMinor: number;
  /** ISO 4217, uppercase. */
  currency: string;
}

const ZERO_DECIMAL = new Set(['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF']);
const THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);
/**
 * Units that are not money any rate converts: Telegram Stars (XTR), bought with real money at prices Telegram
 * sets per platform and paid out at another rate, so no exchange rate (and never 1:1) turns them into a currency.
 */
const OWN_UNIT = new Set(['XTR']);

/** Whether amounts in this code must stay in their own unit: never converted, summed apart from money. */
export const isOwnUnitCurrency = (currency: string): boolean => OWN_UNIT.has(currency.toUpperCase());

/** Three ASCII letters, any case. */
export const isCurrencyCode = (s: unknown): s is string => typeof s === 'string' && /^[A-Za-z]{3}$/.test(s);

/** Digits of the currency's minor unit: JPY 0, BHD 3, most 2. */
export function currencyExponent(currency: string): number {
  const c = currency.toUpperCase();
  if (ZERO_DECIMAL.has(c) || OWN_UNIT.has(c)) return 0;
  if (THREE_DECIMAL.has(c)) return 3;
  return 2;
}

/**
 * Minor units as a plain decimal string with `.` and exactly the currency's digits (12345 USD -> "123.45",
 * 500 JPY -> "500", 1234 BHD -> "1.234"): the form payout files and CSV exports need. Integer math only.
 */
export function formatMinor(amountMinor: number, currency: string): string {
  if (!Number.isSafeInteger(amountMinor)) throw new RangeError(`not an integer amount: ${amountMinor}`);
  const digits = currencyExponent(currency);
  const sign = amountMinor < 0 ? '-' : '';
  const abs = String(Math.abs(amountMinor));
  if (digits === 0) return sign + abs;
  const padded = abs.padStart(digits + 1, '0');
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

/** Telegram Stars for a reader: "1 Star", "50 Stars", "-5 Stars" (whole Stars, grouped: "1,200 Stars"). */
export function formatStars(stars: number): string {
  if (!Number.isSafeInteger(stars)) throw new RangeError(`not a whole number of Stars: ${stars}`);
  const grouped = Math.abs(stars).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${stars < 0 ? '-' : ''}${grouped} ${Math.abs(stars) === 1 ? 'Star' : 'Stars'}`;
}

/** A decimal string in major units ("12.5", "-3", "1.234") to minor units; null if it has more digits than the currency allows. */
export function parseMajor(text: string, currency: string): number | null {
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return null;
  const digits = currencyExponent(currency);
  const frac = m[3] ?? '';
  if (frac.length > digits) return null;
  const value = Number(m[2]! + frac.padEnd(digits, '0'));
  if (!Number.isSafeInteger(value)) return null;
  return m[1] ? -value : value;
}

/** Rounds half away from zero: the rule for converted amounts and percentages of money. */
export const roundHalfAwayFromZero = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));

/** `amountMinor * basisPoints / 10000`, rounded half away from zero, in integer math. */
export function applyBasisPoints(amountMinor: number, basisPoints: number): number {
  const product = BigInt(amountMinor) * BigInt(basisPoints);
  const negative = product < 0n;
  const abs = negative ? -product : product;
  const q = (abs + 5000n) / 10000n;
  return Number(negative ? -q : q);
}

/**
 * Splits `totalMinor` over non-negative weights so the parts are integers summing exactly to the total
 * (largest remainder; ties go to the earlier index, so the split is deterministic). All-zero weights give
 * an even split.
 */
export function allocate(totalMinor: number, weights: readonly number[]): number[] {
  if (weights.length === 0) return [];
  if (!Number.isSafeInteger(totalMinor)) throw new RangeError(`not an integer amount: ${totalMinor}`);
  const w = weights.some((x) => x > 0) ? weights.map((x) => Math.max(0, x)) : weights.map(() => 1);
  const sum = w.reduce((a, b) => a + b, 0);
  const sign = totalMinor < 0 ? -1 : 1;
  const abs = Math.abs(totalMinor);
  const exact = w.map((x) => (abs * x) / sum);
  const parts = exact.map(Math.floor);
  let left = abs - parts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    parts[i]! += 1;
    left -= 1;
  }
  return parts.map((p) => (p === 0 ? 0 : sign * p));
}
