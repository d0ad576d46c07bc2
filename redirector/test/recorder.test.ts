import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log';
import { EventRecorder } from '../src/recorder';
import type { EventRecord, Store } from '../src/store/types';
import { MemorySpill } from './support';

/** A store that takes `delayMs` per batch and remembers what it took; only putEvents is used here. */
function slowStore(delayMs: number, fail = false) {
  const stored: EventRecord[] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const store = {
    async putEvents(records: EventRecord[]) {
      concurrent += 1;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await new Promise((r) => setTimeout(r, delayMs));
      concurrent -= 1;
      if (fail) throw new Error('store down');
      stored.push(...records);
    },
  } as unknown as Store;
  return { store, stored, maxConcurrent: () => maxConcurrent };
}

const click = (i: number): EventRecord => ({ kind: 'clicks', item: { id: String(i) } as never });

describe('EventRecorder in background mode', () => {
  it('returns at once, batches, writes a few batches at a time, and loses nothing when the queue overflows', async () => {
    const s = slowStore(20);
    const spill = new MemorySpill();
    const r = new EventRecorder({ store: s.store, spill, log: silentLogger, mode: 'background', budgetMs: 150, batchSize: 25, maxQueue: 200, concurrency: 3 });
    const started = performance.now();
    for (let i = 0; i < 1000; i++) await r.record([click(i)]);
    expect(performance.now() - started).toBeLessThan(200);
    await r.flush();
    const ids = [...s.stored, ...spill.records].map((e) => e.item.id);
    expect(new Set(ids).size).toBe(1000);
    expect(ids).toHaveLength(1000);
    expect(spill.records.length).toBeGreaterThan(0);
    expect(s.maxConcurrent()).toBe(3);
    expect(r.stats).toEqual({ stored: s.stored.length, spilled: spill.records.length, queued: 0 });
  });

  it('spills batches the store refuses', async () => {
    const s = slowStore(1, true);
    const spill = new MemorySpill();
    const r = new EventRecorder({ store: s.store, spill, log: silentLogger, mode: 'background', budgetMs: 150 });
    for (let i = 0; i < 60; i++) await r.record([click(i)]);
    await r.flush();
    expect(spill.records).toHaveLength(60);
  });
});
