import { describe, expect, it } from 'vitest';
import type { SeriesPoint } from '../core/attribution/reports';
import { partialIndex, splitAtPartial } from './partial-bucket';

const point = (from: string, clicks: number, visitors: number, to = from): SeriesPoint => ({ from, to, clicks, visitors, netByChannel: {}, netMinor: 0 });
const days = [point('2026-12-02', 40, 30), point('2026-12-03', 42, 31), point('2026-12-04', 12, 9)];
const series = (to: string, timeZone: string, points = days) => ({ range: { from: '2026-11-23', to, timeZone, model: 'last_click' as const, currency: 'USD', filter: null }, points });

describe('partialIndex: today, still filling, is the last bucket of a range that ends today in its zone', () => {
  // 03:00 UTC on Dec 5: still Dec 4 in New York (UTC-5), already Dec 5 in Tokyo and London.
  const now = Date.parse('2026-12-05T03:00:00Z');

  it('marks the last day when the range ends today in the workspace zone', () => {
    expect(partialIndex(series('2026-12-04', 'America/New_York'), now)).toBe(2);
  });

  it('marks nothing when the range ended before today in its zone (every day whole)', () => {
    // Dec 4 is yesterday in Tokyo: a whole day, though it is today in New York.
    expect(partialIndex(series('2026-12-04', 'Asia/Tokyo'), now)).toBeNull();
    expect(partialIndex(series('2026-12-04', 'UTC'), now)).toBeNull();
  });

  it('marks a week bucket that ends today, and nothing for an empty series', () => {
    const weeks = [point('2026-11-23', 300, 200, '2026-11-29'), point('2026-11-30', 100, 80, '2026-12-04')];
    expect(partialIndex(series('2026-12-04', 'America/New_York', weeks), now)).toBe(1);
    expect(partialIndex(series('2026-12-04', 'America/New_York', []), now)).toBeNull();
  });
});

describe('splitAtPartial: the solid line over the whole days, the dashed one from yesterday to today', () => {
  it('splits at the partial point and keeps every figure as it was', () => {
    const rows = splitAtPartial(days, ['clicks', 'visitors'], 2);
    expect(rows.map((r) => [r.clicksWhole, r.clicksSoFar, r.visitorsWhole, r.visitorsSoFar])).toEqual([
      [40, null, 30, null],
      [42, 42, 31, 31],
      [null, 12, null, 9],
    ]);
    expect(rows.map(({ from, to, clicks, visitors, netByChannel, netMinor }) => ({ from, to, clicks, visitors, netByChannel, netMinor }))).toEqual(days);
  });

  it('draws everything solid when no day is partial', () => {
    const rows = splitAtPartial(days, ['clicks'], null);
    expect(rows.map((r) => [r.clicksWhole, r.clicksSoFar])).toEqual([
      [40, null],
      [42, null],
      [12, null],
    ]);
  });

  it('a range of today alone has only the partial point', () => {
    const rows = splitAtPartial([point('2026-12-04', 5, 4)], ['clicks'], 0);
    expect(rows.map((r) => [r.clicksWhole, r.clicksSoFar])).toEqual([[null, 5]]);
  });
});
