import { addDays, dayInZone } from '@revtrail/shared/attribution/days';

/** The last `days` days up to today in `timeZone`, as the reports take them. */
export function lastDays(days: number, timeZone: string, now = Date.now()): { from: string; to: string; tz: string } {
  const to = dayInZone(now, timeZone);
  return { from: addDays(to, -(days - 1)), to, tz: timeZone };
}
