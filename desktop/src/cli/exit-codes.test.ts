import { APP_ERROR_CODES } from '@revtrail/shared';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES, exitCodeOf } from './exit-codes';

describe('exit codes', () => {
  it('gives every result code of the contract a failing exit code, and lists no other', () => {
    const missing = APP_ERROR_CODES.filter((c) => !Object.hasOwn(EXIT_CODES, c));
    expect(missing, 'codes without an exit code').toEqual([]);
    expect(Object.keys(EXIT_CODES).sort()).toEqual([...APP_ERROR_CODES].sort());
    for (const code of APP_ERROR_CODES) expect([code, exitCodeOf(code)]).toEqual([code, expect.toSatisfy((n: number) => Number.isInteger(n) && n >= 1 && n <= 6)]);
  });

  it('fails with 1 for a code it does not know, not 0', () => {
    expect(exitCodeOf('some_future_code')).toBe(1);
    expect(exitCodeOf('toString')).toBe(1);
  });
});
