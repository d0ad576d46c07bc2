/**
 * ECB euro reference rates: the parser of `eurofxref-hist.csv`, the "last published day on or before" lookup,
 * cross rates through EUR and exact conversion of minor units. Pure: the desktop feeds it text and rows.
 */
import { currencyExponent } from '../money';
import { err, ok, type Result } from '../result';

/** Rates are kept as integers: units of the currency per 1 EUR times this (the ECB publishes at most 6 decimals). */
export const RATE_SCALE = 1_000_000;

/** The whole history in one dense grid, days ascending, so a lookup is a binary search and an index. */
export interface RateTable {
  /** ECB publication days (YYYY-MM-DD), ascending, no duplicates. */
  readonly days: readonly string[];
  /** Quoted currencies, uppercase, never EUR: the columns of `micros`. */
  readonly currencies: readonly string[];
  readonly column: ReadonlyMap<string, number>;
  /** Units per 1 EUR x RATE_SCALE at `[dayIndex * currencies.length + column]`; NaN where the ECB published `N/A`. */
  readonly micros: Float64Array;
}

/** An exact ratio of integers (a rate as published, with no binary rounding). */
export interface Ratio {
  num: bigint;
  den: bigint;
}

export interface CrossRate {
  /** The ECB publication day used: the last one on or before the asked day. */
  day: string;
  /** Units of the target per 1 unit of the source, exactly. */
  ratio: Ratio;
  /** The same as a float, for display and storage next to a converted row. */
  rate: number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;
const CODE = /^[A-Z]{3}$/;

/** A real calendar day as YYYY-MM-DD (2026-02-30 and 2026-13-01 are not). */
function isDay(s: string): boolean {
  if (!DAY.test(s)) return false;
  const at = Date.parse(`${s}T00:00:00Z`);
  return !Number.isNaN(at) && new Date(at).toISOString().startsWith(s);
}

/** "1.1684" -> 1168400; more than six decimals round half up (rates are positive). Null when not a decimal. */
function parseMicros(cell: string): number | null {
  const m = DECIMAL.exec(cell);
  if (!m) return null;
  const frac = m[2] ?? '';
  const micros = Number(m[1]!) * RATE_SCALE + Number(frac.slice(0, 6).padEnd(6, '0')) + (frac.length > 6 && frac[6]! >= '5' ? 1 : 0);
  return Number.isSafeInteger(micros) ? micros : null;
}

const malformed = (line: number, problem: string) =>
  err('invalid_input', `The ECB rate file is malformed at line ${line}: ${problem}. No rates were changed.`);

/** The cells of one CSV line, without the empty column the ECB ends every line with. */
function cellsOf(line: string): string[] {
  const cells = line.split(',');
  if (cells.length > 1 && cells.at(-1)!.trim() === '') cells.pop();
  return cells.map((c) => c.trim());
}

/**
 * Parses the ECB's `eurofxref-hist.csv` (header `Date,USD,JPY,...,` then one line per publication day, newest
 * first, `N/A` where a currency was not quoted). Tolerates a BOM, CRLF and blank lines; anything else odd
 * refuses the whole file, so a caller never applies half of it.
 */
export function parseEcbHistory(text: string): Result<RateTable> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let headerAt = lines.findIndex((l) => l.trim() !== '');
  if (headerAt < 0) return err('invalid_input', 'The ECB rate file is empty. No rates were changed.');
  const header = cellsOf(lines[headerAt]!);
  headerAt += 1;
  if (header[0] !== 'Date') return malformed(headerAt, `the header must start with "Date", found "${header[0]}"`);
  const currencies = header.slice(1);
  if (currencies.length === 0) return malformed(headerAt, 'the header names no currency');
  const column = new Map<string, number>();
  for (const [i, c] of currencies.entries()) {
    if (!CODE.test(c) || c === 'EUR') return malformed(headerAt, `"${c}" is not a currency column`);
    if (column.has(c)) return malformed(headerAt, `${c} appears twice`);
    column.set(c, i);
  }

  const width = currencies.length;
  const rows: { day: string; values: Float64Array }[] = [];
  for (let n = headerAt; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.trim() === '') continue;
    const cells = cellsOf(line);
    if (cells.length !== width + 1) return malformed(n + 1, `expected ${width + 1} cells like the header, found ${cells.length}`);
    const day = cells[0]!;
    if (!isDay(day)) return malformed(n + 1, `"${day}" is not a YYYY-MM-DD day`);
    const values = new Float64Array(width);
    for (let c = 0; c < width; c++) {
      const cell = cells[c + 1]!;
      if (cell === 'N/A') {
        values[c] = Number.NaN;
        continue;
      }
      const micros = parseMicros(cell);
      if (micros === null || micros <= 0) return malformed(n + 1, `${currencies[c]} is "${cell}", not a positive rate or N/A`);
      values[c] = micros;
    }
    rows.push({ day, values });
  }
  if (rows.length === 0) return err('invalid_input', 'The ECB rate file has a header but no rates. No rates were changed.');

  rows.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  const micros = new Float64Array(rows.length * width);
  for (const [i, row] of rows.entries()) {
    if (i > 0 && rows[i - 1]!.day === row.day) return err('invalid_input', `The ECB rate file lists ${row.day} twice. No rates were changed.`);
    micros.set(row.values, i * width);
  }
  return ok({ days: rows.map((r) => r.day), currencies, column, micros });
}

/** Builds the grid from stored days, each with its quoted rates (currency -> micros); absent ones are not quoted. */
export function rateTableFromDays(rows: Iterable<readonly [day: string, rates: Readonly<Record<string, number>>]>): RateTable {
  const byDay = new Map<string, Readonly<Record<string, number>>>();
  const currencySet = new Set<string>();
  for (const [day, rates] of rows) {
    byDay.set(day, rates);
    for (const c of Object.keys(rates)) currencySet.add(c);
  }
  const days = [...byDay.keys()].sort();
  const currencies = [...currencySet].sort();
  const column = new Map(currencies.map((c, i) => [c, i]));
  const width = currencies.length;
  const micros = new Float64Array(days.length * width).fill(Number.NaN);
  for (const [d, day] of days.entries()) {
    for (const [c, v] of Object.entries(byDay.get(day)!)) micros[d * width + column.get(c)!] = v;
  }
  return { days, currencies, column, micros };
}

/**
 * Calls `each` for every quoted cell, by day then currency: the order a (day, currency) key appends in. A
 * callback rather than a generator, because a store writes a quarter of a million of them at once.
 */
export function forEachQuoted(table: RateTable, each: (day: string, currency: string, micros: number) => void): void {
  const width = table.currencies.length;
  const order = [...table.currencies.keys()].sort((a, b) => (table.currencies[a]! < table.currencies[b]! ? -1 : 1));
  for (let d = 0; d < table.days.length; d++) {
    const day = table.days[d]!;
    for (const c of order) {
      const v = table.micros[d * width + c]!;
      if (!Number.isNaN(v)) each(day, table.currencies[c]!, v);
    }
  }
}

/** `next` with every cell that `base` already holds with the same value left out: what a store still has to write. */
export function rateChanges(next: RateTable, base: RateTable): RateTable {
  const baseRow = new Map(base.days.map((d, i) => [d, i]));
  const baseColumn = next.currencies.map((c) => base.column.get(c));
  const width = next.currencies.length;
  const micros = Float64Array.from(next.micros);
  for (let d = 0; d < next.days.length; d++) {
    const b = baseRow.get(next.days[d]!);
    if (b === undefined) continue;
    for (let c = 0; c < width; c++) {
      const bc = baseColumn[c];
      if (bc !== undefined && base.micros[b * base.currencies.length + bc] === micros[d * width + c]) micros[d * width + c] = Number.NaN;
    }
  }
  return { ...next, micros };
}

/** Index of the last day on or before `day` in ascending `days`, or -1 when all are later. */
export function publishedDayIndex(days: readonly string[], day: string): number {
  let lo = 0;
  let hi = days.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (days[mid]! <= day) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** Units of `currency` per 1 EUR x RATE_SCALE on the publication day at `index`; null where not quoted. */
function quoteAt(table: RateTable, currency: string, index: number): number | null {
  if (currency === 'EUR') return RATE_SCALE;
  const c = table.column.get(currency);
  if (c === undefined) return null;
  const v = table.micros[index * table.currencies.length + c]!;
  return Number.isNaN(v) ? null : v;
}

/**
 * Units of `currency` per 1 EUR x RATE_SCALE on the last publication day on or before `day`. Null when there
 * is no such day, the ECB never quoted the currency, or it did not quote it that day (not yet listed,
 * retired, suspended): an old rate of a currency the ECB stopped quoting is not a rate for today.
 */
export function eurQuote(table: RateTable, currency: string, day: string): { day: string; micros: number } | null {
  const i = publishedDayIndex(table.days, day);
  const micros = i < 0 ? null : quoteAt(table, currency.toUpperCase(), i);
  return micros === null ? null : { day: table.days[i]!, micros };
}

/** Units of `to` per 1 unit of `from` on `day`, crossed through EUR: rate[to] / rate[from] on the same publication day. */
export function crossRate(table: RateTable, from: string, to: string, day: string): CrossRate | null {
  const i = publishedDayIndex(table.days, day);
  if (i < 0) return null;
  const a = quoteAt(table, from.toUpperCase(), i);
  const b = quoteAt(table, to.toUpperCase(), i);
  if (a === null || b === null) return null;
  return { day: table.days[i]!, ratio: { num: BigInt(b), den: BigInt(a) }, rate: b / a };
}

/** The exact decimal value of a float as written in JSON (Stripe's `exchange_rate`), e.g. 0.27225 -> 27225/100000. */
export function decimalRatio(x: number): Ratio {
  if (!Number.isFinite(x) || x <= 0) throw new RangeError(`not a positive rate: ${x}`);
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x))!;
  const frac = m[2] ?? '';
  const exp = Number(m[3] ?? 0) - frac.length;
  const digits = BigInt(m[1]! + frac);
  return exp >= 0 ? { num: digits * 10n ** BigInt(exp), den: 1n } : { num: digits, den: 10n ** BigInt(-exp) };
}

export const multiplyRatios = (a: Ratio, b: Ratio): Ratio => ({ num: a.num * b.num, den: a.den * b.den });

/** n / d rounded half away from zero, for d > 0. */
function divRound(n: bigint, d: bigint): bigint {
  const abs = n < 0n ? -n : n;
  const q = (2n * abs + d) / (2n * d);
  return n < 0n ? -q : q;
}

/**
 * Converts minor units of `from` into minor units of `to` at `ratio` (units of `to` per 1 unit of `from`),
 * minding each currency's exponent (JPY 0, USD 2, BHD 3), rounding half away from zero, in exact integer math.
 */
export function convertMinor(amountMinor: number, from: string, to: string, ratio: Ratio): number {
  if (!Number.isSafeInteger(amountMinor)) throw new RangeError(`not an integer amount: ${amountMinor}`);
  if (ratio.num <= 0n || ratio.den <= 0n) throw new RangeError('a rate must be positive');
  const shift = currencyExponent(to) - currencyExponent(from);
  const num = BigInt(amountMinor) * ratio.num * (shift > 0 ? 10n ** BigInt(shift) : 1n);
  const den = ratio.den * (shift < 0 ? 10n ** BigInt(-shift) : 1n);
  const out = Number(divRound(num, den));
  if (!Number.isSafeInteger(out)) throw new RangeError(`converted amount out of range: ${amountMinor} ${from} to ${to}`);
  return out;
}
