/**
 * Payout periods are calendar months ("2026-03") of the user's time zone, cut at the zone's midnights
 * with the same day arithmetic the reports use.
 */
import { dayInZone, zoneDayStart } from '../attribution/days';

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

export const isPeriod = (v: unknown): v is string => typeof v === 'string' && PERIOD.test(v);

/** [from, to) of a "YYYY-MM" period in `timeZone`. */
export function periodRange(period: string, timeZone = 'UTC'): { from: number; to: number } {
  const m = PERIOD.exec(period);
  if (!m) throw new RangeError(`not a period (YYYY-MM): ${period}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const next = mo === 12 ? `${y + 1}-01` : `${m[1]}-${String(mo + 1).padStart(2, '0')}`;
  return { from: zoneDayStart(`${period}-01`, timeZone), to: zoneDayStart(`${next}-01`, timeZone) };
}

/** The calendar day of an instant in `timeZone`, YYYY-MM-DD. */
export const dayIn = (at: number, timeZone = 'UTC'): string => dayInZone(at, timeZone);

/** The period an instant falls in. */
export const periodOf = (at: number, timeZone = 'UTC'): string => dayInZone(at, timeZone).slice(0, 7);

/**
 * The last month that has ended at `at` in `timeZone`: the one a payout run pays by default (the month in
 * progress may still earn commissions).
 */
export function lastFinishedPeriod(at: number, timeZone = 'UTC'): string {
  const [y, m] = periodOf(at, timeZone).split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}
