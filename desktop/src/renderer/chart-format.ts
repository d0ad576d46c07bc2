import { currencyExponent } from '@revtrail/shared/money';
import type { Bucket } from '../core/attribution/reports';
import { dateFormat, numberFormat } from './format';

/**
 * Money on a chart's axis: whole units of the currency ("$140", "€1.2K"), never cents; a minus only for a
 * value below zero (net refunds), never "-$0".
 */
export function formatAxisMoney(amountMinor: number, currency: string, locale?: string): string {
  const major = Math.round(amountMinor / 10 ** currencyExponent(currency));
  const compact = Math.abs(major) >= 10_000;
  try {
    return numberFormat(locale, { style: 'currency', currency, maximumFractionDigits: compact ? 1 : 0, minimumFractionDigits: 0, notation: compact ? 'compact' : 'standard' }).format(
      major === 0 ? 0 : major,
    );
  } catch {
    return `${major} ${currency}`;
  }
}

/** Whether the days of a range fall in more than one calendar year: then every date says its year. */
export const spansYears = (from: string, to: string): boolean => from.slice(0, 4) !== to.slice(0, 4);

// A day string as the UTC midnight of that day, formatted in UTC: the day itself, whatever the viewer's zone. Dates
// and money are in the viewer's locale (`locale` only for tests), as the tables' are (format.ts).
const utcDate = (day: string) => new Date(`${day}T00:00:00Z`);

/** A bucket's tick on the x axis: "Nov 3" (with ", 2025" when the range spans years), a month "Nov" or "Nov 2025". */
export function bucketTick(from: string, bucket: Bucket, withYear: boolean, locale?: string): string {
  const options: Intl.DateTimeFormatOptions =
    bucket === 'month' ? { month: 'short', timeZone: 'UTC', ...(withYear ? { year: 'numeric' } : {}) } : { month: 'short', day: 'numeric', timeZone: 'UTC', ...(withYear ? { year: 'numeric' } : {}) };
  return dateFormat(locale, options).format(utcDate(from));
}

/** A bucket in a tooltip, always with its year: "Mon, Nov 3, 2025", "Nov 3 – 9, 2025", "November 2025" (or its days when cut by the range). */
export function bucketTitle(from: string, to: string, bucket: Bucket, locale?: string): string {
  if (bucket === 'day' || from === to) return dateFormat(locale, { weekday: 'short', month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' }).format(utcDate(from));
  const whole = bucket === 'month' && from.endsWith('-01') && to.slice(0, 7) === from.slice(0, 7) && utcDate(to).getUTCMonth() !== new Date(utcDate(to).getTime() + 86_400_000).getUTCMonth();
  if (whole) return dateFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(utcDate(from));
  return dateFormat(locale, { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' }).formatRange(utcDate(from), utcDate(to));
}

export const BUCKET_WORDS: Record<Bucket, string> = { day: 'per day', week: 'per week', month: 'per month' };

/**
 * A headline's change against the previous period: "+12%", "−8%", "new" (nothing before), "no change";
 * a rate changes in percentage points ("+4.2 pts"). `direction` colours it (up is good for every headline).
 */
export function formatChange(current: number | null, previous: number | null, kind: 'count' | 'rate'): { text: string; direction: 'up' | 'down' | 'flat' } {
  if (current === null || previous === null) return { text: current === null ? 'no data' : 'new', direction: 'flat' };
  if (kind === 'rate') {
    const pts = Math.round((current - previous) * 1000) / 10;
    if (pts === 0) return { text: 'no change', direction: 'flat' };
    const size = Math.abs(pts);
    const unit = size === 1 ? 'pt' : 'pts';
    return { text: `${pts > 0 ? '+' : '−'}${size} ${unit}`, direction: pts > 0 ? 'up' : 'down' };
  }
  if (current === previous) return { text: 'no change', direction: 'flat' };
  if (previous === 0) return { text: 'new', direction: current > 0 ? 'up' : 'down' };
  const pct = ((current - previous) / Math.abs(previous)) * 100;
  const shown = Math.abs(pct) >= 10 ? Math.round(Math.abs(pct)) : Math.round(Math.abs(pct) * 10) / 10;
  return { text: `${pct > 0 ? '+' : '−'}${shown}%`, direction: pct > 0 ? 'up' : 'down' };
}

/**
 * Axis ticks for values from `min` to `max` (minor units of `currency`): at most about five steps of 1, 2 or
 * 5 whole units times a power of ten, from zero (or below, only when a value is), so the axis reads "$0,
 * $100, $200" and a small refund below zero adds one step, not a mirror of the scale.
 */
export function moneyTicks(min: number, max: number, currency: string): number[] {
  return niceTicks(min, max, 10 ** currencyExponent(currency));
}

/** Ticks from zero (or below, only when a value is) in steps of 1, 2 or 5 times a power of ten, at least `unit`. */
export function niceTicks(min: number, max: number, unit = 1): number[] {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  const span = hi - lo || unit;
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(unit, [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!);
  const end = Math.max(hi, lo + step);
  const ticks: number[] = [];
  for (let t = Math.floor(lo / step) * step; ; t += step) {
    ticks.push(t);
    if (t >= end) return ticks;
  }
}
