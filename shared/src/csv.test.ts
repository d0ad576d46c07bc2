import { describe, expect, it } from 'vitest';
import { csvCell, csvDecimal, toCsv } from './csv';

describe('csv', () => {
  it.each([
    ['plain', 'plain'],
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['+1', "'+1"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', `"'\rcmd"`],
    ['a,b', '"a,b"'],
    ['line\nbreak', '"line\nbreak"'],
    [-12.5, '-12.5'],
    [null, ''],
    [true, 'true'],
  ])('%j -> %j', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it('joins rows with CRLF and ends with one', () => {
    expect(toCsv([['a', 1], ['b', null]])).toBe('a,1\r\nb,\r\n');
  });

  it('writes a decimal with its digits, a negative one without the formula guard, and refuses anything else', () => {
    expect(toCsv([['Net', csvDecimal('614.30'), csvDecimal('-5.00'), csvDecimal('1200')]])).toBe('Net,614.30,-5.00,1200\r\n');
    expect(() => csvDecimal('-1+cmd|x')).toThrow(RangeError);
    expect(() => csvCell({ decimal: '=1+1' })).toThrow(RangeError);
  });

  it('refuses NaN rather than writing garbage', () => {
    expect(() => csvCell(Number.NaN)).toThrow(RangeError);
  });
});
