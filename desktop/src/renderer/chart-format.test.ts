import { describe, expect, it } from 'vitest';
import { bucketTick, bucketTitle, formatAxisMoney, formatChange, moneyTicks, niceTicks, spansYears } from './chart-format';
import { readReportQuery, reportParams } from './report-range';

describe('chart axes and tooltips', () => {
  it('money on an axis is in whole units, a minus only below zero (the axis read "-$140.00")', () => {
    expect(formatAxisMoney(14_000, 'USD', 'en-US')).toBe('$140');
    expect(formatAxisMoney(-14_000, 'USD', 'en-US')).toBe('-$140');
    expect(formatAxisMoney(-20, 'USD', 'en-US')).toBe('$0');
    expect(formatAxisMoney(1_234_567, 'EUR', 'en-US')).toBe('€12.3K');
    expect(formatAxisMoney(5000, 'JPY', 'en-US')).toBe('¥5,000');
  });

  it('dates carry the year when the range spans years, and always in a tooltip', () => {
    expect(spansYears('2025-12-05', '2026-12-04')).toBe(true);
    expect(spansYears('2026-09-06', '2026-12-04')).toBe(false);
    expect(bucketTick('2026-11-03', 'day', false, 'en-US')).toBe('Nov 3');
    expect(bucketTick('2025-12-29', 'week', true, 'en-US')).toBe('Dec 29, 2025');
    expect(bucketTick('2026-01-01', 'month', true, 'en-US')).toBe('Jan 2026');
    expect(bucketTitle('2026-11-03', '2026-11-03', 'day', 'en-US')).toBe('Tue, Nov 3, 2026');
    expect(bucketTitle('2026-11-02', '2026-11-08', 'week', 'en-US')).toBe('Nov 2\u2009–\u20098, 2026');
    expect(bucketTitle('2025-12-29', '2026-01-04', 'week', 'en-US')).toBe('Dec 29, 2025\u2009–\u2009Jan 4, 2026');
    expect(bucketTitle('2026-11-01', '2026-11-30', 'month', 'en-US')).toBe('November 2026');
    // A month cut by the range says its days (Intl puts thin spaces around the dash).
    expect(bucketTitle('2026-12-01', '2026-12-04', 'month', 'en-US')).toBe('Dec 1\u2009–\u20094, 2026');
  });

  it('a headline change against the previous period', () => {
    expect(formatChange(112, 100, 'count')).toEqual({ text: '+12%', direction: 'up' });
    expect(formatChange(95, 100, 'count')).toEqual({ text: '−5%', direction: 'down' });
    expect(formatChange(5, 0, 'count')).toEqual({ text: 'new', direction: 'up' });
    expect(formatChange(0, 0, 'count')).toEqual({ text: 'no change', direction: 'flat' });
    expect(formatChange(0.25, 0.2, 'rate')).toEqual({ text: '+5 pts', direction: 'up' });
    expect(formatChange(null, 0.2, 'rate')).toEqual({ text: 'no data', direction: 'flat' });
  });
});

describe('report addresses', () => {
  it('keep the range, model, currency and filter, and drop what is not valid', () => {
    const q = { choice: { days: 90, model: 'linear' as const, currency: 'EUR' }, filter: { by: 'campaign' as const, value: null } };
    expect(readReportQuery(reportParams(q))).toEqual(q);
    expect(readReportQuery(new URLSearchParams('days=90&model=best&currency=EUR&by=channel'))).toEqual({ choice: null, filter: null });
    expect(readReportQuery(new URLSearchParams('by=channel&value=Paid%20social'))).toEqual({ choice: null, filter: { by: 'channel', value: 'Paid social' } });
  });
});

describe('money axis ticks', () => {
  it('steps of 1, 2 or 5 whole units from zero; one step below zero for a small refund', () => {
    expect(moneyTicks(0, 45_000, 'USD')).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000]);
    expect(moneyTicks(-950, 45_000, 'USD')).toEqual([-10_000, 0, 10_000, 20_000, 30_000, 40_000, 50_000]);
    expect(moneyTicks(0, 475_000, 'USD')).toEqual([0, 100_000, 200_000, 300_000, 400_000, 500_000]);
    expect(moneyTicks(-3_000, 0, 'USD')).toEqual([-3_000, -2_000, -1_000, 0]);
    // Never below one whole unit, never an empty axis.
    expect(moneyTicks(0, 120, 'USD')).toEqual([0, 100, 200]);
    expect(moneyTicks(0, 0, 'JPY')).toEqual([0, 1]);
    // Counts the same way: 0, 50, 100, 150 rather than 0, 35, 70, 105, 140.
    expect(niceTicks(0, 140)).toEqual([0, 50, 100, 150]);
    expect(niceTicks(0, 3)).toEqual([0, 1, 2, 3]);
  });
});
