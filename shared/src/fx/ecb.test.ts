import { describe, expect, it } from 'vitest';
import {
  convertMinor,
  crossRate,
  decimalRatio,
  eurQuote,
  parseEcbHistory,
  publishedDayIndex,
  rateChanges,
  forEachQuoted,
  rateTableFromDays,
  RATE_SCALE,
  type RateTable,
} from './ecb';

// A slice of the real file (2026-04-10 is a Friday, 2026-04-13 the Monday after) plus CYP, retired when
// Cyprus adopted the euro, and a made-up BHD column to exercise a three-decimal currency.
const CSV = [
  'Date,USD,JPY,GBP,CYP,BHD,',
  '2026-04-13,1.1684,186.75,0.87058,N/A,0.44,',
  '2026-04-10,1.1711,186.43,0.87105,N/A,0.441,',
  '2007-12-31,1.4721,164.93,0.73335,0.585274,N/A,',
  '2007-12-28,1.4688,166.27,0.7332,0.5853,N/A,',
  '',
].join('\n');

function quotedCells(t: RateTable): [string, string, number][] {
  const cells: [string, string, number][] = [];
  forEachQuoted(t, (day, currency, micros) => cells.push([day, currency, micros]));
  return cells;
}

function table(text = CSV): RateTable {
  const r = parseEcbHistory(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('parseEcbHistory', () => {
  it('reads the grid with days ascending, rates scaled to integers and N/A as not quoted', () => {
    const t = table();
    expect(t.days).toEqual(['2007-12-28', '2007-12-31', '2026-04-10', '2026-04-13']);
    expect(t.currencies).toEqual(['USD', 'JPY', 'GBP', 'CYP', 'BHD']);
    expect(t.micros.length).toBe(20);
    expect(eurQuote(t, 'USD', '2026-04-13')).toEqual({ day: '2026-04-13', micros: 1_168_400 });
    expect(eurQuote(t, 'CYP', '2007-12-31')).toEqual({ day: '2007-12-31', micros: 585_274 });
    expect(eurQuote(t, 'CYP', '2026-04-13')).toBeNull();
    expect(quotedCells(t)).toHaveLength(16);
    expect(quotedCells(t).slice(0, 5)).toEqual([
      ['2007-12-28', 'CYP', 585_300],
      ['2007-12-28', 'GBP', 733_200],
      ['2007-12-28', 'JPY', 166_270_000],
      ['2007-12-28', 'USD', 1_468_800],
      ['2007-12-31', 'CYP', 585_274],
    ]);
  });

  it('accepts a BOM, CRLF line ends, blank lines and a file without the trailing empty column', () => {
    const messy = `\uFEFF\r\n${CSV.split('\n').join('\r\n\r\n')}`;
    expect(table(messy)).toEqual(table());
    const bare = CSV.split('\n').map((l) => l.replace(/,$/, '')).join('\n');
    expect(table(bare)).toEqual(table());
  });

  it('rounds a seventh decimal half up instead of refusing the file', () => {
    const t = table('Date,USD,\n2026-04-13,1.23456749,\n2026-04-10,1.2345675,\n');
    expect(eurQuote(t, 'USD', '2026-04-10')!.micros).toBe(1_234_568);
    expect(eurQuote(t, 'USD', '2026-04-13')!.micros).toBe(1_234_567);
  });

  it.each([
    ['an empty file', '', /empty/],
    ['a header only', 'Date,USD,\n\n', /no rates/],
    ['a header without Date', 'Day,USD,\n2026-04-13,1.1,\n', /line 1: the header must start with "Date"/],
    ['no currency column', 'Date,\n2026-04-13,\n', /names no currency/],
    ['a EUR column', 'Date,EUR,\n2026-04-13,1,\n', /"EUR" is not a currency column/],
    ['a bad code', 'Date,US Dollar,\n2026-04-13,1.1,\n', /"US Dollar" is not a currency column/],
    ['a currency twice', 'Date,USD,USD,\n2026-04-13,1.1,1.1,\n', /USD appears twice/],
    ['a short line', 'Date,USD,JPY,\n2026-04-13,1.1,\n', /line 2: expected 3 cells .* found 2/],
    ['a decimal comma', 'Date,USD,\n2026-04-13,1,1684,\n', /line 2: expected 2 cells/],
    ['an impossible day', 'Date,USD,\n2026-02-30,1.1,\n', /line 2: "2026-02-30" is not a YYYY-MM-DD day/],
    ['a thirteenth month', 'Date,USD,\n2026-04-13,1.1,\n2026-13-01,1.1,\n', /line 3: "2026-13-01" is not a YYYY-MM-DD day/],
    ['a day in another format', 'Date,USD,\n13/04/2026,1.1,\n', /"13\/04\/2026" is not a YYYY-MM-DD day/],
    ['a text cell', 'Date,USD,\n2026-04-13,n.a.,\n', /USD is "n\.a\.", not a positive rate or N\/A/],
    ['a negative rate', 'Date,USD,\n2026-04-13,-1.1,\n', /not a positive rate/],
    ['a zero rate', 'Date,USD,\n2026-04-13,0,\n', /not a positive rate/],
    ['a day twice', 'Date,USD,\n2026-04-13,1.1,\n2026-04-13,1.2,\n', /lists 2026-04-13 twice/],
    ['an HTML error page', '<html><body>Service unavailable</body></html>', /must start with "Date"/],
  ])('refuses %s as a whole, saying where', (_what, text, message) => {
    const r = parseEcbHistory(text);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('invalid_input');
      expect(r.error.message).toMatch(message);
      expect(r.error.message).toMatch(/No rates were changed/);
    }
  });
});

describe('publishedDayIndex', () => {
  const days = ['2026-04-08', '2026-04-09', '2026-04-10', '2026-04-13'];
  it.each([
    ['2026-04-07', -1],
    ['2026-04-08', 0],
    ['2026-04-10', 2],
    ['2026-04-11', 2],
    ['2026-04-12', 2],
    ['2026-04-13', 3],
    ['2030-01-01', 3],
  ])('%s -> %i', (day, index) => expect(publishedDayIndex(days, day)).toBe(index));
  it('finds nothing in an empty history', () => expect(publishedDayIndex([], '2026-04-13')).toBe(-1));
});

describe('crossRate + convertMinor', () => {
  const t = table();
  // Expected amounts worked by hand: minor * 10^(exp to - exp from) * rate[to] / rate[from], half away from zero.
  it.each([
    // 10000 JPY * 100 * 1.1711 / 186.43 = 6281.71 cents; Sunday takes Friday's rate.
    { amount: 10000, from: 'JPY', to: 'USD', day: '2026-04-12', minor: 6282, rateDay: '2026-04-10' },
    // 100.00 USD = 100 * 186.75 / 1.1684 = 15983.40 yen
    { amount: 10000, from: 'USD', to: 'JPY', day: '2026-04-13', minor: 15983, rateDay: '2026-04-13' },
    { amount: 10000, from: 'EUR', to: 'USD', day: '2026-04-13', minor: 11684, rateDay: '2026-04-13' },
    { amount: 11684, from: 'USD', to: 'EUR', day: '2026-04-13', minor: 10000, rateDay: '2026-04-13' },
    // 5000 * 1.1711 = 5855.5 exactly (Saturday, Friday's rate): half away from zero, both signs.
    { amount: 5000, from: 'EUR', to: 'USD', day: '2026-04-11', minor: 5856, rateDay: '2026-04-10' },
    { amount: -5000, from: 'EUR', to: 'USD', day: '2026-04-11', minor: -5856, rateDay: '2026-04-10' },
    // 11711 * 0.87105 / 1.1711 = 8710.5 exactly through EUR.
    { amount: 11711, from: 'USD', to: 'GBP', day: '2026-04-10', minor: 8711, rateDay: '2026-04-10' },
    { amount: -11711, from: 'USD', to: 'GBP', day: '2026-04-10', minor: -8711, rateDay: '2026-04-10' },
    // 819.77 * 0.87105 / 1.1711 = 609.735 exactly; float math says 60973.49999999999 and rounds down.
    { amount: 81977, from: 'USD', to: 'GBP', day: '2026-04-10', minor: 60974, rateDay: '2026-04-10' },
    // CYP while quoted; New Year's Day 2008 had no publication, so 2007-12-31 applies.
    { amount: 10000, from: 'CYP', to: 'EUR', day: '2007-12-31', minor: 17086, rateDay: '2007-12-31' },
    { amount: 10000, from: 'CYP', to: 'USD', day: '2008-01-01', minor: 25152, rateDay: '2007-12-31' },
    // Three decimals: 10000 cents * 10 * 0.44 / 1.1684 = 37658.34 fils; 1.234 BHD * 186.75 / 0.44 = 523.75 yen.
    { amount: 10000, from: 'USD', to: 'BHD', day: '2026-04-13', minor: 37658, rateDay: '2026-04-13' },
    { amount: 1234, from: 'BHD', to: 'JPY', day: '2026-04-13', minor: 524, rateDay: '2026-04-13' },
    // 100.00 GBP * 186.75 / 0.87058 = 21451.22 yen, codes in any case.
    { amount: 10000, from: 'gbp', to: 'jpy', day: '2026-04-13', minor: 21451, rateDay: '2026-04-13' },
    { amount: 0, from: 'USD', to: 'JPY', day: '2026-04-13', minor: 0, rateDay: '2026-04-13' },
  ])('$amount $from -> $to on $day = $minor', ({ amount, from, to, day, minor, rateDay }) => {
    const cross = crossRate(t, from, to, day)!;
    expect(cross.day).toBe(rateDay);
    expect(convertMinor(amount, from, to, cross.ratio)).toBe(minor);
  });

  it.each([
    ['CYP', 'USD', '2026-04-13', 'retired: N/A since the euro'],
    ['USD', 'CYP', '2026-04-10', 'retired, as the target'],
    ['BHD', 'USD', '2007-12-31', 'not yet listed'],
    ['USD', 'JPY', '1998-12-31', 'before the first publication'],
    ['AED', 'USD', '2026-04-13', 'never quoted'],
  ])('%s -> %s on %s has no rate (%s)', (from, to, day) => expect(crossRate(t, from, to, day)).toBeNull());

  it('gives the float rate next to the exact ratio', () => {
    const c = crossRate(t, 'JPY', 'USD', '2026-04-13')!;
    expect(c.ratio).toEqual({ num: 1_168_400n, den: 186_750_000n });
    expect(c.rate).toBeCloseTo(1.1684 / 186.75, 15);
    expect(crossRate(t, 'EUR', 'EUR', '2026-04-13')!.rate).toBe(1);
  });

  it('keeps the sign symmetric and refuses non-integer amounts', () => {
    const ratio = crossRate(t, 'JPY', 'USD', '2026-04-13')!.ratio;
    for (const a of [1, 7, 80, 1599, 123457, 9_999_999]) expect(convertMinor(-a, 'JPY', 'USD', ratio)).toBe(-convertMinor(a, 'JPY', 'USD', ratio));
    expect(() => convertMinor(1.5, 'USD', 'EUR', { num: 1n, den: 1n })).toThrow(RangeError);
    expect(() => convertMinor(1, 'USD', 'EUR', { num: 0n, den: 1n })).toThrow(RangeError);
  });
});

describe('decimalRatio', () => {
  it.each([
    [0.27225, 27225n, 100000n],
    [1, 1n, 1n],
    [1.5, 15n, 10n],
    [1e-7, 1n, 10_000_000n],
    [2.5e21, 2_500_000_000_000_000_000_000n, 1n],
  ])('%d is exactly %i/%i', (x, num, den) => expect(decimalRatio(x)).toEqual({ num, den }));
  it('refuses what is not a positive rate', () => {
    for (const x of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => decimalRatio(x)).toThrow(RangeError);
  });
  it('converts at a Stripe rate without binary rounding', () => {
    expect(convertMinor(1000, 'AED', 'USD', decimalRatio(0.2725))).toBe(273); // 272.5
    expect(convertMinor(100, 'USD', 'EUR', decimalRatio(1.005))).toBe(101); // 100.5, where 100 * 1.005 is 100.49999999999999
  });
});

describe('rateTableFromDays', () => {
  it('rebuilds the parsed grid from days of quoted rates in any order', () => {
    const t = table();
    const byDay = new Map<string, Record<string, number>>();
    for (const [day, currency, micros] of quotedCells(t)) byDay.set(day, { ...byDay.get(day), [currency]: micros });
    const back = rateTableFromDays([...byDay].reverse());
    expect(back.days).toEqual(t.days);
    expect([...back.currencies].sort()).toEqual([...t.currencies].sort());
    for (const day of t.days) {
      for (const c of t.currencies) expect(eurQuote(back, c, day)).toEqual(eurQuote(t, c, day));
    }
    expect(eurQuote(back, 'CYP', '2026-04-13')).toBeNull();
    expect(eurQuote(back, 'USD', '2026-04-13')!.micros / RATE_SCALE).toBe(1.1684);
  });

  it('is empty without rows', () => {
    const empty = rateTableFromDays([]);
    expect(empty.days).toEqual([]);
    expect(crossRate(empty, 'USD', 'EUR', '2026-04-13')).toBeNull();
  });
});

describe('rateChanges', () => {
  it('keeps only new days, new currencies and revised values', () => {
    const base = table();
    // A new day, a revised USD on 2026-04-13, a new CHF column with one old value; the rest as before.
    const next = table(
      [
        'Date,USD,JPY,GBP,CYP,BHD,CHF,',
        '2026-04-14,1.17,186.9,0.871,N/A,0.44,0.93,',
        '2026-04-13,1.1685,186.75,0.87058,N/A,0.44,N/A,',
        '2026-04-10,1.1711,186.43,0.87105,N/A,0.441,N/A,',
        '2007-12-31,1.4721,164.93,0.73335,0.585274,N/A,N/A,',
        '2007-12-28,1.4688,166.27,0.7332,0.5853,N/A,1.65,',
      ].join('\n'),
    );
    expect(quotedCells(rateChanges(next, base))).toEqual([
      ['2007-12-28', 'CHF', 1_650_000],
      ['2026-04-13', 'USD', 1_168_500],
      ['2026-04-14', 'BHD', 440_000],
      ['2026-04-14', 'CHF', 930_000],
      ['2026-04-14', 'GBP', 871_000],
      ['2026-04-14', 'JPY', 186_900_000],
      ['2026-04-14', 'USD', 1_170_000],
    ]);
    expect(quotedCells(rateChanges(base, base))).toEqual([]);
    expect(quotedCells(rateChanges(base, rateTableFromDays([])))).toEqual(quotedCells(base));
  });
});
