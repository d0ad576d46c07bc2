import { describe, expect, it } from 'vitest';
import { moneyText } from './format';

describe('moneyText', () => {
  it.each([
    [61430, 'USD', '614.30'],
    [0, 'USD', '0.00'],
    [-500, 'EUR', '-5.00'],
    [123456789, 'USD', '1,234,567.89'],
    [-123456789, 'USD', '-1,234,567.89'],
    [1234567, 'JPY', '1,234,567'],
    [1234, 'BHD', '1.234'],
    [999, 'JPY', '999'],
  ])('%i %s -> %s', (minor, currency, text) => {
    expect(moneyText(minor, currency)).toBe(text);
  });
});
