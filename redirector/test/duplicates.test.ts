import { describe, expect, it } from 'vitest';
import { DuplicateDetector } from '../src/visitor';

describe('DuplicateDetector', () => {
  it('flags the same visitor on the same link within the window only', () => {
    const d = new DuplicateDetector(1000);
    expect(d.check('v1', 'spring', 0)).toBe(false);
    expect(d.check('v1', 'spring', 999)).toBe(true);
    expect(d.check('v1', 'summer', 999)).toBe(false);
    expect(d.check('v2', 'spring', 999)).toBe(false);
    expect(d.check('v1', 'spring', 2000)).toBe(false); // 1,001 ms after the last
  });

  it('remembers a visitor minted for a click, so its next click in the window is a repeat', () => {
    const d = new DuplicateDetector(1000);
    expect(d.remember('fresh', 'spring', 0)).toBe(false);
    expect(d.check('fresh', 'spring', 10)).toBe(true);
    expect(new DuplicateDetector(0).check('fresh', 'spring', 10)).toBe(false);
  });

  it('holds at most max keys: the oldest half goes, what was seen since stays', () => {
    const d = new DuplicateDetector(60_000, 4);
    d.remember('a', 's', 0);
    d.remember('b', 's', 0); // the first generation is full: it becomes the older one
    d.remember('c', 's', 0);
    expect(d.check('a', 's', 1)).toBe(true); // still in the older generation; now in the newer, the older one let go
    d.remember('d', 's', 1);
    expect(d.check('c', 's', 2)).toBe(true);
    expect(d.check('b', 's', 2)).toBe(false); // forgotten: b was seen before a, c and d were (again)
  });
});
