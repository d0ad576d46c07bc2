import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  UpdateTableCommand,
  type DynamoDBClientConfig,
  type GlobalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { decodeTime, encodeTime } from 'ulid';
import {
  DAY_MS,
  newEventId,
  newSortKey,
  systemClock,
  type Clock,
  toEpochSeconds,
  utcDay,
  utcDayStart,
  type Click,
  type Erasure,
  type FeedPage,
  type Identity,
  type Link,
  type Pageview,
} from '@revtrail/shared';
import { erasureDigest, feedErasure } from './erasures';
import { CLOCK_SKEW_MS, dayPartitions, daysBetween, FeedActivity, partitionsToRead } from './feed-partitions';
import { HINT_FEED_PREFIX, StripeHintTable } from './stripe-hints';
import { TELEGRAM_PAYMENT_FEED_PREFIX, TELEGRAM_START_FEED_PREFIX, TelegramTable } from './telegram';
import type {
  EraseResult,
  EventRecord,
  FeedItemOf,
  FeedKind,
  HintOutcome,
  PersonKey,
  PersonPage,
  Store,
  StoredSettings,
  StripeHintInput,
  WebhookCounts,
  WriteOptions,
} from './types';

/** Partition prefix of each feed; a feed's items are partitioned by the UTC day of their append id, in 8 (feed-partitions.ts). */
const FEED_PREFIX: Record<FeedKind, string> = {
  clicks: 'C',
  pageviews: 'P',
  identities: 'I',
  erasures: 'X',
  'stripe-hints': HINT_FEED_PREFIX,
  'telegram-starts': TELEGRAM_START_FEED_PREFIX,
  'telegram-payments': TELEGRAM_PAYMENT_FEED_PREFIX,
};
const LINK_PK = 'LINK';
const META_PK = 'META';
/** Digests of erased visitors and email hashes (store/erasures.ts): one partition, read whole in one query. */
const ERASED_PK = 'ERASED';
const BATCH_MAX = 25;
/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_MAX = 100;
/**
 * The visitor index the code reads: keys only (the table's and its own), so a click's index entry is ~100
 * bytes where byVisitor, projecting everything, copies the whole item. Reads take the keys from it and the
 * items from the table (BatchGetItem). DynamoDB cannot change an index's projection, so it is a second index
 * beside byVisitor, which tables made before it still have: ensureTable drops it from local tables once this
 * one is built, sst.config.ts in a later release (docs/table.md, "Indexes").
 */
export const VISITOR_INDEX = 'byVisitorKeys';
/** The visitor index of tables made before VISITOR_INDEX, projecting everything. */
export const OLD_VISITOR_INDEX = 'byVisitor';
/** The table's global indexes as sst.config.ts declares them (less OLD_VISITOR_INDEX, which it still keeps). */
export const TABLE_INDEXES: GlobalSecondaryIndex[] = [
  {
    IndexName: VISITOR_INDEX,
    KeySchema: [
      { AttributeName: 'gsi1pk', KeyType: 'HASH' },
      { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'KEYS_ONLY' },
  },
  {
    IndexName: 'byEmail',
    KeySchema: [
      { AttributeName: 'gsi2pk', KeyType: 'HASH' },
      { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  },
];
/** The highest ULID random part: `${encodeTime(t)}${RANDOM_MAX}` is the last id of millisecond t. */
const RANDOM_MAX = 'Z'.repeat(16);
const RANDOM_MIN = '0'.repeat(16);
/**
 * The visitor index key of an event: its visitor, or for an anonymous click (no visitor) its own id, so that
 * putEventsOnce can still find it and no index partition gathers every anonymous click.
 */
function visitorKey(item: { id: string; visitorId: string | null }): string {
  return item.visitorId === null ? `A#${item.id}` : `V#${item.visitorId}`;
}

export interface DynamoStoreOptions {
  tableName: string;
  retentionDays: number;
  client?: DynamoDBClient;
  clientConfig?: DynamoDBClientConfig;
  /** Stamps append ids; tests pass their own. */
  clock?: Clock;
}

/**
 * The attribute holding an event appended by this code: its JSON text, one string. Items written before it hold
 * the event as a map in `e` (as the Stripe hint and Telegram feeds still do), which every reader here still
 * takes: eventOf and eventJsonOf read either shape. One string is what a feed read returns as it is: the store
 * keeps, sends and the SDK unmarshals one value per event instead of a typed value per field (a click's map was
 * ~20 of them), and the sync API passes the text on without parsing it (readFeedJson).
 */
const EVENT_JSON = 'j';

interface FeedRow {
  sk: string;
  j?: string;
  e?: unknown;
}

/** The event an item holds, in either shape (EVENT_JSON). */
function eventOf<T>(row: { j?: unknown; e?: unknown }): T {
  return (typeof row.j === 'string' ? JSON.parse(row.j) : row.e) as T;
}

/** The event an item holds as JSON text, in either shape. */
/**
 * A feed page's JSON texts at most, in UTF-16 units: at most 3 bytes of UTF-8 each, so 4.5 MB with room under a
 * Lambda's 6 MB answer. Clicks are ~300 characters, so a page of 5,000 is far below it.
 */
export const FEED_PAGE_CHARS = 1_500_000;

function eventJsonOf(row: { j?: unknown; e?: unknown }): string {
  return typeof row.j === 'string' ? row.j : JSON.stringify(row.e);
}

/**
 * The single-table DynamoDB store (docs/table.md). Feeds are append-only: each appended item gets an
 * append id (ULID at write time) as its sort key, so replayed or late events land after every cursor
 * already handed out instead of behind it.
 */
export class DynamoStore implements Store {
  readonly client: DynamoDBClient;
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private retentionMs: number;
  private readonly clock: Clock;
  private readonly hints: StripeHintTable;
  private readonly activity: FeedActivity;
  readonly telegram: TelegramTable;

  constructor(opts: DynamoStoreOptions) {
    this.client = opts.client ?? new DynamoDBClient(opts.clientConfig ?? {});
    // The SDK's logger middleware filters every request and response for sensitive fields (walking each item's
    // attributes) before it hands them to the logger, even to its no-op one: a tenth of a feed read's CPU. Left
    // out unless a real logger was configured (lib-dynamodb tells the no-op one by the same name).
    if (this.client.config.logger?.constructor?.name.includes('NoOp') !== false) this.client.middlewareStack.remove('loggerMiddleware');
    this.doc = DynamoDBDocumentClient.from(this.client, {
      marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
    });
    this.table = opts.tableName;
    this.retentionMs = opts.retentionDays * DAY_MS;
    this.clock = opts.clock ?? systemClock;
    this.activity = new FeedActivity({ doc: this.doc, table: this.table, clock: this.clock });
    this.hints = new StripeHintTable({
      doc: this.doc,
      table: this.table,
      clock: this.clock,
      retentionMs: () => this.retentionMs,
      appendTime: () => this.activity.stampTime([FEED_PREFIX['stripe-hints']]),
      feedPartition: (id) => this.activity.partitionOfAny(FEED_PREFIX['stripe-hints'], id),
      queryAll: (input) => this.queryAll(input),
      batchWrite: (requests) => this.batchWrite(requests),
    });
    this.telegram = new TelegramTable({
      doc: this.doc,
      table: this.table,
      clock: this.clock,
      retentionMs: () => this.retentionMs,
      appendTime: (prefix) => this.activity.stampTime([prefix]),
      feedPartition: (prefix, id) => this.activity.partitionOfAny(prefix, id),
      queryAll: (input) => this.queryAll(input),
      batchWrite: (requests) => this.batchWrite(requests),
    });
  }

  async getLink(slug: string, opts?: WriteOptions): Promise<Link | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: LINK_PK, sk: slug }, ConsistentRead: true }),
      { abortSignal: opts?.signal },
    );
    return (out.Item?.link as Link | undefined) ?? null;
  }

  async listLinks(): Promise<Link[]> {
    const rows = await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': LINK_PK },
    });
    return rows.map((r) => r.link as Link);
  }

  async putLink(link: Link): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: LINK_PK, sk: link.slug, link } }));
  }

  async putEvents(records: EventRecord[], opts?: WriteOptions): Promise<void> {
    if (records.length === 0) return;
    const now = await this.activity.stampTime([...new Set(records.map((r) => FEED_PREFIX[r.kind]))], opts?.signal);
    // Past its budget the write is abandoned (the click spilled): it must not land after all.
    opts?.signal?.throwIfAborted();
    // A bot link's click lands with its start token's item, on whichever path it takes (inline, spill, journal).
    const items = [...records.map((r) => this.feedItem(r, now)), ...this.telegram.tokenItems(records)];
    if (items.length === 1) {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: items[0] }), { abortSignal: opts?.signal });
      return;
    }
    await this.batchWrite(items.map((Item) => ({ PutRequest: { Item } })), opts?.signal);
  }

  async putEventsOnce(records: EventRecord[]): Promise<{ written: number; present: number }> {
    const present = await this.storedEventIds(records);
    const missing = records.filter((r) => !present.has(r.item.id));
    await this.putEvents(missing);
    return { written: missing.length, present: records.length - missing.length };
  }

  /**
   * Which of these events the table holds, found through the visitor index: every event has a visitor,
   * and it was appended at or after it happened, so one short query per visitor covers it. The index
   * trails the table by a moment in AWS; a retry comes far later than that.
   */
  private async storedEventIds(records: EventRecord[]): Promise<Set<string>> {
    const wanted = new Set(records.map((r) => r.item.id));
    const since = new Map<string, number>();
    for (const { item } of records) {
      const key = visitorKey(item);
      since.set(key, Math.min(since.get(key) ?? item.at, item.at));
    }
    const keys = (
      await Promise.all(
        [...since].map(([key, at]) =>
          this.queryAll({
            TableName: this.table,
            IndexName: VISITOR_INDEX,
            KeyConditionExpression: 'gsi1pk = :v AND gsi1sk >= :from',
            ExpressionAttributeValues: { ':v': key, ':from': encodeTime(Math.max(0, at - CLOCK_SKEW_MS), 10) },
            ProjectionExpression: 'pk, sk',
          }),
        ),
      )
    ).flat();
    // The items themselves, read consistently. An index entry alone is not enough: the embedded store writes
    // an item and its index entries separately, so a process killed in between leaves an index entry for an
    // item that was never stored (the fault suite's SIGKILL rows found two such clicks skipped as "already
    // stored"). Only a retried chunk gets here, and a visitor has few items since the event.
    const items = await this.getItems(keys.map((k) => ({ pk: k.pk as string, sk: k.sk as string })), { consistent: true, projection: `e.id, ${EVENT_JSON}` });
    const found = new Set<string>();
    for (const row of items) {
      const id = row ? eventOf<{ id?: string } | undefined>(row)?.id : undefined;
      if (id !== undefined && wanted.has(id)) found.add(id);
    }
    return found;
  }

  /**
   * BatchGetItem, 100 keys a request, unprocessed keys retried with backoff: the items in the order of
   * `keys`, undefined where the table has none (deleted since the index named it).
   */
  private async getItems(
    keys: { pk: string; sk: string }[],
    opts: { consistent: boolean; projection?: string },
  ): Promise<(Record<string, unknown> | undefined)[]> {
    const byKey = new Map<string, Record<string, unknown>>();
    const id = (k: { pk: unknown; sk: unknown }) => `${String(k.pk)}\u0000${String(k.sk)}`;
    const unique = [...new Map(keys.map((k) => [id(k), { pk: k.pk, sk: k.sk }])).values()];
    // The keys are always read, to place each answer: a projection names what else is wanted.
    const projection = opts.projection ? `pk, sk, ${opts.projection}` : undefined;
    for (let i = 0; i < unique.length; i += BATCH_GET_MAX) {
      let pending: Record<string, unknown>[] = unique.slice(i, i + BATCH_GET_MAX);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 8) throw new Error(`DynamoDB left ${pending.length} reads unprocessed after ${attempt} attempts`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: opts.consistent, ProjectionExpression: projection } } }),
        );
        for (const row of out.Responses?.[this.table] ?? []) byKey.set(id(row as { pk: unknown; sk: unknown }), row);
        pending = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return keys.map((k) => byKey.get(id(k)));
  }

  private feedItem(r: EventRecord | { kind: 'erasures'; item: Erasure }, now: number): Record<string, unknown> {
    // Order within one millisecond does not matter to readers; a time in the future would.
    const seq = newSortKey(now);
    const item: Record<string, unknown> = {
      pk: this.activity.partitionOf(FEED_PREFIX[r.kind], seq),
      sk: seq,
      [EVENT_JSON]: JSON.stringify(r.item),
      expiresAt: toEpochSeconds(now + this.retentionMs),
    };
    if (r.kind !== 'erasures') {
      item.gsi1pk = visitorKey(r.item);
      item.gsi1sk = seq;
    }
    if (r.kind === 'identities') {
      item.gsi2pk = `E#${r.item.emailHash}`;
      item.gsi2sk = seq;
    }
    return item;
  }

  /**
   * Reads the day partitions from the cursor's day on, each day's (the unsplit one, or the 8 shards, or both
   * around the split: feed-partitions.ts) merged by sort key: the next item is always the smallest head of
   * the day's partitions, each of which is read on, a chunk at a time, whenever its chunk is used up before
   * the page is full. So the page is the feed's next items whichever partition holds them, and the cursor, the
   * last sort key returned, orders against every partition alike.
   */
  async readFeed<K extends FeedKind>(kind: K, cursor: string | null, limit: number, until: number): Promise<FeedPage<FeedItemOf[K]>> {
    const page = await this.readFeedRows(kind, cursor, limit, until);
    return { ...page, items: page.items.map((row) => eventOf<FeedItemOf[K]>(row)) };
  }

  /**
   * The page's items as JSON texts, cut short (hasMore, the cursor at the last item kept) once they pass
   * FEED_PAGE_CHARS: a Lambda's answer is at most 6 MB, and a page of 5,000 long pageview URLs would pass it.
   */
  async readFeedJson(kind: FeedKind, cursor: string | null, limit: number, until: number): Promise<FeedPage<string>> {
    const page = await this.readFeedRows(kind, cursor, limit, until);
    const items: string[] = [];
    let chars = 0;
    for (const row of page.items) {
      const json = eventJsonOf(row);
      if (items.length > 0 && chars + json.length > FEED_PAGE_CHARS) return { items, cursor: page.items[items.length - 1]!.sk, hasMore: true };
      items.push(json);
      chars += json.length + 1;
    }
    return { ...page, items };
  }

  private async readFeedRows(kind: FeedKind, cursor: string | null, limit: number, until: number): Promise<FeedPage<FeedRow>> {
    const upper = `${encodeTime(Math.max(0, until - 1), 10)}${RANDOM_MAX}`;
    // Nothing older than the retention window (plus a day of slack) can still be in the table.
    const oldest = `${encodeTime(Math.max(0, until - this.retentionMs - DAY_MS), 10)}${RANDOM_MIN}`;
    let lower = cursor === null || cursor < oldest ? oldest : `${cursor}0`;
    if (lower > upper) return { items: [], cursor: cursor ?? upper, hasMore: false };

    const prefix = FEED_PREFIX[kind];
    const marker = await this.activity.marker(prefix);
    const items: FeedRow[] = [];
    let last: string | null = null;
    for (const day of daysBetween(decodeTime(lower.slice(0, 26)), until - 1)) {
      if (items.length >= limit) break;
      const pks = partitionsToRead(prefix, day, marker, decodeTime(lower.slice(0, 26)));
      if (pks.length === 0) continue;
      // Appends spread evenly over the 8 (by a hash of their ids), so a partition's share of what the page
      // still needs varies by about its square root: each read is that share and three square roots more
      // (~1.12 times what a page of 5,000 returns; each partition asked for the whole page would read 8 times,
      // and what a page reads but does not return is read again by the next). A partition used up before the
      // page is full is read on for its share of what is still missing, not a whole first chunk again.
      const chunkFor = () => {
        const share = (limit - items.length) / pks.length;
        return Math.ceil(share + 3 * Math.sqrt(share)) + 2;
      };
      const parts = pks.map((pk) => ({ pk, rows: [] as FeedRow[], next: 0, startKey: undefined as Record<string, unknown> | undefined, done: false }));
      const read = async (part: (typeof parts)[number]) => {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
            ExpressionAttributeValues: { ':pk': part.pk, ':lo': lower, ':hi': upper },
            Limit: chunkFor(),
            ExclusiveStartKey: part.startKey,
            ConsistentRead: true,
            // The sort key and the event, in either shape: not the partition, index keys or expiry.
            ProjectionExpression: `sk, ${EVENT_JSON}, e`,
          }),
        );
        part.rows = (out.Items ?? []) as FeedRow[];
        part.next = 0;
        part.startKey = out.LastEvaluatedKey;
        part.done = !out.LastEvaluatedKey;
      };
      while (items.length < limit) {
        // Every partition not read to its end has a head before the smallest is taken.
        const drained = parts.filter((p) => p.next === p.rows.length && !p.done);
        if (drained.length > 0) {
          await Promise.all(drained.map(read));
          continue;
        }
        let head: (typeof parts)[number] | null = null;
        for (const p of parts) if (p.next < p.rows.length && (head === null || p.rows[p.next]!.sk < head.rows[head.next]!.sk)) head = p;
        if (head === null) break; // the day is read
        const row = head.rows[head.next++]!;
        items.push(row);
        last = row.sk;
      }
      if (last !== null) lower = `${last}0`;
    }
    if (items.length >= limit && last !== null) return { items, cursor: last, hasMore: true };
    // Everything up to `upper` has been read: the next read starts after it.
    return { items, cursor: upper, hasMore: false };
  }

  async eraseVisitor(visitorId: string, at: number): Promise<EraseResult> {
    const items = await this.deleteIndexed(VISITOR_INDEX, 'gsi1pk', `V#${visitorId}`);
    await this.appendErasure(feedErasure({ visitorId }, newEventId(at), at));
    return { visitors: 1, items, visitorIds: [visitorId] };
  }

  async eraseEmailHash(emailHash: string, at: number, found?: (visitorIds: string[]) => Promise<void>): Promise<EraseResult> {
    const identities = await this.queryAll({
      TableName: this.table,
      IndexName: 'byEmail',
      KeyConditionExpression: 'gsi2pk = :k',
      ExpressionAttributeValues: { ':k': `E#${emailHash}` },
    });
    const visitors = new Set(identities.map((r) => eventOf<Identity>(r).visitorId));
    await found?.([...visitors]);
    let items = 0;
    for (const visitorId of visitors) items += (await this.eraseVisitor(visitorId, at)).items;
    await this.appendErasure(feedErasure({ emailHash }, newEventId(at), at));
    return { visitors: visitors.size, items, visitorIds: [...visitors] };
  }

  async markErased(keys: PersonKey[], at: number): Promise<void> {
    // Kept as long as events: an event older than the retention window is never stored anyway.
    const expiresAt = toEpochSeconds(at + this.retentionMs);
    await this.batchWrite(keys.map((key) => ({ PutRequest: { Item: { pk: ERASED_PK, sk: erasureDigest(key), at, expiresAt } } })));
  }

  async erasedDigests(): Promise<Set<string>> {
    const rows = await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': ERASED_PK },
      ProjectionExpression: 'sk',
      ConsistentRead: true,
    });
    return new Set(rows.map((r) => r.sk as string));
  }

  async person(key: PersonKey, cursor: string | null, limit: number): Promise<PersonPage> {
    const ofIdentities = { FilterExpression: 'begins_with(pk, :i)', ExpressionAttributeValues: { ':i': `${FEED_PREFIX.identities}#` } };
    const byEmail =
      'emailHash' in key
        ? (
            await this.queryAll({
              TableName: this.table,
              IndexName: 'byEmail',
              KeyConditionExpression: 'gsi2pk = :k',
              ...ofIdentities,
              ExpressionAttributeValues: { ...ofIdentities.ExpressionAttributeValues, ':k': `E#${key.emailHash}` },
            })
          ).map((r) => eventOf<Identity>(r))
        : [];
    const visitorIds = 'visitorId' in key ? [key.visitorId] : [...new Set(byEmail.map((i) => i.visitorId))].sort();
    const identities = new Map<string, Identity>(byEmail.map((i) => [i.id, i]));
    for (const v of visitorIds) {
      const keys = await this.queryAll({
        TableName: this.table,
        IndexName: VISITOR_INDEX,
        KeyConditionExpression: 'gsi1pk = :k',
        ...ofIdentities,
        ExpressionAttributeValues: { ...ofIdentities.ExpressionAttributeValues, ':k': `V#${v}` },
      });
      const rows = await this.getItems(keys.map((k) => ({ pk: k.pk as string, sk: k.sk as string })), { consistent: false });
      for (const row of rows) {
        if (!row) continue;
        const identity = eventOf<Identity>(row);
        identities.set(identity.id, identity);
      }
    }
    const emailHashes = [...new Set([...identities.values()].map((i) => i.emailHash))].sort();

    const counts = { clicks: 0, pageviews: 0, identities: identities.size };
    for (const v of visitorIds) {
      for (const kind of ['clicks', 'pageviews'] as const) counts[kind] += await this.countIndexed(`V#${v}`, `${FEED_PREFIX[kind]}#`);
    }

    // Clicks and pageviews, visitor by visitor in append order; the cursor is `<visitor index>.<last append id>`.
    // The index gives the page's keys, the table its items.
    const page = { clicks: [] as Click[], pageviews: [] as Pageview[] };
    const [from = 0, after = null] = cursor ? [Number(cursor.slice(0, cursor.indexOf('.'))), cursor.slice(cursor.indexOf('.') + 1)] : [];
    const keys: { pk: string; sk: string }[] = [];
    let next: string | null = null;
    for (let v = from; v < visitorIds.length && next === null; v++) {
      let startKey: Record<string, unknown> | undefined;
      let last = v === from ? after : null;
      do {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: VISITOR_INDEX,
            KeyConditionExpression: last ? 'gsi1pk = :k AND gsi1sk > :after' : 'gsi1pk = :k',
            FilterExpression: 'begins_with(pk, :c) OR begins_with(pk, :p)',
            ExpressionAttributeValues: {
              ':k': `V#${visitorIds[v]}`,
              ':c': `${FEED_PREFIX.clicks}#`,
              ':p': `${FEED_PREFIX.pageviews}#`,
              ...(last ? { ':after': last } : {}),
            },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const row of out.Items ?? []) {
          if (keys.length === limit) {
            next = `${v}.${last ?? ''}`;
            break;
          }
          keys.push({ pk: row.pk as string, sk: row.sk as string });
          last = row.gsi1sk as string;
        }
        startKey = out.LastEvaluatedKey;
      } while (startKey && next === null);
    }
    for (const row of await this.getItems(keys, { consistent: false })) {
      if (!row) continue; // erased since the index named it
      if (String(row.pk).startsWith(`${FEED_PREFIX.clicks}#`)) page.clicks.push(eventOf<Click>(row));
      else page.pageviews.push(eventOf<Pageview>(row));
    }
    return { visitorIds, emailHashes, counts, ...page, identities: [...identities.values()].sort((a, b) => a.at - b.at), cursor: next };
  }

  private async countIndexed(key: string, prefix: string): Promise<number> {
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: VISITOR_INDEX,
          KeyConditionExpression: 'gsi1pk = :k',
          FilterExpression: 'begins_with(pk, :p)',
          ExpressionAttributeValues: { ':k': key, ':p': prefix },
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      );
      count += out.Count ?? 0;
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return count;
  }

  get retentionDays(): number {
    return Math.round(this.retentionMs / DAY_MS);
  }

  setRetentionDays(days: number): void {
    this.retentionMs = days * DAY_MS;
  }

  async getSettings(): Promise<StoredSettings> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: META_PK, sk: 'settings' }, ConsistentRead: true }));
    const days = out.Item?.retentionDays;
    return typeof days === 'number' ? { retentionDays: days } : {};
  }

  async putSettings(settings: StoredSettings): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: META_PK, sk: 'settings', ...settings } }));
  }

  private async appendErasure(erasure: Erasure): Promise<void> {
    const now = await this.activity.stampTime([FEED_PREFIX.erasures]);
    await this.doc.send(new PutCommand({ TableName: this.table, Item: this.feedItem({ kind: 'erasures', item: erasure }, now) }));
  }

  private async deleteIndexed(index: string, keyAttr: string, key: string): Promise<number> {
    let deleted = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: index,
          KeyConditionExpression: `${keyAttr} = :k`,
          ExpressionAttributeValues: { ':k': key },
          ProjectionExpression: 'pk, sk',
          ExclusiveStartKey: startKey,
        }),
      );
      const keys = (out.Items ?? []).map((r) => ({ DeleteRequest: { Key: { pk: r.pk, sk: r.sk } } }));
      await this.batchWrite(keys);
      deleted += keys.length;
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return deleted;
  }

  async purgeExpired(now: number): Promise<number> {
    const cutoffDay = utcDayStart(utcDay(now - this.retentionMs));
    const meta = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: META_PK, sk: 'purge' } }));
    const created = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: META_PK, sk: 'created' } }));
    const createdAt = (created.Item?.at as number | undefined) ?? cutoffDay - 30 * DAY_MS;
    let day = (meta.Item?.nextDay as number | undefined) ?? utcDayStart(utcDay(createdAt));
    let deleted = 0;
    for (; day < cutoffDay; day += DAY_MS) {
      for (const pk of Object.values(FEED_PREFIX).flatMap((prefix) => dayPartitions(prefix, day))) {
        const rows = await this.queryAll({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ProjectionExpression: 'pk, sk',
        });
        await this.batchWrite(rows.map((r) => ({ DeleteRequest: { Key: { pk: r.pk, sk: r.sk } } })));
        deleted += rows.length;
      }
    }
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: META_PK, sk: 'purge', nextDay: day } }));
    const expired = await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: 'expiresAt < :now',
      ExpressionAttributeValues: { ':pk': ERASED_PK, ':now': toEpochSeconds(now) },
      ProjectionExpression: 'pk, sk',
    });
    await this.batchWrite(expired.map((r) => ({ DeleteRequest: { Key: { pk: r.pk, sk: r.sk } } })));
    return deleted + expired.length + (await this.hints.purge(now, createdAt)) + (await this.telegram.purge(now, createdAt));
  }

  putStripeHint(hint: StripeHintInput): Promise<HintOutcome> {
    return this.hints.put(hint);
  }

  eraseStripeHints(objectIds: string[], at: number): Promise<{ hints: number; items: number }> {
    return this.hints.erase(objectIds, at);
  }

  addWebhookCounts(delta: WebhookCounts): Promise<void> {
    return this.hints.addCounts(delta);
  }

  webhookCounts(): Promise<WebhookCounts> {
    return this.hints.counts();
  }

  /** Reads every feed's marker: a Lambda instance's warm-up, so its first append need not (feed-partitions.ts). */
  async prepareAppends(): Promise<void> {
    await this.activity.prime();
  }

  async ping(): Promise<void> {
    await this.client.send(new DescribeTableCommand({ TableName: this.table }));
  }

  /**
   * Creates the table as sst.config.ts declares it, when missing (local mode; AWS tables come from SST). A
   * table made by an earlier version gets VISITOR_INDEX, and loses OLD_VISITOR_INDEX once that is built: no
   * older code reads a local table while this runs (the local redirector calls it before it serves).
   */
  async ensureTable(now: number): Promise<void> {
    const table = await this.client.send(new DescribeTableCommand({ TableName: this.table })).then(
      (out) => out.Table,
      (e: unknown) => {
        if (e instanceof ResourceNotFoundException) return undefined;
        throw e;
      },
    );
    if (table) {
      const has = (name: string) => (table.GlobalSecondaryIndexes ?? []).some((i) => i.IndexName === name);
      if (!has(VISITOR_INDEX)) {
        await this.client.send(
          new UpdateTableCommand({
            TableName: this.table,
            AttributeDefinitions: ['gsi1pk', 'gsi1sk'].map((n) => ({ AttributeName: n, AttributeType: 'S' as const })),
            GlobalSecondaryIndexUpdates: [{ Create: TABLE_INDEXES.find((i) => i.IndexName === VISITOR_INDEX) }],
          }),
        );
        await this.whenActive();
      }
      if (has(OLD_VISITOR_INDEX)) {
        await this.client.send(new UpdateTableCommand({ TableName: this.table, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: OLD_VISITOR_INDEX } }] }));
        await this.whenActive();
      }
    } else {
      await this.client.send(
        new CreateTableCommand({
          TableName: this.table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'].map((n) => ({ AttributeName: n, AttributeType: 'S' as const })),
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: TABLE_INDEXES,
        }),
      );
      await this.whenActive();
      // Nothing unsplit can be in a new table: its readers never look for it.
      await this.activity.markSplit(Object.values(FEED_PREFIX), now);
    }
    await this.doc
      .send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: META_PK, sk: 'created', at: now },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .catch((e: unknown) => {
        if ((e as { name?: string }).name !== 'ConditionalCheckFailedException') throw e;
      });
  }

  /** Waits for the table and its indexes to be ACTIVE (created or changed). */
  private async whenActive(): Promise<void> {
    for (let i = 0; ; i++) {
      const { Table } = await this.client.send(new DescribeTableCommand({ TableName: this.table }));
      if (Table?.TableStatus === 'ACTIVE' && (Table.GlobalSecondaryIndexes ?? []).every((x) => x.IndexStatus === 'ACTIVE')) return;
      if (i > 2400) throw new Error(`table ${this.table} and its indexes did not become ACTIVE within a minute`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const rows: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      rows.push(...((out.Items ?? []) as Record<string, unknown>[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return rows;
  }

  /** BatchWriteItem in chunks of 25, retrying unprocessed items with backoff. */
  private async batchWrite(requests: Record<string, unknown>[], signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < requests.length; i += BATCH_MAX) {
      let pending = requests.slice(i, i + BATCH_MAX);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 8) throw new Error(`DynamoDB left ${pending.length} writes unprocessed after ${attempt} attempts`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }), { abortSignal: signal });
        pending = (out.UnprocessedItems?.[this.table] ?? []) as Record<string, unknown>[];
      }
    }
  }
}
