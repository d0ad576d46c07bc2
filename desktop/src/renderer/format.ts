import { currencyExponent } from '@revtrail/shared/money';

// Intl's formatters cost far more to make than to use, and a dashboard formats thousands of figures and ticks
// (charts format again on every render): one formatter per locale and options, kept. A formatter that cannot be
// made (an unknown currency) throws as before and is not kept.
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();
export function numberFormat(locale: string | undefined, options?: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = JSON.stringify([locale ?? null, options ?? null]);
  let f = numberFormats.get(key);
  if (!f) numberFormats.set(key, (f = new Intl.NumberFormat(locale, options)));
  return f;
}
export function dateFormat(locale: string | undefined, options?: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = JSON.stringify([locale ?? null, options ?? null]);
  let f = dateFormats.get(key);
  if (!f) dateFormats.set(key, (f = new Intl.DateTimeFormat(locale, options)));
  return f;
}

/** Money at the edge only: integer minor units in, the user's locale out. */
export function formatMoney(amountMinor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  const major = amountMinor / 10 ** exponent;
  try {
    return numberFormat(undefined, { style: 'currency', currency: currency.toUpperCase(), minimumFractionDigits: exponent, maximumFractionDigits: exponent }).format(major);
  } catch {
    return `${major.toFixed(exponent)} ${currency.toUpperCase()}`;
  }
}

export const formatCount = (n: number): string => numberFormat(undefined).format(n);

/**
 * A count with its noun: "1 partner", "2 partners", "1,204 new clicks". Every count the screens put in
 * a sentence goes through here (desktop/test/renderer-text.test.ts looks for bare counts).
 */
export const plural = (n: number, one: string, many = `${one}s`): string => `${formatCount(n)} ${n === 1 ? one : many}`;

export const formatPercent = (ratio: number): string => numberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 }).format(ratio);

export function formatTime(at: number | null | undefined): string {
  if (at === null || at === undefined) return 'never';
  return dateFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(at));
}

/** "3 minutes ago"; the exact time is in the element's title. */
export function formatAgo(at: number | null | undefined, now = Date.now()): string {
  if (at === null || at === undefined) return 'never';
  const s = Math.round((now - at) / 1000);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (Math.abs(s) < 60) return rtf.format(-s, 'second');
  if (Math.abs(s) < 3600) return rtf.format(-Math.round(s / 60), 'minute');
  if (Math.abs(s) < 86_400) return rtf.format(-Math.round(s / 3600), 'hour');
  return rtf.format(-Math.round(s / 86_400), 'day');
}
