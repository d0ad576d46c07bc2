import { describe, expect, it } from 'vitest';
import { plural } from './format';

describe('plural', () => {
  it.each([
    [0, 'partner', undefined, '0 partners'],
    [1, 'partner', undefined, '1 partner'],
    [2, 'new click', undefined, '2 new clicks'],
    [1, 'new click', undefined, '1 new click'],
    [1, 'identity', 'identities', '1 identity'],
    [3, 'identity', 'identities', '3 identities'],
    [1, 'email hash', 'email hashes', '1 email hash'],
  ])('%i %s', (n, one, many, text) => {
    expect(plural(n, one, many)).toBe(text);
  });

  it("writes the count in the locale's digits", () => {
    expect(plural(1204, 'click')).toBe(`${new Intl.NumberFormat().format(1204)} clicks`);
  });
});
