import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../src/store/dynamo';
import { startEmbeddedDynamo } from '../src/store/embedded';
import { testClick } from './support';

// The embedded store on disk keeps a deleted item's bytes in LevelDB's log and tables until a compaction
// rewrites them; compact() is what an erasure runs so that none are left.
const dir = mkdtempSync(join(tmpdir(), 'revtrail-compact-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The files of the store's folder holding any of the needles. */
function holding(folder: string, needles: string[]): string[] {
  return readdirSync(folder).filter((f) => {
    const bytes = readFileSync(join(folder, f));
    return needles.some((n) => bytes.includes(Buffer.from(n, 'utf8')));
  });
}

describe('embedded store compaction', () => {
  it('leaves no byte of erased items in the log or tables, even after queries stopped at their Limit', async () => {
    const path = join(dir, 'dynamodb');
    const dynamo = await startEmbeddedDynamo({ path });
    try {
      const store = new DynamoStore({ tableName: 'revtrail', retentionDays: 90, client: dynamo.client() });
      await store.ensureTable(Date.now());
      const gone = 'GoneVisitor00000000001';
      const kept = 'KeptVisitor00000000001';
      const now = Date.now();
      const clicks = Array.from({ length: 60 }, (_, i) =>
        testClick(now - 1000 + i, i % 2 ? 'kept-campaign' : 'gone-campaign', { visitorId: i % 2 ? kept : gone }),
      );
      await store.putEvents(clicks.map((item) => ({ kind: 'clicks' as const, item })));
      // Tables on disk holding both people, then queries left open at their Limit (each held its iterator).
      await dynamo.compact();
      await store.putEvents([{ kind: 'clicks', item: testClick(now, 'gone-campaign', { visitorId: gone }) }]);
      for (let i = 0; i < 5; i++) await store.readFeed('clicks', null, 7, Date.now() + 60_000);
      const needles = [gone, Buffer.from(`V#${gone}`).toString('hex'), 'gone-campaign'];
      expect(holding(path, needles).length).toBeGreaterThan(0);

      const erased = await store.eraseVisitor(gone, now);
      expect(erased.items).toBe(31);
      await dynamo.compact();
      expect(holding(path, needles)).toEqual([]);
      // The other visitor's clicks are all there.
      const left = await store.readFeed('clicks', null, 100, Date.now() + 60_000);
      expect(left.items.map((c) => c.visitorId)).toEqual(Array(30).fill(kept));
      expect(holding(path, [kept]).length).toBeGreaterThan(0);
    } finally {
      await dynamo.close();
    }
  });

  it('leaves nothing of an erasure in a store holding nothing else, the first compaction of a session or a later one', async () => {
    for (const [name, before] of [['first', false], ['later', true]] as const) {
      const path = join(dir, `alone-${name}`);
      const dynamo = await startEmbeddedDynamo({ path });
      try {
        const store = new DynamoStore({ tableName: 'revtrail', retentionDays: 90, client: dynamo.client() });
        await store.ensureTable(Date.now());
        if (before) await dynamo.compact();
        const gone = `AloneVisitor${name.padEnd(10, '0')}`;
        const now = Date.now();
        await store.putEvents(Array.from({ length: 5 }, (_, i) => ({ kind: 'clicks' as const, item: testClick(now + i, 'alone-campaign', { visitorId: gone }) })));
        await store.eraseVisitor(gone, now);
        await dynamo.compact();
        expect(holding(path, [gone, Buffer.from(`V#${gone}`).toString('hex'), 'alone-campaign']), name).toEqual([]);
      } finally {
        await dynamo.close();
      }
    }
  });

  it('is a no-op for the in-memory store', async () => {
    const dynamo = await startEmbeddedDynamo();
    try {
      await expect(dynamo.compact()).resolves.toBeUndefined();
    } finally {
      await dynamo.close();
    }
  });
});
