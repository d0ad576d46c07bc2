import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DAY_MS } from '@revtrail/shared';
import { IpHasher } from '../src/visitor';

const DAY1 = Date.UTC(2026, 11, 4, 10);
const reference = (seed: string, day: string, key: string) =>
  createHmac('sha256', createHmac('sha256', seed).update(`ip-salt:${day}`).digest()).update(key).digest('hex').slice(0, 32);
const cacheOf = (h: IpHasher) => (h as unknown as { today: Map<string, string> }).today;

describe('IpHasher cache', () => {
  it('answers a repeat with the same keyed hash as computing it afresh', () => {
    const h = new IpHasher('seed');
    const first = h.hash('203.0.113.7', 'go.brand.com', 'UA', DAY1);
    expect(first).toBe(reference('seed', '2026-12-04', 'go.brand.com\n203.0.113.7\nUA'));
    expect(h.hash('203.0.113.7', 'go.brand.com', 'UA', DAY1 + 1000)).toBe(first);
    expect(h.hash('203.0.113.8', 'go.brand.com', 'UA', DAY1)).not.toBe(first);
  });

  it('empties the cache at the UTC day rotation: the same visitor hashes differently tomorrow', () => {
    const h = new IpHasher('seed');
    const today = h.hash('203.0.113.7', 'go.brand.com', 'UA', DAY1);
    h.hash('203.0.113.9', 'go.brand.com', 'UA', DAY1);
    expect(cacheOf(h).size).toBe(2);
    const midnight = DAY1 - (DAY1 % DAY_MS) + DAY_MS;
    expect(h.hash('203.0.113.7', 'go.brand.com', 'UA', midnight - 1)).toBe(today);
    const tomorrow = h.hash('203.0.113.7', 'go.brand.com', 'UA', midnight);
    expect(tomorrow).toBe(reference('seed', '2026-12-05', 'go.brand.com\n203.0.113.7\nUA'));
    expect(tomorrow).not.toBe(today);
    expect([...cacheOf(h).keys()]).toEqual(['go.brand.com\n203.0.113.7\nUA']);
  });

  it('stays within its bound, dropping the least recently used', () => {
    const h = new IpHasher('seed', 2);
    h.hash('10.0.0.1', 's', 'UA', DAY1);
    h.hash('10.0.0.2', 's', 'UA', DAY1);
    h.hash('10.0.0.1', 's', 'UA', DAY1);
    h.hash('10.0.0.3', 's', 'UA', DAY1);
    expect([...cacheOf(h).keys()]).toEqual(['s\n10.0.0.1\nUA', 's\n10.0.0.3\nUA']);
  });

  it('hashes no request without an address', () => {
    expect(new IpHasher('seed').hash(undefined, 's', 'UA', DAY1)).toBeNull();
  });
});
