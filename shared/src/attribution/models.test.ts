import { describe, expect, it } from 'vitest';
import { ATTRIBUTION_MODELS, attribute, inWindow, modelCredits, splitCredits, type ModelTouchpoint } from './models';

const DAY = 86_400_000;
const conversionAt = 100 * DAY;
// A journey: an ad, a newsletter, a direct visit, and a tie at the same instant broken by id.
const journey: ModelTouchpoint[] = [
  { id: 'd', at: 99 * DAY, direct: true },
  { id: 'b', at: 90 * DAY, direct: false },
  { id: 'a', at: 60 * DAY, direct: false },
  { id: 'c', at: 90 * DAY, direct: false },
  { id: 'old', at: 10 * DAY, direct: false },
  { id: 'later', at: 101 * DAY, direct: false },
];
const ids = (model: (typeof ATTRIBUTION_MODELS)[number]) => attribute(model, journey, conversionAt, 30 * DAY).map((c) => [c.touchpoint.id, c.weight]);

describe('attribution models', () => {
  it('keeps the window (inclusive at both ends) in time-then-id order', () => {
    expect(inWindow(journey, conversionAt, 30 * DAY).map((t) => t.id)).toEqual(['b', 'c', 'd']);
    expect(inWindow(journey, conversionAt, 40 * DAY).map((t) => t.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(inWindow(journey, 99 * DAY, 0).map((t) => t.id)).toEqual(['d']);
  });

  it('credits by model', () => {
    expect(ids('last_click')).toEqual([['d', 1]]);
    expect(ids('first_click')).toEqual([['b', 1]]);
    expect(ids('linear')).toEqual([['b', 1 / 3], ['c', 1 / 3], ['d', 1 / 3]]);
    expect(ids('last_non_direct')).toEqual([['c', 1]]);
  });

  it('gives Direct (no credits) without a touchpoint in the window, and the last direct one when all are direct', () => {
    for (const m of ATTRIBUTION_MODELS) expect(attribute(m, journey, 200 * DAY, 30 * DAY)).toEqual([]);
    const allDirect = [{ id: 'x', at: 1, direct: true }, { id: 'y', at: 2, direct: true }];
    expect(modelCredits('last_non_direct', allDirect).map((c) => c.touchpoint.id)).toEqual(['y']);
  });

  it('splits money exactly, remainder to the earliest', () => {
    const credits = modelCredits('linear', inWindow(journey, conversionAt, 30 * DAY));
    expect(splitCredits(10000, credits)).toEqual([3334, 3333, 3333]);
    expect(splitCredits(-10000, credits)).toEqual([-3334, -3333, -3333]);
    expect(splitCredits(999, [])).toEqual([999]);
  });

  it('never loses or invents a minor unit (property over many splits)', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const n = 1 + Math.floor(rnd() * 12);
      const credits = Array.from({ length: n }, () => ({ weight: 1 / n }));
      const amount = Math.floor(rnd() * 2_000_000) - 1_000_000;
      const parts = splitCredits(amount, credits);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(amount);
      expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
    }
  });
});
