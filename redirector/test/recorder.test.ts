import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log';
import { EventRecorder } from '../src/recorder';
import { FileSpill } from '../src/spill/file';
import type { EventRecord, Store } from '../src/store/types';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A store that takes `delayMs` per batch and remembers what it took; only putEvents is used here. */
function slowStore(delayMs: number) {
  const stored: EventRecord[] = [];
  const state = { down: false };
  const store = {
    async putEvents(records: EventRecord[]) {
      await new Promise((r) => setTimeout(r, delayMs));
      if (state.down) throw new Error('store down');
      stored.push(...records);
    },
  } as unknown as Store;
  return { store, stored, state };
}

const click = (i: number): EventRecord => ({ kind: 'clicks', item: { id: String(i) } as never });

function journal(store: Store) {
  const dir = mkdtempSync(join(tmpdir(), 'revtrail-journal-'));
  dirs.push(dir);
  const spill = new FileSpill(dir, silentLogger);
  return { dir, spill, recorder: new EventRecorder({ mode: 'journal', store, spill, log: silentLogger, budgetMs: 150 }) };
}

describe('EventRecorder in journal mode', () => {
  it('answers at once, puts every event on disk in a few appends, and ingests them all in order', async () => {
    const s = slowStore(5);
    const { recorder, dir } = journal(s.store);
    const started = performance.now();
    for (let i = 0; i < 1000; i++) await recorder.record([click(i)]);
    expect(performance.now() - started).toBeLessThan(100);
    expect(s.stored).toEqual([]);
    await recorder.flush();
    expect(readdirSync(dir)).toEqual(['spill.jsonl']);
    expect(recorder.stats).toEqual({ stored: 0, spilled: 1000, queued: 1000 });
    expect(await recorder.ingest(Date.now())).toBe(1000);
    expect(s.stored.map((e) => e.item.id)).toEqual(Array.from({ length: 1000 }, (_, i) => String(i)));
    expect(readdirSync(dir)).toEqual([]);
    expect(recorder.stats).toEqual({ stored: 1000, spilled: 1000, queued: 0 });
  });

  it('keeps the journal while the store is down, takes new events meanwhile, and loses none', async () => {
    const s = slowStore(1);
    const { recorder } = journal(s.store);
    for (let i = 0; i < 100; i++) await recorder.record([click(i)]);
    s.state.down = true;
    await expect(recorder.ingest(Date.now())).rejects.toThrow('store down');
    for (let i = 100; i < 150; i++) await recorder.record([click(i)]);
    s.state.down = false;
    await recorder.flush();
    await recorder.ingest(Date.now() + 1);
    expect(new Set(s.stored.map((e) => e.item.id)).size).toBe(150);
  });

  it('yields to redirects: while events keep arriving it ingests slowly', async () => {
    const s = slowStore(0);
    const { recorder } = journal(s.store);
    for (let i = 0; i < 200; i++) await recorder.record([click(i)]);
    await recorder.flush();
    const busy = setInterval(() => void recorder.record(Array.from({ length: 60 }, (_, i) => click(1000 + i))), 5);
    busy.unref();
    const started = performance.now();
    await recorder.ingest(Date.now());
    const took = performance.now() - started;
    clearInterval(busy);
    expect(took).toBeGreaterThan(1000); // 8 batches of 25, ~250 ms apart while busy
  });
});
