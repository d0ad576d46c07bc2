import { describe, expect, it } from 'vitest';
import { allocate, applyBasisPoints, currencyExponent, formatMinor, formatStars, isOwnUnitCurrency, parseMajor } from './money';

describe('money', () => {
  it('knows the exponents of zero-, two- and three-decimal currencies', () => {
    expect([currencyExponent('jpy'), currencyExponent('USD'), currencyExponent('BHD'), currencyExponent('kwd')]).toEqual([0, 2, 3, 3]);
  });

  it.each([
    [12345, 'USD', '123.45'],
    [5, 'EUR', '0.05'],
    [-5, 'EUR', '-0.05'],
    [500, 'JPY', '500'],
    [1234, 'BHD', '1.234'],
    [7, 'KWD', '0.007'],
    [0, 'USD', '0.00'],
    [50, 'XTR', '50'],
  ])('formats %d %s as %s and parses it back', (minor, currency, text) => {
    expect(formatMinor(minor, currency)).toBe(text);
    expect(parseMajor(text, currency)).toBe(minor);
  });

  it('refuses more digits than the currency has, and non-numbers', () => {
    expect(parseMajor('1.5', 'JPY')).toBeNull();
    expect(parseMajor('1.234', 'USD')).toBeNull();
    expect(parseMajor('1e3', 'USD')).toBeNull();
    expect(() => formatMinor(1.5, 'USD')).toThrow(RangeError);
  });

  it('applies basis points with half-away-from-zero rounding', () => {
    expect(applyBasisPoints(1000, 2500)).toBe(250);
    expect(applyBasisPoints(999, 2500)).toBe(250); // 249.75
    expect(applyBasisPoints(-999, 2500)).toBe(-250);
    expect(applyBasisPoints(2, 2500)).toBe(1); // 0.5 -> 1
    expect(applyBasisPoints(Number.MAX_SAFE_INTEGER, 10000)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('allocates exactly, deterministically, by largest remainder', () => {
    expect(allocate(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(allocate(-100, [1, 1, 1])).toEqual([-34, -33, -33]);
    expect(allocate(10, [0, 0])).toEqual([5, 5]);
    expect(allocate(7, [3, 0, 1])).toEqual([5, 0, 2]);
    for (let n = 0; n < 200; n++) {
      const total = (n * 7919) % 100_003;
      const weights = Array.from({ length: 1 + (n % 7) }, (_, i) => ((n + i) * 31) % 11);
      const parts = allocate(total, weights);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
      expect(parts.every(Number.isInteger)).toBe(true);
    }
  });

  it('keeps Telegram Stars (XTR) whole and in their own unit', () => {
    expect(currencyExponent('xtr')).toBe(0);
    expect(parseMajor('50.5', 'XTR')).toBeNull();
    expect([isOwnUnitCurrency('XTR'), isOwnUnitCurrency('xtr'), isOwnUnitCurrency('USD')]).toEqual([true, true, false]);
    expect([formatStars(1), formatStars(50), formatStars(-5), formatStars(1200)]).toEqual(['1 Star', '50 Stars', '-5 Stars', '1,200 Stars']);
    expect(() => formatStars(1.5)).toThrow(RangeError);
  });
});
