import { describe, expect, it } from 'vitest';
import { describeDuration, describeRate, effectiveTerms, minimumFor, parseOverride, parseProgramRules, type ProgramRules } from './terms';

describe('program rules', () => {
  it('fills the defaults: net, lifetime, held 30 days, 30-day cookie, first click wins, no minimum', () => {
    expect(parseProgramRules({ rateBasisPoints: 2000 })).toEqual({
      ok: true,
      value: {
        rate: { kind: 'percent', basisPoints: 2000 },
        basis: 'net',
        duration: { kind: 'lifetime', count: null },
        holdingDays: 30,
        minimums: {},
        cookieDays: 30,
        binding: 'first_click',
      },
    });
  });

  it('reads flat amounts and minimums per currency, uppercased', () => {
    const r = parseProgramRules({ flat: { usd: 500, EUR: 450 }, minimums: { usd: 5000 }, duration: 'charges', durationCount: 3, binding: 'last_click', basis: 'gross', holdingDays: 0, cookieDays: 90 });
    expect(r.ok && r.value).toMatchObject({ rate: { kind: 'flat', amounts: { USD: 500, EUR: 450 } }, minimums: { USD: 5000 }, duration: { kind: 'charges', count: 3 }, binding: 'last_click', basis: 'gross', holdingDays: 0, cookieDays: 90 });
  });

  it.each([
    [{}, 'rateBasisPoints or flat: required (e.g. rateBasisPoints 2000 for 20%)'],
    [{ rateBasisPoints: 0 }, 'rateBasisPoints: a whole number from 1 to 10000'],
    [{ rateBasisPoints: 12.5 }, 'rateBasisPoints: a whole number from 1 to 10000'],
    [{ rateBasisPoints: 100, flat: { USD: 1 } }, 'rateBasisPoints and flat: give one of them, not both'],
    [{ flat: {} }, 'flat: name at least one currency'],
    [{ flat: { US: 5 } }, 'flat.US: not a currency code'],
    [{ rateBasisPoints: 100, duration: 'months' }, 'durationCount: required with duration "months" (how many months)'],
    [{ rateBasisPoints: 100, duration: 'lifetime', durationCount: 2 }, 'durationCount: only with duration "months" or "charges"'],
    [{ rateBasisPoints: 100, cookieDays: 400 }, 'cookieDays: a whole number from 1 to 396'],
    [{ rateBasisPoints: 100, binding: 'any_click' }, 'binding: one of first_click, last_click'],
    [{ rateBasisPoints: 100, minimums: { EUR: -1 } }, 'minimums.EUR: whole minor units, at least 0'],
  ])('refuses %j', (input, problem) => {
    const r = parseProgramRules(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems).toContain(problem);
  });

  it('applies a partner override of rate, duration and minimum, keeping the rest of the program', () => {
    const program: ProgramRules = { rate: { kind: 'percent', basisPoints: 2000 }, basis: 'net', duration: { kind: 'lifetime', count: null }, holdingDays: 30, minimums: { USD: 5000, EUR: 5000 }, cookieDays: 60, binding: 'first_click' };
    const o = parseOverride({ rateBasisPoints: 3000, duration: 'months', durationCount: 12, minimums: { USD: 0 } });
    expect(o.ok).toBe(true);
    const terms = effectiveTerms(program, o.ok ? o.value : null);
    expect(terms).toEqual({ ...program, rate: { kind: 'percent', basisPoints: 3000 }, duration: { kind: 'months', count: 12 }, minimums: { USD: 0, EUR: 5000 } });
    expect(minimumFor(terms, 'usd')).toBe(0);
    expect(minimumFor(terms, 'EUR')).toBe(5000);
    expect(minimumFor(terms, 'JPY')).toBe(0);
    expect(effectiveTerms(program, null)).toBe(program);
    expect(parseOverride({ rate: 5 }).ok).toBe(false);
  });

  it('describes rates and durations for people', () => {
    expect(describeRate({ kind: 'percent', basisPoints: 1250 })).toBe('12.5%');
    expect(describeRate({ kind: 'flat', amounts: { USD: 500, JPY: 700 } })).toBe('5.00 USD / 700 JPY flat');
    expect(describeDuration({ kind: 'months', count: 1 })).toBe('1 month');
    expect(describeDuration({ kind: 'charges', count: 3 })).toBe('3 charges');
  });
});
