import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import dynalite from 'dynalite';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { newVisitorId, type Click, type FeedPage } from '@revtrail/shared';
import { Journal } from '../src/journal/journal';
import { silentLogger } from '../src/log';
import { DynamoStore } from '../src/store/dynamo';
import type { EventRecord, Store } from '../src/store/types';
import { closeSharedDynamo, sharedDynamo, testClick } from './support';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
afterAll(closeSharedDynamo);

const noPause = async () => undefined;

function click(i: number, over: Partial<Click> = {}): EventRecord {
  return { kind: 'clicks', item: testClick(Date.now(), String(i), { visitorId: newVisitorId(), channel: 'Ads', ...over }) };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'revtrail-journal-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function openJournal(dir: string, over: Partial<Parameters<typeof Journal.open>[0]> = {}): Promise<Journal> {
  const j = await Journal.open({ dir, log: silentLogger, ...over });
  cleanups.push(() => j.close());
  return j;
}

async function newStore(client?: DynamoDBClient): Promise<DynamoStore> {
  const store = new DynamoStore({ tableName: `j_${Math.random().toString(36).slice(2, 10)}`, retentionDays: 90, client: client ?? (await sharedDynamo()).client() });
  await store.ensureTable(Date.now());
  return store;
}

/** Every stored click id, with how often the feed holds it. */
async function storedIds(store: DynamoStore): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  let cursor: string | null = null;
  for (;;) {
    const page: FeedPage<Click> = await store.readFeed('clicks', cursor, 1000, Date.now() + 60_000);
    for (const c of page.items) ids.set(c.id, (ids.get(c.id) ?? 0) + 1);
    if (!page.hasMore) return ids;
    cursor = page.cursor;
  }
}

const segments = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('journal-') && n.endsWith('.jsonl'));
const quarantine = (dir: string) =>
  existsSync(join(dir, 'quarantine.jsonl'))
    ? readFileSync(join(dir, 'quarantine.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

/** A store over `inner` that fails on chosen putEvents calls: before writing, or after (a write that landed but timed out). */
function flakyStore(inner: DynamoStore, fail: (call: number) => 'before' | 'after' | null): Store {
  let calls = 0;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop !== 'putEvents' && prop !== 'putEventsOnce') return Reflect.get(target, prop, receiver) as unknown;
      return async (records: EventRecord[]) => {
        const how = fail(++calls);
        if (how === 'before') throw new Error('store unreachable');
        const out = await (prop === 'putEvents' ? target.putEvents(records) : target.putEventsOnce(records));
        if (how === 'after') throw new Error('store write timed out (it landed)');
        return out;
      };
    },
  }) as Store;
}

describe('the journal: answered means written', () => {
  it('resolves each append only once its line is in the file, and writes concurrent appends together', async () => {
    const dir = tempDir();
    const journal = await openJournal(dir);
    const records = Array.from({ length: 1000 }, (_, i) => click(i));
    const seenOnDisk: boolean[] = [];
    await Promise.all(
      records.map((r) =>
        journal.append([r]).then(() => {
          const text = segments(dir).map((n) => readFileSync(join(dir, n), 'utf8')).join('');
          seenOnDisk.push(text.includes(r.item.id));
        }),
      ),
    );
    expect(seenOnDisk).toHaveLength(1000);
    expect(seenOnDisk.every(Boolean)).toBe(true);
    expect(journal.stats).toMatchObject({ appended: 1000, queued: 1000, buffered: 0, degraded: null });
    expect(journal.stats.writes).toBeLessThanOrEqual(3);
    const lines = readFileSync(join(dir, segments(dir)[0]!), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it('ingests everything once, deletes what it stored, and numbers on without a gap after a restart', async () => {
    const dir = tempDir();
    const store = await newStore();
    const first = await openJournal(dir);
    for (let i = 0; i < 150; i++) await first.append([click(i)]);
    await first.close();
    const second = await openJournal(dir);
    for (let i = 150; i < 300; i++) await second.append([click(i)]);
    expect(await second.ingest(store, noPause)).toBe(300);
    expect(await second.pending()).toEqual([]);
    expect(segments(dir)).toEqual([]);
    const ids = await storedIds(store);
    expect(ids.size).toBe(300);
    expect([...ids.values()].every((n) => n === 1)).toBe(true);
    expect(second.stats).toMatchObject({ ingested: 300, queued: 0, lost: 0, quarantined: 0 });
    expect(quarantine(dir)).toEqual([]);
  });
});

describe('the journal heals', () => {
  it('sets lines of the wrong shape aside in quarantine and keeps ingesting the rest, and new events', async () => {
    const dir = tempDir();
    const store = await newStore();
    const journal = await openJournal(dir);
    for (let i = 0; i < 40; i++) await journal.append([click(i)]);
    const seg = join(dir, segments(dir)[0]!);
    // What the issue found stopping ingestion for good: valid JSON, not an event.
    for (const bad of ['null', '{}', '{"kind":"clicks"}', '{"seq":41,"kind":"clicks","item":{"id":"x"}}']) writeFileSync(seg, `${bad}\n`, { flag: 'a' });
    for (let i = 40; i < 80; i++) await journal.append([click(i)]);
    expect(await journal.ingest(store, noPause)).toBe(80);
    expect((await storedIds(store)).size).toBe(80);
    expect(journal.stats).toMatchObject({ quarantined: 4, ingested: 80, queued: 0 });
    expect(quarantine(dir).map((q) => q.reason)).toEqual([
      'no sequence number',
      'no sequence number',
      'no sequence number',
      'item.id is missing or not a valid click id',
    ]);
    // The bad line at seq 41 took a number the journal later gave a real event: nothing counted lost twice, nothing lost.
    expect(journal.stats.lost).toBe(0);

    for (let i = 80; i < 90; i++) await journal.append([click(i)]);
    expect(await journal.ingest(store, noPause)).toBe(10);
    expect((await storedIds(store)).size).toBe(90);
    const again = await openJournal(dir);
    expect(again.stats).toMatchObject({ quarantined: 4, lost: 0 }); // read back from quarantine.jsonl
  });

  it('counts exactly the events of a segment truncated to 0 bytes, while running and after a restart', async () => {
    const dir = tempDir();
    const store = await newStore();
    const journal = await openJournal(dir);
    for (let i = 0; i < 50; i++) await journal.append([click(i)]);
    truncateSync(join(dir, segments(dir)[0]!), 0);
    expect(await journal.ingest(store, noPause)).toBe(0);
    expect(journal.stats).toMatchObject({ lost: 50, queued: 0 });

    for (let i = 50; i < 80; i++) await journal.append([click(i)]);
    await journal.close();
    truncateSync(join(dir, segments(dir)[0]!), 0);
    const restarted = await openJournal(dir);
    expect(restarted.stats.queued).toBe(30);
    expect(await restarted.ingest(store, noPause)).toBe(0);
    expect(restarted.stats).toMatchObject({ lost: 80, queued: 0 });
    expect(quarantine(dir).map((q) => [q.reason, q.fromSeq, q.toSeq, q.lost])).toEqual([
      ['missing', 1, 50, 50],
      ['missing', 51, 80, 30],
    ]);
    for (let i = 80; i < 85; i++) await restarted.append([click(i)]);
    expect(await restarted.ingest(store, noPause)).toBe(5);
    expect(restarted.stats.lost).toBe(80);
  });

  it('counts exactly the events 1,000 bytes of NULs overwrote, and stores the others', async () => {
    const dir = tempDir();
    const store = await newStore();
    const journal = await openJournal(dir);
    for (let i = 0; i < 100; i++) await journal.append([click(i)]);
    await journal.close();
    const seg = join(dir, segments(dir)[0]!);
    const fd = openSync(seg, 'r+');
    writeSync(fd, Buffer.alloc(1000), 0, 1000, Math.floor(readFileSync(seg).length / 3) + 7);
    closeSync(fd);
    const intact = readFileSync(seg, 'utf8')
      .split('\n')
      .filter((line) => {
        try {
          return JSON.parse(line) !== null;
        } catch {
          return false;
        }
      }).length;
    const touched = 100 - intact;

    const restarted = await openJournal(dir);
    expect(await restarted.ingest(store, noPause)).toBe(100 - touched);
    expect(restarted.stats).toMatchObject({ lost: touched, quarantined: 1, queued: 0 });
    expect((await storedIds(store)).size).toBe(100 - touched);
    expect(touched).toBeGreaterThan(1);
  });

  it('resumes at the chunk that failed and never stores an event twice, even one whose write landed but failed', async () => {
    const dir = tempDir();
    const inner = await newStore();
    const journal = await openJournal(dir);
    for (let i = 0; i < 350; i++) await journal.append([click(i)]);
    // Chunks of 100: the second lands but reports a failure, the third cannot reach the store.
    const flaky = flakyStore(inner, (call) => (call === 2 ? 'after' : null));
    await expect(journal.ingest(flaky, noPause)).rejects.toThrow('it landed');
    expect(journal.stats).toMatchObject({ ingested: 100, queued: 250 });
    expect(JSON.parse(readFileSync(join(dir, 'journal.progress'), 'utf8'))).toMatchObject({ seq: 100 });

    // A restart (a new process on the same directory) resumes from the saved progress.
    const restarted = await openJournal(dir);
    expect(restarted.stats.queued).toBe(250);
    const down = flakyStore(inner, (call) => (call === 2 ? 'before' : null));
    await expect(restarted.ingest(down, noPause)).rejects.toThrow('unreachable');
    expect(restarted.stats.ingested).toBe(100);
    expect(await restarted.ingest(inner, noPause)).toBe(150);
    const ids = await storedIds(inner);
    expect(ids.size).toBe(350);
    expect([...ids.entries()].filter(([, n]) => n > 1)).toEqual([]);
  });

  it('after a restart, does not write into a segment cut shorter than where ingest stopped (new events would sit before it)', async () => {
    const dir = tempDir();
    const store = await newStore();
    const journal = await openJournal(dir);
    for (let i = 0; i < 250; i++) await journal.append([click(i)]);
    await expect(journal.ingest(flakyStore(store, (call) => (call === 3 ? 'before' : null)), noPause)).rejects.toThrow();
    await journal.close();
    truncateSync(join(dir, segments(dir)[0]!), 0);
    const restarted = await openJournal(dir);
    const fresh = Array.from({ length: 10 }, (_, i) => click(1000 + i));
    await restarted.append(fresh);
    expect(await restarted.ingest(store, noPause)).toBe(10);
    expect(restarted.stats).toMatchObject({ lost: 50, queued: 0 });
    const ids = await storedIds(store);
    expect(fresh.every((r) => ids.get(r.item.id) === 1)).toBe(true);
    expect(ids.size).toBe(210);
  });

  it('reads the journal of earlier versions (spill/*.jsonl without sequence numbers) once, then deletes it', async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, 'spill'));
    const old = Array.from({ length: 30 }, (_, i) => click(i));
    writeFileSync(join(dataDir, 'spill', 'spill-1700000000000.replaying'), `${old.slice(0, 10).map((r) => JSON.stringify(r)).join('\n')}\n`);
    writeFileSync(join(dataDir, 'spill', 'spill.jsonl'), `${old.slice(10).map((r) => JSON.stringify(r)).join('\n')}\nnull\n`);
    const store = await newStore();
    await store.putEvents(old.slice(0, 5)); // an earlier replay cut short had stored these
    const journal = await openJournal(join(dataDir, 'journal'), { legacyDir: join(dataDir, 'spill') });
    expect(await journal.pending()).toEqual(['legacy/spill-1700000000000.replaying', 'legacy/spill.jsonl']);
    await journal.ingest(store, noPause);
    const ids = await storedIds(store);
    expect(ids.size).toBe(30);
    expect([...ids.values()].every((n) => n === 1)).toBe(true);
    expect(readdirSync(join(dataDir, 'spill'))).toEqual([]);
    expect(journal.stats.quarantined).toBe(1);
  });

  it('sets aside an event the store itself refuses (too large for this table) and stores the rest', async () => {
    // A real dynalite with a small item limit: DynamoDB answers ValidationException for such an item.
    const server: Server = dynalite({ maxItemSizeKb: 3, createTableMs: 0 });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise<void>((ok) => server.close(() => ok())));
    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: 'local',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const store = await newStore(client);
    const dir = tempDir();
    const journal = await openJournal(dir);
    const big = click(5, { utm: { utm_content: 'x'.repeat(4000) } });
    await journal.append([click(0), click(1), big, click(2)]);
    expect(await journal.ingest(store, noPause)).toBe(3);
    expect((await storedIds(store)).size).toBe(3);
    expect(journal.stats).toMatchObject({ quarantined: 1, queued: 0 });
    expect(quarantine(dir)[0]).toMatchObject({ reason: expect.stringMatching(/^the store refused it/), event: { item: { id: big.item.id } } });
  });
});

describe('the journal when the disk is full', () => {
  it.skipIf(!existsSync('/dev/full'))('answers at once, keeps events in a bounded buffer, counts what it drops, and writes them when space returns', async () => {
    const dir = tempDir();
    // /dev/full answers every write with ENOSPC, as a full disk does.
    symlinkSync('/dev/full', join(dir, 'journal-0000000000000001.jsonl'));
    const journal = await openJournal(dir, { bufferMax: 40, retryMs: 20 });
    const records = Array.from({ length: 50 }, (_, i) => click(i));
    for (let i = 0; i < 50; i += 10) await journal.append(records.slice(i, i + 10));
    expect(journal.stats).toMatchObject({ appended: 0, buffered: 40, dropped: 10 });
    expect(journal.stats.degraded).toMatch(/ENOSPC/);
    expect(journal.stats.writeFailures).toBeGreaterThanOrEqual(1);

    unlinkSync(join(dir, 'journal-0000000000000001.jsonl')); // space returns
    await expect.poll(() => journal.stats.degraded, { timeout: 5000 }).toBeNull();
    expect(journal.stats).toMatchObject({ appended: 40, buffered: 0, dropped: 10 });
    const store = await newStore();
    expect(await journal.ingest(store, noPause)).toBe(40);
    expect([...(await storedIds(store)).keys()].sort()).toEqual(records.slice(0, 40).map((r) => r.item.id).sort());
    expect(journal.stats.lost).toBe(0);
  });
});
