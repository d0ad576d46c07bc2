import { afterAll, describe, expect, it } from 'vitest';
import { DAY_MS, newEventId, type Click, type FeedPage } from '@revtrail/shared';
import { DynamoStore, FEED_PAGE_CHARS } from '../src/store/dynamo';
import { ManualClock, closeSharedDynamo, sharedDynamo, testClick } from './support';

afterAll(closeSharedDynamo);

let n = 0;
async function freshStore(retentionDays = 90) {
  const clock = new ManualClock(Date.UTC(2026, 10, 24, 23, 59, 59, 990));
  const store = new DynamoStore({ tableName: `store_${process.pid}_${n++}`, retentionDays, client: (await sharedDynamo()).client(), clock });
  await store.ensureTable(clock.now());
  return { store, clock };
}

function click(at: number, content: string, visitorId = 'StoreTestVisitor012345'): Click {
  return testClick(at, content, { visitorId });
}

describe('DynamoStore feeds', () => {
  it('reads across UTC day partitions in append order, with empty days in between', async () => {
    const { store, clock } = await freshStore();
    const appended: string[] = [];
    for (let i = 0; i < 5; i++) {
      await store.putEvents([{ kind: 'clicks', item: click(clock.now(), String(i)) }]);
      appended.push(String(i));
      clock.advance(i === 2 ? 3 * DAY_MS : 7); // crosses midnight, then skips days
    }
    clock.advance(1);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 10; guard++) {
      const page: FeedPage<Click> = await store.readFeed('clicks', cursor, 2, clock.now());
      seen.push(...page.items.map((c) => c.utm.utm_content!));
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    expect(seen).toEqual(appended);
    const empty = await store.readFeed('clicks', cursor, 2, clock.now());
    expect(empty.items).toEqual([]);
  });

  it('puts a late (replayed) event after every cursor already handed out', async () => {
    const { store, clock } = await freshStore();
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 'first') }]);
    clock.advance(1000);
    const page = await store.readFeed('clicks', null, 100, clock.now());
    expect(page.items).toHaveLength(1);
    // An event that happened long ago, written only now (as the spill replay does).
    await store.putEvents([{ kind: 'clicks', item: click(clock.now() - 3_600_000, 'late') }]);
    clock.advance(1);
    const next = await store.readFeed('clicks', page.cursor, 100, clock.now());
    expect(next.items.map((c) => c.utm.utm_content)).toEqual(['late']);
  });

  it('writes batches larger than DynamoDB allows in one request', async () => {
    const { store, clock } = await freshStore();
    await store.putEvents(Array.from({ length: 60 }, (_, i) => ({ kind: 'clicks' as const, item: click(clock.now(), String(i)) })));
    clock.advance(1);
    expect((await store.readFeed('clicks', null, 1000, clock.now())).items).toHaveLength(60);
  });

  it("cuts a JSON page short of a Lambda answer's size, the rest following from its cursor", async () => {
    const { store, clock } = await freshStore();
    // 1,000 pageviews with addresses of the largest size the collector takes: ~4,100 characters of JSON each.
    const long = (i: number) => `https://b.co/${String(i).padStart(4, '0')}?q=${'x'.repeat(2020)}`;
    const views = Array.from({ length: 1000 }, (_, i) => ({ kind: 'pageviews' as const, item: { id: newEventId(clock.now() + i), at: clock.now() + i, visitorId: 'StoreTestVisitor012345', url: long(i), referrerHost: 'r.co', referrerUrl: long(i), clickIds: {}, utm: {}, ipHash: null } }));
    await store.putEvents(views);
    clock.advance(10_000);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    for (;;) {
      const page: FeedPage<string> = await store.readFeedJson('pageviews', cursor, 5000, clock.now());
      pages += 1;
      expect(page.items.reduce((n, t) => n + t.length + 1, 0)).toBeLessThanOrEqual(FEED_PAGE_CHARS + 1);
      seen.push(...page.items.map((t) => (JSON.parse(t) as { url: string }).url));
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    expect(pages).toBe(3);
    // Every item once (a batch's items are in the feed's append order, not the array's).
    expect(seen).toHaveLength(views.length);
    expect([...seen].sort()).toEqual(views.map((v) => v.item.url).sort());
  });

  it('purges feed days past the retention window and sets a TTL on every item', async () => {
    const { store, clock } = await freshStore(2);
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 'old') }, { kind: 'pageviews', item: { id: newEventId(clock.now()), at: clock.now(), visitorId: 'StoreTestVisitor012345', url: 'https://b.co/', referrerHost: null, referrerUrl: null, clickIds: {}, utm: {}, ipHash: null } }]);
    clock.advance(DAY_MS);
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 'recent') }]);
    expect(await store.purgeExpired(clock.now())).toBe(0);
    clock.advance(2 * DAY_MS);
    expect(await store.purgeExpired(clock.now())).toBe(2);
    expect(await store.purgeExpired(clock.now())).toBe(0);
    const left = await store.readFeed('clicks', null, 100, clock.now());
    expect(left.items.map((c) => c.utm.utm_content)).toEqual(['recent']);
  });

  it('ignores a cursor older than the retention window instead of walking every day since', async () => {
    const { store, clock } = await freshStore(1);
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 'x') }]);
    clock.advance(1);
    const page = await store.readFeed('clicks', '00000000000000000000000000', 10, clock.now());
    expect(page.items).toHaveLength(1);
  });
});

describe('DynamoStore.putEventsOnce', () => {
  it('stores each event once when some are already in the table', async () => {
    const { store, clock } = await freshStore();
    const [a, b] = [click(clock.now(), 'a'), click(clock.now(), 'b', 'OtherTestVisitor012345')];
    await store.putEvents([{ kind: 'clicks', item: a }]);
    expect(await store.putEventsOnce([{ kind: 'clicks', item: a }, { kind: 'clicks', item: b }])).toEqual({ written: 1, present: 1 });
    clock.advance(1);
    expect((await store.readFeed('clicks', null, 100, clock.now())).items.map((c) => c.utm.utm_content).sort()).toEqual(['a', 'b']);
  });

  // A SIGKILL between the embedded store's write of an item and of its index entry leaves the index
  // naming an item the table never got: the index alone must not count as stored.
  it('writes an event the visitor index names but the table does not hold', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 24, 12));
    const client = (await sharedDynamo()).client();
    const store = new DynamoStore({ tableName: `store_${process.pid}_${n++}`, retentionDays: 90, client, clock });
    await store.ensureTable(clock.now());
    const ghost = click(clock.now(), 'ghost');
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        const input = args.input as { IndexName?: string };
        if (context.commandName === 'QueryCommand' && input.IndexName === 'byVisitorKeys') {
          const items = ((out.output as { Items?: unknown[] }).Items ??= []);
          items.push({ pk: `C#2026-11-24#0`, sk: newEventId(clock.now()) });
        }
        return out;
      },
      { step: 'initialize', priority: 'high', name: 'orphanIndexEntry' },
    );
    expect(await store.putEventsOnce([{ kind: 'clicks', item: ghost }])).toEqual({ written: 1, present: 0 });
    clock.advance(1);
    expect((await store.readFeed('clicks', null, 100, clock.now())).items.map((c) => c.id)).toEqual([ghost.id]);
  });
});
