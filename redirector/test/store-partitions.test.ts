/**
 * The feeds' day partitions split in 8 (store/feed-partitions.ts, docs/table.md): where items go, the order a
 * reader merges them in, what an empty read costs in requests, and a table written before the split read and
 * written by this code. Against dynalite through the AWS SDK.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { decodeTime } from 'ulid';
import { afterAll, describe, expect, it } from 'vitest';
import { DAY_MS, utcDay, type Click, type FeedPage, type StripeHint } from '@revtrail/shared';
import { DynamoStore } from '../src/store/dynamo';
import { FEED_SHARDS, shardOf, SPLIT_AFTER_MS } from '../src/store/feed-partitions';
import type { FeedKind } from '../src/store/types';
import { OldCodeTable } from './old-code-table';
import { ManualClock, closeSharedDynamo, sharedDynamo, testClick } from './support';

afterAll(closeSharedDynamo);

let n = 0;
const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);

async function client(): Promise<DynamoDBClient> {
  return (await sharedDynamo()).client();
}

/** Counts the requests a store's client sends, by command. */
function requests(c: DynamoDBClient): { list: string[]; reset(): string[] } {
  const state = { list: [] as string[] };
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { IndexName?: string; Key?: { pk?: unknown }; KeyConditionExpression?: string; ExpressionAttributeValues?: Record<string, unknown> };
      const target = input.Key?.pk ?? input.ExpressionAttributeValues?.[':pk'] ?? '';
      state.list.push(`${(context.commandName ?? '').replace(/Command$/, '')} ${String(target)}`.trim());
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return {
    get list() {
      return state.list;
    },
    reset() {
      const was = state.list;
      state.list = [];
      return was;
    },
  };
}

async function freshStore(at = T0) {
  const clock = new ManualClock(at);
  const c = await client();
  const store = new DynamoStore({ tableName: `parts_${process.pid}_${n++}`, retentionDays: 90, client: c, clock });
  await store.ensureTable(clock.now());
  return { store, clock, client: c, table: store['table'] as string };
}

const click = (at: number, content: string, visitorId = 'PartitionVisitor012345'): Click => testClick(at, content, { visitorId });
const doc = (c: DynamoDBClient) => DynamoDBDocumentClient.from(c, { marshallOptions: { removeUndefinedValues: true } });

/** A click item's event: JSON text in `j` (this code), a map in `e` (the code before it). */
const eventOf = (item: Record<string, unknown>): Click => (typeof item.j === 'string' ? (JSON.parse(item.j) as Click) : (item.e as Click));

async function scanAll(c: DynamoDBClient, table: string): Promise<Record<string, unknown>[]> {
  const out = await doc(c).send(new ScanCommand({ TableName: table }));
  return out.Items ?? [];
}

/** Reads a feed to its end, `limit` a page; every item, and the last cursor. */
async function readAll<K extends FeedKind>(store: DynamoStore, kind: K, cursor: string | null, limit: number, until: number) {
  const items: unknown[] = [];
  let c = cursor;
  for (let guard = 0; guard < 10_000; guard++) {
    const page: FeedPage<unknown> = await store.readFeed(kind, c, limit, until);
    items.push(...page.items);
    if (page.hasMore) expect(page.items).toHaveLength(limit);
    c = page.cursor;
    if (!page.hasMore) return { items, cursor: c };
  }
  throw new Error('the feed did not end');
}

describe('feed partitions split in 8', () => {
  it('spreads one instant\'s appends over the 8 partitions of the day by the append id, none unsplit', async () => {
    const { store, clock, client: c, table } = await freshStore();
    await store.putEvents(Array.from({ length: 400 }, (_, i) => ({ kind: 'clicks' as const, item: click(clock.now(), String(i)) })));
    const items = (await scanAll(c, table)).filter((i) => String(i.pk).startsWith('C#'));
    expect(items).toHaveLength(400);
    const day = utcDay(T0);
    for (const item of items) expect(item.pk).toBe(`C#${day}#${shardOf(String(item.sk))}`);
    const perShard = Array.from({ length: FEED_SHARDS }, (_, s) => items.filter((i) => i.pk === `C#${day}#${s}`).length);
    // 400 over 8 uniformly: 50 each expected; each well away from 0 and from 400.
    for (const count of perShard) expect(count).toBeGreaterThan(20);
    for (const count of perShard) expect(count).toBeLessThan(90);
  });

  it('pages through every partition in append order with small pages, across days, nothing twice or left out', async () => {
    const { store, clock, client: c, table } = await freshStore(Date.UTC(2026, 11, 4, 23, 59, 59, 0));
    for (let i = 0; i < 60; i++) {
      // Several appends within one millisecond (their order there is the append id's random part), then on.
      await store.putEvents(Array.from({ length: 3 }, (_, j) => ({ kind: 'clicks' as const, item: click(clock.now(), `${i}.${j}`) })));
      clock.advance(i === 30 ? DAY_MS : 37);
    }
    clock.advance(1);
    const expected = (await scanAll(c, table))
      .filter((i) => String(i.pk).startsWith('C#'))
      .sort((a, b) => (String(a.sk) < String(b.sk) ? -1 : 1))
      .map((i) => eventOf(i).id);
    expect(new Set((await scanAll(c, table)).filter((i) => String(i.pk).startsWith('C#')).map((i) => String(i.pk).slice(-1))).size).toBe(FEED_SHARDS);
    for (const limit of [1, 7, 64, 1000]) {
      const { items } = await readAll(store, 'clicks', null, limit, clock.now());
      expect((items as Click[]).map((i) => i.id)).toEqual(expected);
    }
  });

  it('reads about what a page returns, not each partition\'s whole page', async () => {
    const { store, clock, client: c } = await freshStore();
    await store.putEvents(Array.from({ length: 1600 }, (_, i) => ({ kind: 'clicks' as const, item: click(clock.now(), String(i)) })));
    clock.advance(10_000);
    let read = 0;
    c.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'QueryCommand') read += ((out.output as { Items?: unknown[] }).Items ?? []).length;
        return out;
      },
      { step: 'initialize', name: 'countItemsRead' },
    );
    let cursor: string | null = null;
    const pages: number[] = [];
    for (let page = 0; page < 4; page++) {
      read = 0;
      const got: FeedPage<Click> = await store.readFeed('clicks', cursor, 200, clock.now());
      expect(got.items).toHaveLength(200);
      cursor = got.cursor;
      pages.push(read);
    }
    // All of one instant, as a journal batch is stamped. Each page of 200 reads its share of each partition and a
    // quarter more, now and then a partition's next chunk; asking each partition for the whole page read 1,600.
    // One millisecond's ids sort by their first random character: a shard taken from it would put a page in
    // two partitions, and each page would read about twice what it returns.
    for (const n of pages) expect(n).toBeLessThan(350);
    for (const n of pages) expect(n).toBeGreaterThanOrEqual(200);
  });

  it('never lets an item appended after a read land behind the cursor it handed out', async () => {
    const { store, clock } = await freshStore();
    const settle = 5000;
    const seen: string[] = [];
    const written: string[] = [];
    let cursor: string | null = null;
    // Appends and reads interleaved as the Lambda and the desktop do them: each read stops `settle` before now.
    for (let round = 0; round < 40; round++) {
      const batch = Array.from({ length: 1 + (round % 5) }, (_, i) => click(clock.now(), `${round}.${i}`));
      await store.putEvents(batch.map((item) => ({ kind: 'clicks' as const, item })));
      written.push(...batch.map((b) => b.id));
      clock.advance(1000 + (round % 3) * 2000);
      const page: { items: unknown[]; cursor: string } = await readAll(store, 'clicks', cursor, 3, clock.now() - settle);
      seen.push(...(page.items as Click[]).map((i) => i.id));
      cursor = page.cursor;
    }
    clock.advance(settle + 1);
    seen.push(...((await readAll(store, 'clicks', cursor, 3, clock.now() - settle)).items as Click[]).map((i) => i.id));
    expect(seen.sort()).toEqual(written.sort());
  });

  it('answers an empty read of an idle feed with the marker alone, and reads the 8 only while the lease runs', async () => {
    const { store, clock, client: c } = await freshStore();
    const sent = requests(c);
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 'a') }]);
    // The first append of this store wrote the lease (a read, then an update); the next ones wrote nothing else.
    expect(sent.reset()).toEqual(['GetItem FEEDS', 'UpdateItem FEEDS', 'PutItem']);
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 'b') }]);
    expect(sent.reset()).toEqual(['PutItem']);

    clock.advance(10_000);
    let { cursor } = await store.readFeed('clicks', null, 100, clock.now() - 5000);
    sent.reset();
    // A poll every 15 s: within the lease each empty read is the marker and the day's 8 partitions.
    clock.advance(15_000);
    cursor = (await store.readFeed('clicks', cursor, 100, clock.now() - 5000)).cursor;
    const day = utcDay(T0);
    expect(sent.reset()).toEqual(['GetItem FEEDS', ...Array.from({ length: 8 }, (_, s) => `Query C#${day}#${s}`)]);
    for (let i = 0; i < 8; i++) {
      clock.advance(15_000);
      cursor = (await store.readFeed('clicks', cursor, 100, clock.now() - 5000)).cursor;
    }
    sent.reset();
    clock.advance(15_000);
    const idle = await store.readFeed('clicks', cursor, 100, clock.now() - 5000);
    expect(idle.items).toEqual([]);
    expect(sent.reset()).toEqual(['GetItem FEEDS']);

    // After a long idle spell, an append extends the lease first, and the next read finds its item.
    clock.advance(3 * 3600_000);
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 'late') }]);
    clock.advance(6000);
    const next = await store.readFeed('clicks', idle.cursor, 100, clock.now() - 5000);
    expect(next.items.map((i) => i.utm.utm_content)).toEqual(['late']);
  });

  it('keeps every stamp inside the lease another instance of the store reads, however the writers\' caches stand', async () => {
    const { store: a, clock, client: c, table } = await freshStore();
    const b = new DynamoStore({ tableName: table, retentionDays: 90, client: c, clock });
    const written: string[] = [];
    let cursor: string | null = null;
    const seen: string[] = [];
    for (let round = 0; round < 30; round++) {
      const writer = round % 3 === 0 ? b : a;
      const item = click(clock.now(), String(round));
      await writer.putEvents([{ kind: 'clicks', item }]);
      written.push(item.id);
      // Pauses around the lease's length: sometimes a writer's cached lease is over, sometimes half used.
      clock.advance([5_000, 31_000, 61_000, 200_000][round % 4]!);
      const reader = round % 2 === 0 ? a : b;
      const page: { items: unknown[]; cursor: string } = await readAll(reader, 'clicks', cursor, 1000, clock.now() - 5000);
      seen.push(...(page.items as Click[]).map((i) => i.id));
      cursor = page.cursor;
    }
    expect(seen).toEqual(written);
    const marker = (await doc(c).send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'FEEDS' } }))).Items!;
    const clicks = marker.find((m) => m.sk === 'C')!;
    const items = (await scanAll(c, table)).filter((i) => String(i.pk).startsWith('C#'));
    for (const item of items) expect(decodeTime(String(item.sk))).toBeLessThan(clicks.activeUntil as number);
  });

  it('purges and erases items in every partition of a day', async () => {
    const { store, clock, client: c, table } = await freshStore();
    const visitor = 'ErasedPartitionVisitor';
    await store.putEvents(Array.from({ length: 40 }, (_, i) => ({ kind: 'clicks' as const, item: click(clock.now(), String(i), i % 2 ? visitor : 'KeptPartitionVisitor01') })));
    const erased = await store.eraseVisitor(visitor, clock.now());
    expect(erased.items).toBe(20);
    clock.advance(91 * DAY_MS);
    store.setRetentionDays(90);
    await store.purgeExpired(clock.now());
    // The clicks and the erasure's own feed item, all appended past the window now.
    expect((await scanAll(c, table)).filter((i) => /^[CX]#/.test(String(i.pk)))).toEqual([]);
  });
});

describe('a table written before the split', () => {
  it('is read as it was, its empty read one unsplit Query more than the marker, until this code appends', async () => {
    const c = await client();
    const old = new OldCodeTable(c);
    await old.create(T0 - 5 * DAY_MS);
    for (let d = 5; d >= 1; d--) await old.putClick(click(T0 - d * DAY_MS, `old-${d}`), T0 - d * DAY_MS);
    const clock = new ManualClock(T0);
    const store = new DynamoStore({ tableName: old.name, retentionDays: 90, client: c, clock });
    const all = await readAll(store, 'clicks', null, 2, clock.now());
    expect((all.items as Click[]).map((i) => i.utm.utm_content)).toEqual(['old-5', 'old-4', 'old-3', 'old-2', 'old-1']);
    const sent = requests(c);
    clock.advance(15_000);
    const empty = await store.readFeed('clicks', all.cursor, 100, clock.now());
    expect(empty.items).toEqual([]);
    // No marker: the code before the split is all that wrote here.
    expect(sent.reset()).toEqual(['GetItem FEEDS', `Query C#${utcDay(T0)}`]);
  });

  it('moves to the 8 partitions SPLIT_AFTER_MS after this code\'s first append, reading across the switch in order, old writers\' late items included', async () => {
    const c = await client();
    const old = new OldCodeTable(c);
    await old.create(T0 - DAY_MS);
    await old.putClick(click(T0 - 3600_000, 'before'), T0 - 3600_000);
    const clock = new ManualClock(T0);
    const store = new DynamoStore({ tableName: old.name, retentionDays: 90, client: c, clock });
    // A desktop's cursor, handed out by the old code before the deploy.
    const first = await readAll(store, 'clicks', null, 100, clock.now() - 5000);
    expect((first.items as Click[]).map((i) => i.utm.utm_content)).toEqual(['before']);

    const written: string[] = [];
    for (let t = 0; t <= SPLIT_AFTER_MS + 120_000; t += 30_000) {
      clock.at = T0 + t;
      await store.putEvents([{ kind: 'clicks', item: click(clock.now(), `new-${t / 1000}`) }]);
      written.push(`new-${t / 1000}`);
      // An instance still running the old code during the deploy, for its first minute.
      if (t <= 60_000) {
        await old.putClick(click(clock.now() + 1, `old-${t / 1000}`), clock.now() + 1);
        written.push(`old-${t / 1000}`);
      }
    }
    const items = (await scanAll(c, old.name)).filter((i) => String(i.pk).startsWith('C#'));
    const split = items.filter((i) => /^C#.*#\d$/.test(String(i.pk)));
    // Appends of this code went unsplit until the split, then to the 8.
    for (const item of items) {
      const at = decodeTime(String(item.sk));
      expect(String(item.pk), eventOf(item).utm.utm_content).toBe(at < T0 + SPLIT_AFTER_MS ? `C#${utcDay(at)}` : `C#${utcDay(at)}#${shardOf(String(item.sk))}`);
    }
    expect(split.length).toBe(5);

    clock.advance(6000);
    const rest = await readAll(store, 'clicks', first.cursor, 3, clock.now() - 5000);
    expect((rest.items as Click[]).map((i) => i.utm.utm_content).sort()).toEqual(written.sort());
    const inOrder = (rest.items as Click[]).map((i) => i.at);
    expect(inOrder).toEqual([...inOrder].sort((a, b) => a - b));
  });

  it('stops reading the unsplit partitions for the days after the split', async () => {
    const c = await client();
    const old = new OldCodeTable(c);
    await old.create(T0 - DAY_MS);
    await old.putClick(click(T0 - 60_000, 'old'), T0 - 60_000);
    const clock = new ManualClock(T0);
    const store = new DynamoStore({ tableName: old.name, retentionDays: 90, client: c, clock });
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 'new') }]);
    clock.at = T0 + 2 * DAY_MS;
    let { cursor } = await readAll(store, 'clicks', null, 100, clock.now() - 5000);
    const sent = requests(c);
    clock.advance(15_000);
    cursor = (await store.readFeed('clicks', cursor, 100, clock.now() - 5000)).cursor;
    expect(sent.reset()).toEqual(['GetItem FEEDS']);
    // Its first read still finds the item of the old code.
    const again = await readAll(store, 'clicks', null, 100, clock.now() - 5000);
    expect((again.items as Click[]).map((i) => i.utm.utm_content)).toEqual(['old', 'new']);
    expect(cursor).toBeTruthy();
  });

  it('recognises a redelivery of a hint the old code kept, and erases it, purges it', async () => {
    const c = await client();
    const old = new OldCodeTable(c);
    await old.create(T0 - DAY_MS);
    const kept = await old.putHint({ eventId: 'evt_oldcode1', eventType: 'charge.succeeded', objectType: 'charge', objectId: 'ch_oldcode1', createdAt: T0 - 7200_000, livemode: false, account: null }, T0 - 3600_000);
    const clock = new ManualClock(T0);
    const store = new DynamoStore({ tableName: old.name, retentionDays: 90, client: c, clock });
    // This code has appended hints since (the marker exists), then Stripe sends the old event again.
    await store.putStripeHint({ eventId: 'evt_newcode1', eventType: 'charge.succeeded', objectType: 'charge', objectId: 'ch_newcode1', createdAt: T0, livemode: false, account: null });
    clock.advance(SPLIT_AFTER_MS + 60_000);
    const again = await new DynamoStore({ tableName: old.name, retentionDays: 90, client: c, clock }).putStripeHint({
      eventId: 'evt_oldcode1', eventType: 'charge.succeeded', objectType: 'charge', objectId: 'ch_oldcode1', createdAt: T0 - 7200_000, livemode: false, account: null,
    });
    expect(again).toBe('duplicate');
    const hints = (await readAll(store, 'stripe-hints', null, 100, clock.now())).items as StripeHint[];
    expect(hints.map((h) => h.eventId)).toEqual(['evt_oldcode1', 'evt_newcode1']);
    expect(hints[0]!.id).toBe(kept.id);
    expect(await store.eraseStripeHints(['ch_oldcode1'], clock.now())).toMatchObject({ hints: 1 });
    expect(((await readAll(store, 'stripe-hints', null, 100, clock.now())).items as StripeHint[]).map((h) => h.eventId)).toEqual(['evt_newcode1']);
  });

  it('is purged, unsplit and split partitions alike', async () => {
    const c = await client();
    const old = new OldCodeTable(c);
    await old.create(T0 - DAY_MS);
    await old.putClick(click(T0 - 60_000, 'old'), T0 - 60_000);
    const clock = new ManualClock(T0 + SPLIT_AFTER_MS);
    const store = new DynamoStore({ tableName: old.name, retentionDays: 90, client: c, clock });
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 'unsplit') }]);
    clock.advance(SPLIT_AFTER_MS);
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 'split') }]);
    const pks = (await scanAll(c, old.name)).filter((i) => String(i.pk).startsWith('C#')).map((i) => String(i.pk));
    expect(pks.filter((pk) => /#\d$/.test(pk))).toHaveLength(1);
    expect(pks.filter((pk) => !/#\d$/.test(pk))).toHaveLength(2);
    clock.advance(92 * DAY_MS);
    expect(await store.purgeExpired(clock.now())).toBe(3);
  });
});
