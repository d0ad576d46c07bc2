import { describe, expect, it } from 'vitest';
import { SPARSE_UNION_LIMIT, sketchWith, visitorEntry, VisitorUnion } from './visitor-sketch';

const sequential = (from: number, n: number) => Array.from({ length: n }, (_, i) => `v${(from + i).toString(36).padStart(21, '0')}`);
function random(n: number, seed: number): string[] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s);
  return Array.from({ length: n }, () => `${next().toString(36)}${next().toString(36)}${next().toString(36)}`);
}
/** Cells of `perCell` visitors each, as the rollups keep them. */
const cells = (ids: string[], perCell: number) => {
  const out: Buffer[] = [];
  for (let i = 0; i < ids.length; i += perCell) out.push(sketchWith(null, ids.slice(i, i + perCell).map(visitorEntry)));
  return out;
};
const union = (blobs: Buffer[]) => {
  const u = new VisitorUnion();
  for (const b of blobs) u.add(b);
  return u.count();
};

describe('visitor sketches', () => {
  it('counts small unions exactly, overlaps and repeats counted once', () => {
    const ids = sequential(0, 3000);
    expect(union(cells(ids, 50))).toBe(3000);
    // The same visitors again on other days, and half of them a third time.
    expect(union([...cells(ids, 50), ...cells(ids, 70), ...cells(ids.slice(0, 1500), 30)])).toBe(3000);
    expect(union(cells(random(2000, 7), 13))).toBe(2000);
    expect(union([])).toBe(0);
    expect(union([sketchWith(null, [])])).toBe(0);
  });

  it('merges a cell the same whatever order its visitors came in', () => {
    const ids = random(500, 3).map(visitorEntry);
    const once = sketchWith(null, ids);
    let piecewise = sketchWith(null, []);
    for (let i = ids.length - 1; i >= 0; i -= 7) piecewise = sketchWith(piecewise, ids.slice(Math.max(0, i - 6), i + 1).reverse());
    expect(piecewise.equals(once)).toBe(true);
    expect(sketchWith(once, ids).equals(once)).toBe(true);
  });

  it('keeps a cell sparse (5 bytes a visitor) up to 3,276 entries, then 16 KB of registers that still merge', () => {
    const small = sketchWith(null, sequential(0, 100).map(visitorEntry));
    expect(small.length).toBe(1 + 5 * 100);
    const big = sketchWith(null, sequential(0, 20_000).map(visitorEntry));
    expect(big.length).toBe(1 + 16_384);
    const grown = sketchWith(small, sequential(100, 19_900).map(visitorEntry));
    expect(grown.equals(big)).toBe(true);
    const n = union([big, ...cells(sequential(10_000, 20_000), 100)]);
    expect(Math.abs(n - 30_000) / 30_000).toBeLessThan(0.025);
  });

  it('estimates large unions within 2.5% (three standard errors of 2^14 registers)', () => {
    for (const [ids, perCell] of [
      [sequential(0, 1_000_000), 60],
      [random(300_000, 11), 90],
      [sequential(5_000_000, 40_000), 25],
    ] as const) {
      const n = union(cells(ids, perCell));
      expect(ids.length).toBeGreaterThan(SPARSE_UNION_LIMIT);
      expect(Math.abs(n - ids.length) / ids.length, `${ids.length} visitors`).toBeLessThan(0.025);
    }
  });

  it('joins unions as if their cells were added to one', () => {
    const a = new VisitorUnion();
    const b = new VisitorUnion();
    for (const c of cells(sequential(0, 1000), 10)) a.add(c);
    for (const c of cells(sequential(500, 1000), 10)) b.add(c);
    a.addUnion(b);
    expect(a.count()).toBe(1500);
    const big = new VisitorUnion();
    for (const c of cells(sequential(0, 50_000), 100)) big.add(c);
    big.addUnion(b);
    expect(Math.abs(big.count() - 50_000) / 50_000).toBeLessThan(0.025);
  });

  it('counts a union of unions exactly as one union of all their cells, sparse, dense (cells past the limit) or both', () => {
    // The dashboard's shared read merges each link's days once, then its links into each grouping (traffic.ts).
    for (const [groups, perCell, perGroup] of [
      [5, 10, 200],
      [8, 40, 4000],
      [3, 5000, 1],
    ] as const) {
      const all: Buffer[] = [];
      const parts = Array.from({ length: groups }, (_, g) => {
        const blobs = cells(random(perCell * perGroup, 7 + g), perCell);
        all.push(...blobs);
        const u = new VisitorUnion();
        for (const b of blobs) u.add(b);
        return u;
      });
      const joined = new VisitorUnion();
      for (const p of parts) joined.addUnion(p);
      expect(joined.count(), `${groups} unions of ${perGroup} cells of ${perCell}`).toBe(union(all));
    }
  });

  it('refuses bytes that are not a sketch', () => {
    expect(() => new VisitorUnion().add(Buffer.from([9, 1, 2, 3, 4]))).toThrow(/not a visitor sketch/);
    expect(() => sketchWith(Buffer.from([1, 2, 3]), [])).toThrow(/not a visitor sketch/);
  });
});
