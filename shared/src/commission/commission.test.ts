import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../time';
import { addMonthsUtc, commissionFor, proRata, takeBack, withinDuration } from './commission';
import type { ProgramRules } from './terms';
import { seededRandom } from '../random';

const T0 = Date.UTC(2026, 0, 31, 12);
const terms: ProgramRules = { rate: { kind: 'percent', basisPoints: 2000 }, basis: 'net', duration: { kind: 'lifetime', count: null }, holdingDays: 30, minimums: {}, cookieDays: 30, binding: 'first_click' };

describe('commission of a charge', () => {
  it('takes the rate of the captured amount and holds it for the holding period', () => {
    expect(commissionFor(terms, { amountMinor: 4999, currency: 'usd', at: T0, index: 0, firstAt: T0 })).toEqual({ earns: true, baseMinor: 4999, amountMinor: 1000, availableAt: T0 + 30 * DAY_MS });
  });

  it('pays a flat amount in the charge currency, never more than the charge, and nothing in a currency it does not name', () => {
    const flat: ProgramRules = { ...terms, rate: { kind: 'flat', amounts: { USD: 500 } } };
    expect(commissionFor(flat, { amountMinor: 9900, currency: 'USD', at: T0, index: 0, firstAt: T0 })).toMatchObject({ earns: true, amountMinor: 500 });
    expect(commissionFor(flat, { amountMinor: 300, currency: 'USD', at: T0, index: 0, firstAt: T0 })).toMatchObject({ earns: true, amountMinor: 300 });
    expect(commissionFor(flat, { amountMinor: 9900, currency: 'EUR', at: T0, index: 0, firstAt: T0 })).toEqual({ earns: false, reason: 'the flat commission names no amount in EUR' });
  });

  it('refuses nothing-captured and rounds-to-zero charges', () => {
    expect(commissionFor(terms, { amountMinor: 0, currency: 'USD', at: T0, index: 0, firstAt: T0 }).earns).toBe(false);
    expect(commissionFor({ ...terms, rate: { kind: 'percent', basisPoints: 1 } }, { amountMinor: 10, currency: 'USD', at: T0, index: 0, firstAt: T0 })).toEqual({ earns: false, reason: 'the commission rounds to zero' });
  });

  it.each([
    [{ kind: 'one_time', count: null }, 0, 0, true],
    [{ kind: 'one_time', count: null }, 1, 1, false],
    [{ kind: 'charges', count: 3 }, 2, 40, true],
    [{ kind: 'charges', count: 3 }, 3, 40, false],
    [{ kind: 'months', count: 1 }, 5, 27, true], // Jan 31 + 1 month = Feb 28 (2026 is not a leap year), 12:00
    [{ kind: 'months', count: 1 }, 5, 28, false],
    [{ kind: 'lifetime', count: null }, 500, 5000, true],
  ] as const)('duration %j: charge #%d on day +%d -> %s', (duration, index, days, expected) => {
    expect(withinDuration(duration, { index, at: T0 + days * DAY_MS, firstAt: T0 })).toBe(expected);
  });

  it('adds calendar months clamped to the month end', () => {
    expect(new Date(addMonthsUtc(T0, 1)).toISOString()).toBe('2026-02-28T12:00:00.000Z');
    expect(new Date(addMonthsUtc(Date.UTC(2027, 11, 15), 3)).toISOString()).toBe('2028-03-15T00:00:00.000Z');
    expect(new Date(addMonthsUtc(Date.UTC(2028, 0, 31), 1)).toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });
});

describe('take-backs', () => {
  it('computes pro rata with half-away-from-zero rounding, exactly for big numbers', () => {
    expect(proRata(1000, 1, 3)).toBe(333);
    expect(proRata(1000, 2, 3)).toBe(667);
    expect(proRata(5, 1, 2)).toBe(3);
    expect(proRata(-5, 1, 2)).toBe(-3);
    expect(proRata(Number.MAX_SAFE_INTEGER, 1, 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => proRata(1, 1, 0)).toThrow(RangeError);
  });

  it('takes back a partial refund pro rata', () => {
    expect(takeBack({ commissionMinor: 2000, chargeMinor: 10000, countedMinor: 0, takenMinor: 0 }, 2500)).toEqual({ amountMinor: -500, countedMinor: 2500, takenMinor: 500 });
  });

  it('property: any refunds totalling the charge take back exactly the commission; never more, never positive', () => {
    const rand = seededRandom(42);
    for (let run = 0; run < 2000; run++) {
      const chargeMinor = 1 + Math.floor(rand() * 1_000_000);
      const commissionMinor = Math.max(1, Math.floor(rand() * chargeMinor));
      let state = { commissionMinor, chargeMinor, countedMinor: 0, takenMinor: 0 };
      let sum = 0;
      let refunded = 0;
      // Partial refunds, sometimes over-refunding (a refund plus a lost dispute), until the charge is all gone.
      while (refunded < chargeMinor * 1.2) {
        const part = 1 + Math.floor(rand() * chargeMinor * (rand() < 0.3 ? 1 : 0.2));
        refunded += part;
        const r = takeBack(state, part);
        expect(r.amountMinor).toBeLessThanOrEqual(0);
        sum += r.amountMinor;
        expect(-sum).toBeLessThanOrEqual(commissionMinor);
        expect(-sum).toBe(proRata(commissionMinor, Math.min(refunded, chargeMinor), chargeMinor));
        state = { ...state, countedMinor: r.countedMinor, takenMinor: r.takenMinor };
      }
      expect(sum).toBe(-commissionMinor);
    }
  });
});
