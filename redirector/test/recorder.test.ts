import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { newEventId, newVisitorId } from '@revtrail/shared';
import { Journal } from '../src/journal/journal';
import { silentLogger } from '../src/log';
import { EventRecorder, ingestPause } from '../src/recorder';
import { DynamoStore } from '../src/store/dynamo';
import type { EventRecord, Store } from '../src/store/types';
import { closeSharedDynamo, sharedDynamo } from './support';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
afterAll(closeSharedDynamo);

const pageview = (i: number): EventRecord => {
  const at = Date.now();
  return {
    kind: 'pageviews',
    item: { id: newEventId(at), at, visitorId: newVisitorId(), url: `https://brand.com/p/${i}`, referrerHost: null, referrerUrl: null, clickIds: {}, utm: {}, ipHash: null },
  };
};

async function journalRecorder(over: { store?: Store; dir?: string } = {}) {
  const dir = over.dir ?? mkdtempSync(join(tmpdir(), 'revtrail-recorder-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const dynamo = await sharedDynamo();
  const table = new DynamoStore({ tableName: `r_${Math.random().toString(36).slice(2, 10)}`, retentionDays: 90, client: dynamo.client() });
  await table.ensureTable(Date.now());
  const journal = await Journal.open({ dir, log: silentLogger, retryMs: 20 });
  cleanups.push(() => journal.close());
  const store = over.store ?? table;
  return { dir, table, journal, recorder: new EventRecorder({ mode: 'journal', store, journal, log: silentLogger, budgetMs: 150 }) };
}

describe('EventRecorder in journal mode', () => {
  it('answers a request once its event is in the journal file, never before', async () => {
    const { recorder, dir } = await journalRecorder();
    const records = Array.from({ length: 200 }, (_, i) => pageview(i));
    const onDisk = await Promise.all(
      records.map((r) =>
        recorder.record([r]).then(() => readdirSync(dir).some((n) => n.startsWith('journal-') && readFileSync(join(dir, n), 'utf8').includes(r.item.id))),
      ),
    );
    expect(onDisk.filter((x) => !x)).toEqual([]);
    expect(recorder.stats).toEqual({ stored: 0, spilled: 200, queued: 200, logged: 0 });
    expect(recorder.journal).toMatchObject({ appended: 200, queued: 200, buffered: 0 });
  });

  it('ingests the journal into the store, and counts it', async () => {
    const { recorder, table } = await journalRecorder();
    for (let i = 0; i < 250; i++) await recorder.record([pageview(i)]);
    expect(await recorder.ingest()).toBe(250);
    expect(recorder.stats).toEqual({ stored: 250, spilled: 250, queued: 0, logged: 0 });
    expect((await table.readFeed('pageviews', null, 1000, Date.now() + 60_000)).items).toHaveLength(250);
  });

  it('says it is degraded while the store refuses the journal, with how many events wait, and recovers', async () => {
    let down = true;
    const { recorder, table } = await journalRecorder({
      store: new Proxy({} as Store, {
        get: (_t, prop) => (...args: unknown[]) => {
          if (down) return Promise.reject(new Error('connect ECONNREFUSED'));
          return (table[prop as keyof DynamoStore] as (...a: unknown[]) => unknown).apply(table, args);
        },
      }),
    });
    for (let i = 0; i < 30; i++) await recorder.record([pageview(i)]);
    await expect(recorder.ingest()).rejects.toThrow('ECONNREFUSED');
    expect(recorder.health()).toEqual({ status: 'degraded', reasons: ['the store does not take events (connect ECONNREFUSED): 30 wait in the journal'] });
    down = false;
    expect(await recorder.ingest()).toBe(30);
    expect(recorder.health()).toEqual({ status: 'ok', reasons: [] });
  });

  it.skipIf(!existsSync('/dev/full'))('says it is degraded while the disk refuses journal writes, and still answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revtrail-recorder-'));
    symlinkSync('/dev/full', join(dir, 'journal-0000000000000001.jsonl'));
    const { recorder } = await journalRecorder({ dir });
    await recorder.record([pageview(0)]);
    const health = recorder.health();
    expect(health.status).toBe('degraded');
    expect(health.reasons[0]).toMatch(/^journal writes failing: ENOSPC.*: 1 events wait in memory, 0 dropped$/);
  });

  it('yields to redirects: while events keep arriving it pauses after each chunk, a quarter second to a second', async () => {
    const { recorder } = await journalRecorder();
    for (let i = 0; i < 600; i++) await recorder.record([pageview(i)]);
    const busy = setInterval(() => void recorder.record(Array.from({ length: 60 }, (_, i) => pageview(1000 + i))), 5);
    const started = performance.now();
    await recorder.ingest();
    const took = performance.now() - started;
    clearInterval(busy);
    await recorder.flush();
    expect(took).toBeGreaterThan(1000); // 6 chunks of 100, at least 250 ms apart while busy
  });

  it('paces ingest by what arrives: flat out when idle, yielding during a burst, keeping up once arrivals are sustained past a minute', () => {
    expect(ingestPause(0, 20, 0)).toBe(0);
    expect(ingestPause(10, 20, 0)).toBe(10);
    expect(ingestPause(500, 5, 1_000)).toBe(250); // a burst: at least a quarter second
    expect(ingestPause(500, 20, 1_000)).toBe(600); // 30 times the chunk's time
    expect(ingestPause(500, 100, 59_000)).toBe(1000); // at most a second
    // Sustained: ingest gets as much of the loop as the chunk took, so the journal drains ~15x faster than in a burst.
    expect(ingestPause(500, 20, 61_000)).toBe(20);
    expect(ingestPause(500, 5_000, 61_000)).toBe(1000);
  });
});
