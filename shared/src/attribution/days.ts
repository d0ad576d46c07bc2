import { DAY_MS, HOUR_MS } from '../time';

/**
 * Calendar days in the user's time zone, with Intl only: reports cut their ranges and their daily buckets
 * at the zone's midnights, which move with daylight saving time.
 */

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether Intl knows the IANA zone name ("Europe/Berlin", "UTC"). */
export function isTimeZone(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) return false;
  try {
    formatter(value);
    return true;
  } catch {
    return false;
  }
}

/** Wall-clock fields of an instant in a zone. */
function wall(at: number, timeZone: string): { y: number; m: number; d: number; h: number; mi: number; s: number } {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(at))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { y: parts.year!, m: parts.month!, d: parts.day!, h: parts.hour!, mi: parts.minute!, s: parts.second! };
}

/** The zone's offset from UTC at an instant, in ms (Berlin in winter: +3,600,000). */
export function zoneOffsetMs(at: number, timeZone: string): number {
  const w = wall(at, timeZone);
  const whole = Math.floor(at / 1000) * 1000;
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) - whole;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The calendar day (YYYY-MM-DD) of an instant in a zone. */
export function dayInZone(at: number, timeZone: string): string {
  const w = wall(at, timeZone);
  return `${pad(w.y, 4)}-${pad(w.m)}-${pad(w.d)}`;
}

export function isDay(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DAY_RE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
}

/** The day `n` days after (or before) a YYYY-MM-DD day. */
export function addDays(day: string, n: number): string {
  const m = DAY_RE.exec(day);
  if (!m) throw new RangeError(`not a day: ${day}`);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + n * DAY_MS).toISOString().slice(0, 10);
}

/** The first instant of a calendar day in a zone (its midnight, or the end of a DST gap that swallowed it). */
export function zoneDayStart(day: string, timeZone: string): number {
  const m = DAY_RE.exec(day);
  if (!m) throw new RangeError(`not a day: ${day}`);
  const base = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  let at = base - zoneOffsetMs(base, timeZone);
  at = base - zoneOffsetMs(at, timeZone);
  if (dayInZone(at, timeZone) === day && dayInZone(at - 1, timeZone) < day) return at;
  // Clocks that jump at midnight (the day then begins at 01:00) or odd historical offsets: the local day only
  // grows with time, so search for its first minute (offsets are whole minutes).
  let lo = Math.floor((base - 15 * HOUR_MS) / 60_000);
  let hi = Math.floor((base + 15 * HOUR_MS) / 60_000);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (dayInZone(mid * 60_000, timeZone) < day) lo = mid + 1;
    else hi = mid;
  }
  at = lo * 60_000;
  return at;
}

/** The instants [start, end) covering the days from..to (inclusive) in a zone. */
export function zoneRange(from: string, to: string, timeZone: string): { start: number; end: number } {
  return { start: zoneDayStart(from, timeZone), end: zoneDayStart(addDays(to, 1), timeZone) };
}

/** Every day from..to inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
  return out;
}
