import { describe, expect, it } from 'vitest';
import { addDays, dayInZone, daysBetween, isDay, isTimeZone, zoneDayStart, zoneOffsetMs, zoneRange } from './days';

const H = 3_600_000;

describe('days in a time zone', () => {
  it('knows zones and days', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isDay('2025-02-28')).toBe(true);
    expect(isDay('2025-02-29')).toBe(false);
    expect(isDay('2025-2-1')).toBe(false);
  });

  it('finds midnight, across daylight saving changes', () => {
    expect(zoneDayStart('2025-01-15', 'UTC')).toBe(Date.UTC(2025, 0, 15));
    expect(zoneDayStart('2025-01-15', 'Europe/Berlin')).toBe(Date.UTC(2025, 0, 14, 23));
    expect(zoneDayStart('2025-07-15', 'Europe/Berlin')).toBe(Date.UTC(2025, 6, 14, 22));
    expect(zoneDayStart('2025-07-15', 'America/New_York')).toBe(Date.UTC(2025, 6, 15, 4));
    expect(zoneDayStart('2025-07-15', 'Asia/Kolkata')).toBe(Date.UTC(2025, 6, 14, 18, 30));
    expect(zoneDayStart('2025-07-15', 'Asia/Kathmandu')).toBe(Date.UTC(2025, 6, 14, 18, 15));
    // The day clocks go forward in Berlin has 23 hours, the day they go back 25.
    const { start, end } = zoneRange('2025-03-30', '2025-03-30', 'Europe/Berlin');
    expect(end - start).toBe(23 * H);
    const back = zoneRange('2025-10-26', '2025-10-26', 'Europe/Berlin');
    expect(back.end - back.start).toBe(25 * H);
  });

  it('finds the start of a day whose midnight does not exist', () => {
    // Santiago moved its clocks from 00:00 to 01:00 on 2024-09-08.
    const start = zoneDayStart('2024-09-08', 'America/Santiago');
    expect(dayInZone(start, 'America/Santiago')).toBe('2024-09-08');
    expect(dayInZone(start - 1, 'America/Santiago')).toBe('2024-09-07');
    expect(start).toBe(Date.UTC(2024, 8, 8, 4));
  });

  it('names the day of an instant and the offset', () => {
    const at = Date.UTC(2025, 0, 14, 23, 30);
    expect(dayInZone(at, 'UTC')).toBe('2025-01-14');
    expect(dayInZone(at, 'Europe/Berlin')).toBe('2025-01-15');
    expect(dayInZone(at, 'America/Los_Angeles')).toBe('2025-01-14');
    expect(zoneOffsetMs(at, 'America/Los_Angeles')).toBe(-8 * H);
  });

  it('counts days', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2025-01-01', -1)).toBe('2024-12-31');
    expect(daysBetween('2025-01-30', '2025-02-02')).toEqual(['2025-01-30', '2025-01-31', '2025-02-01', '2025-02-02']);
    expect(daysBetween('2025-01-02', '2025-01-01')).toEqual([]);
  });
});
