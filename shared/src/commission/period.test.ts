import { describe, expect, it } from 'vitest';
import { dayIn, isPeriod, lastFinishedPeriod, periodOf, periodRange } from './period';

const iso = (at: number) => new Date(at).toISOString();

describe('payout periods', () => {
  it('is a UTC month by default', () => {
    const r = periodRange('2026-03');
    expect([iso(r.from), iso(r.to)]).toEqual(['2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z']);
    expect(iso(periodRange('2026-12').to)).toBe('2027-01-01T00:00:00.000Z');
    expect(iso(periodRange('2026-09').to)).toBe('2026-10-01T00:00:00.000Z');
  });

  it('follows the zone, DST included', () => {
    const ny = periodRange('2026-03', 'America/New_York');
    expect([iso(ny.from), iso(ny.to)]).toEqual(['2026-03-01T05:00:00.000Z', '2026-04-01T04:00:00.000Z']);
    expect(iso(periodRange('2026-01', 'Asia/Tokyo').from)).toBe('2025-12-31T15:00:00.000Z');
    expect(iso(periodRange('2026-06', 'Asia/Kolkata').from)).toBe('2026-05-31T18:30:00.000Z');
  });

  it('names the day and the period of an instant in a zone', () => {
    const at = Date.parse('2026-03-31T23:30:00Z');
    expect(dayIn(at)).toBe('2026-03-31');
    expect(dayIn(at, 'Europe/Berlin')).toBe('2026-04-01');
    expect(periodOf(at, 'Europe/Berlin')).toBe('2026-04');
  });

  it('names the last finished month in a zone, across a year end', () => {
    expect(lastFinishedPeriod(Date.parse('2026-03-15T12:00:00Z'))).toBe('2026-02');
    expect(lastFinishedPeriod(Date.parse('2026-01-01T00:00:00Z'))).toBe('2025-12');
    // Still March 31 in New York, already April in Berlin.
    const at = Date.parse('2026-03-31T23:30:00Z');
    expect(lastFinishedPeriod(at, 'America/New_York')).toBe('2026-02');
    expect(lastFinishedPeriod(at, 'Europe/Berlin')).toBe('2026-03');
  });

  it('checks periods', () => {
    expect([isPeriod('2026-03'), isPeriod('2026-13'), isPeriod('2026-3'), isPeriod(202603)]).toEqual([true, false, false, false]);
    expect(() => periodRange('March')).toThrow(RangeError);
  });
});
