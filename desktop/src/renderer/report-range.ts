import { addDays, dayInZone, daysBetween } from '@revtrail/shared/attribution/days';
import { plural } from './format';

/** The last `days` days up to today in `timeZone`, as the reports take them. */
export function lastDays(days: number, timeZone: string, now = Date.now()): { from: string; to: string; tz: string } {
  const to = dayInZone(now, timeZone);
  return { from: addDays(to, -(days - 1)), to, tz: timeZone };
}

/**
 * A report's range as its heading says it, read from the range the report answered with (never from what
 * was asked): "last 90 days" when it ends today in its zone, else its first and last day.
 */
export function rangeLabel(range: { from: string; to: string; timeZone: string }, now = Date.now()): string {
  const days = daysBetween(range.from, range.to).length;
  if (range.to === dayInZone(now, range.timeZone)) return days === 1 ? 'today' : `last ${plural(days, 'day')}`;
  return `${range.from} to ${range.to}`;
}
