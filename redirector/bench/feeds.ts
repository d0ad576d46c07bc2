/**
 * npm run bench:feeds — what the table's feeds cost in DynamoDB requests and read units, and how fast the
 * store takes the journal's batches, on dynalite in memory through the AWS SDK. Request counts are exact;
 * read units are DynamoDB's rule applied to what dynalite reports: a strongly consistent Query or GetItem
 * costs at least 1 RRU even when it finds nothing (AWS: "DynamoDB read and write operations"), dynalite
 * says 0 there. Each figure is beside a same-run reference: one Query of one day partition (the read an
 * unsharded feed makes), one BatchWriteItem per 25 items into one partition. It reports; it exits 1 only
 * when the harness fails.
 */
import { cpus, platform, release, arch } from 'node:os';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DAY_MS, newEventId, newSortKey, utcDay, type Click } from '@revtrail/shared';
import { DynamoStore } from '../src/store/dynamo';
import { startEmbeddedDynamo } from '../src/store/embedded';
import type { FeedKind } from '../src/store/types';

/** The sync API's read: 5 s behind now (REVTRAIL_FEED_SETTLE_MS). */
const SETTLE_MS = 5000;
const MONTH_MS = 30 * DAY_MS;
/** us-east-1 on-demand, as redirector/docs/deploy.md's cost table. */
const USD_PER_MILLION_RRU = 0.125;

class Clock {
  constructor(public at: number) {}
  now(): number {
    return this.at;
  }
}

interface Tally {
  requests: number;
  rru: number;
  /** Items the queries returned (read from the table), whatever the page kept of them. */
  items: number;
  byOperation: Record<string, number>;
}

const empty = (): Tally => ({ requests: 0, rru: 0, items: 0, byOperation: {} });

/** Counts every request the client sends and the read units DynamoDB would charge for it. */
function counting(client: ReturnType<Awaited<ReturnType<typeof startEmbeddedDynamo>>['client']>): { tally: Tally; reset(): Tally } {
  const state = { tally: empty() };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ConsistentRead?: boolean; ReturnConsumedCapacity?: string; RequestItems?: Record<string, { ConsistentRead?: boolean }> };
      const read = ['QueryCommand', 'GetItemCommand', 'BatchGetItemCommand'].includes(context.commandName ?? '');
      if (read) input.ReturnConsumedCapacity = 'TOTAL';
      const out = await next(args);
      const t = state.tally;
      t.requests += 1;
      const op = (context.commandName ?? '?').replace(/Command$/, '');
      t.byOperation[op] = (t.byOperation[op] ?? 0) + 1;
      if (context.commandName === 'QueryCommand') t.items += ((out.output as { Items?: unknown[] }).Items ?? []).length;
      if (read) {
        const consistent = input.ConsistentRead ?? Object.values(input.RequestItems ?? {})[0]?.ConsistentRead ?? false;
        const consumed = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
        const units = Array.isArray(consumed) ? consumed.reduce((s, c) => s + (c.CapacityUnits ?? 0), 0) : (consumed?.CapacityUnits ?? 0);
        t.rru += Math.max(units, consistent ? 1 : 0.5);
      }
      return out;
    },
    { step: 'initialize', name: 'benchCounter' },
  );
  return {
    tally: state.tally,
    reset() {
      const was = state.tally;
      state.tally = empty();
      this.tally = state.tally;
      return was;
    },
  };
}

function click(at: number, i: number): Click {
  return {
    id: newEventId(at),
    slug: 'spring',
    at,
    visitorId: `BenchVisitor${String(i % 1000).padStart(10, '0')}`,
    referrerHost: 'news.example',
    referrerUrl: 'https://news.example/a',
    device: 'desktop',
    browser: 'Chrome',
    os: 'macOS',
    country: 'DE',
    ipHash: '0123456789abcdef0123456789abcdef',
    clickIds: {},
    utm: { utm_source: 'bench', utm_content: String(i) },
    bot: false,
    botReason: null,
    duplicate: false,
    channel: 'Newsletter',
    campaign: null,
    partnerId: null,
  };
}

async function main(): Promise<void> {
  const dynamo = await startEmbeddedDynamo();
  const client = dynamo.client();
  const counter = counting(client);
  const doc = DynamoDBDocumentClient.from(client);
  let n = 0;
  const fresh = async (start: number) => {
    const clock = new Clock(start);
    const store = new DynamoStore({ tableName: `bench_${n++}`, retentionDays: 90, client, clock });
    await store.ensureTable(clock.now());
    return { store, clock };
  };
  /** Reads until the end, as the desktop does; the tally of the last (empty) read. */
  const drain = async (store: DynamoStore, kind: FeedKind, cursor: string | null, now: number) => {
    let c = cursor;
    for (;;) {
      const page = await store.readFeed(kind, c, 1000, now - SETTLE_MS);
      c = page.cursor;
      if (!page.hasMore) return c;
    }
  };
  const measure = async <T>(run: () => Promise<T>): Promise<{ value: T; tally: Tally }> => {
    counter.reset();
    const value = await run();
    return { value, tally: counter.reset() };
  };

  const figures: Record<string, { requests: number; rru: number; items?: number; note: string }> = {};
  const start = Date.UTC(2026, 11, 4, 10, 0, 0);

  // Reference: one strongly consistent Query of one day partition, as an unsharded feed's empty read.
  {
    const { store, clock } = await fresh(start);
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 0) }]);
    const { tally } = await measure(() =>
      doc.send(new QueryCommand({ TableName: `bench_${n - 1}`, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `C#${utcDay(clock.now())}#none` }, ConsistentRead: true })),
    );
    figures['reference: one Query of one day partition'] = { ...tally, note: 'what an unsplit empty read costs' };
  }

  /** Reads every 15 s from `from` to `to` (the desktop's hint poll); the cursor after, and the tally of the last read. */
  const pollUntil = async (store: DynamoStore, clock: Clock, cursor: string, to: number) => {
    let c = cursor;
    let tally = empty();
    for (; clock.at <= to; clock.at += 15_000) {
      const { value, tally: t } = await measure(() => store.readFeed('clicks', c, 1000, clock.now() - SETTLE_MS));
      c = value.cursor;
      tally = t;
    }
    return { cursor: c, tally };
  };

  // An idle feed polled every 15 s: everything read, nothing written for 10 minutes, then across midnight.
  {
    const { store, clock } = await fresh(start);
    await store.putEvents(Array.from({ length: 100 }, (_, i) => ({ kind: 'clicks' as const, item: click(clock.now(), i) })));
    const idle = await pollUntil(store, clock, await drain(store, 'clicks', null, clock.now()), start + 10 * 60_000);
    figures['empty read, nothing written for 10 min'] = { ...idle.tally, note: '' };
    clock.at = Date.UTC(2026, 11, 4, 23, 59, 0);
    const midnight = await pollUntil(store, clock, idle.cursor, Date.UTC(2026, 11, 5, 0, 0, 20));
    figures['the same, its cursor before midnight'] = { ...midnight.tally, note: '' };
  }

  // A feed written a moment ago, polled every 15 s.
  {
    const { store, clock } = await fresh(start);
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 0) }]);
    const { tally } = await pollUntil(store, clock, await drain(store, 'clicks', null, clock.now()), start + 30_000);
    figures['empty read, last write 30 s ago'] = { ...tally, note: '' };
    clock.at = Date.UTC(2026, 11, 4, 23, 59, 45);
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 1) }]);
    const midnight = await pollUntil(store, clock, await drain(store, 'clicks', null, clock.now()), Date.UTC(2026, 11, 5, 0, 0, 20));
    figures['written 30 s ago, its cursor before midnight'] = { ...midnight.tally, note: '' };
  }

  // The desktop's hint poll for an hour (every 15 s) while a hint arrives every 10 minutes.
  {
    const { store, clock } = await fresh(start);
    let cursor: string | null = await drain(store, 'stripe-hints', null, clock.now());
    const total = empty();
    let seen = 0;
    for (let t = 0; t < 3600_000; t += 15_000) {
      clock.at = start + t;
      if (t % 600_000 === 0) {
        await store.putStripeHint({ eventId: `evt_bench${t}`, eventType: 'charge.succeeded', objectType: 'charge', objectId: `ch_bench${t}`, createdAt: clock.now(), livemode: false, account: null });
      }
      const { value, tally } = await measure(async () => {
        const page = await store.readFeed('stripe-hints', cursor, 100, clock.now() - SETTLE_MS);
        return page;
      });
      seen += value.items.length;
      cursor = value.cursor;
      total.requests += tally.requests;
      total.rru += tally.rru;
    }
    const polls = 3600_000 / 15_000;
    if (seen !== 6) throw new Error(`the hint poll saw ${seen} hints, 6 were written`);
    figures['hint poll, per read (hour, a hint every 10 min)'] = { requests: total.requests / polls, rru: total.rru / polls, note: `${polls} reads` };
    const perMonth = (total.rru / 3600_000) * MONTH_MS;
    figures['hint poll, per month'] = { requests: (total.requests / 3600_000) * MONTH_MS, rru: perMonth, note: `$${((perMonth / 1e6) * USD_PER_MILLION_RRU).toFixed(3)} at $${USD_PER_MILLION_RRU}/M RRU` };
  }

  // A first read of 3,000 clicks over three days, 1,000 a page.
  {
    const { store, clock } = await fresh(start);
    for (let d = 0; d < 3; d++) {
      await store.putEvents(Array.from({ length: 1000 }, (_, i) => ({ kind: 'clicks' as const, item: click(clock.now(), i) })));
      clock.at += DAY_MS;
    }
    const { tally } = await measure(() => drain(store, 'clicks', null, clock.now()));
    figures['first read of 3,000 clicks over 3 days'] = { ...tally, note: 'pages of 1,000; reference: 3,000 items read' };
  }

  // A page of 1,000 out of 8,000 clicks of one instant (a journal batch stamps its events at one time).
  {
    const { store, clock } = await fresh(start);
    await store.putEvents(Array.from({ length: 8000 }, (_, i) => ({ kind: 'clicks' as const, item: click(clock.now(), i) })));
    clock.at += 10_000;
    const { tally } = await measure(() => store.readFeed('clicks', null, 1000, clock.now() - SETTLE_MS));
    figures['a page of 1,000 out of 8,000 clicks'] = { ...tally, note: 'reference: 1,000 items read' };
  }

  // The journal's ingest: 100 events a putEvents call, against BatchWriteItem of the same items into one partition.
  const writes: Record<string, number> = {};
  {
    const batches = 100;
    const { store, clock } = await fresh(start);
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) await store.putEvents(Array.from({ length: 100 }, (_, i) => ({ kind: 'clicks' as const, item: click(clock.now(), b * 100 + i) })));
    writes['putEvents, events/s'] = (batches * 100) / ((performance.now() - t0) / 1000);
    const table = `bench_${n - 1}`;
    const t1 = performance.now();
    for (let b = 0; b < batches; b++) {
      const items = Array.from({ length: 100 }, (_, i) => {
        const sk = newSortKey(clock.now());
        const e = click(clock.now(), b * 100 + i);
        return { pk: `R#${utcDay(clock.now())}`, sk, e, gsi1pk: `V#${e.visitorId}`, gsi1sk: sk, expiresAt: 0 };
      });
      for (let i = 0; i < items.length; i += 25) {
        await doc.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
      }
    }
    writes['reference: BatchWriteItem, events/s'] = (batches * 100) / ((performance.now() - t1) / 1000);
  }

  client.destroy();
  await dynamo.close();

  const cpu = cpus();
  console.log(`\nRevtrail feed reads and writes  ${new Date().toISOString()}  (${cpu.length} x ${cpu[0]?.model ?? '?'}, ${platform()} ${release()} ${arch()}, node ${process.version})\n`);
  console.log(`  ${'read'.padEnd(50)}${'requests'.padStart(10)}${'RRU'.padStart(12)}${'items read'.padStart(12)}`);
  for (const [name, f] of Object.entries(figures)) {
    const r = Number.isInteger(f.requests) ? String(f.requests) : f.requests.toFixed(2);
    const u = Number.isInteger(f.rru) ? String(f.rru) : f.rru.toFixed(2);
    console.log(`  ${name.padEnd(50)}${r.padStart(10)}${u.padStart(12)}${String(f.items ?? '').padStart(12)}   ${f.note}`.trimEnd());
  }
  console.log('');
  for (const [name, v] of Object.entries(writes)) console.log(`  ${name.padEnd(50)}${Math.round(v).toLocaleString('en-US').padStart(10)}`);
  console.log('');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
