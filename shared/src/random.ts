/**
 * A seeded generator of numbers in [0, 1) (mulberry32): the same sequence for a seed on every run and machine,
 * for sample data, fixtures, benchmarks and property tests. Not for secrets (ids and tokens use node:crypto).
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
