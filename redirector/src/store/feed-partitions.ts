import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { decodeTime } from 'ulid';
import { DAY_MS, utcDay, utcDayStart, type Clock } from '@revtrail/shared';

/**
 * Where feed items go (docs/table.md, "Feeds: day partitions split in 8"). A partition key takes about 1,000
 * writes a second in DynamoDB, so one partition per feed and day capped a burst of clicks there. Items go to
 * `<prefix>#<day>#<s>`, s = 0..7 from the last character of the append id (uniform), and the sort key
 * stays the append id: 8 partitions a day, ~8,000 writes a second, and one order across them, so a reader
 * merges the 8 by sort key and its cursor is still one append id.
 *
 * Tables written before the split hold `<prefix>#<day>`. A per-feed marker item (`FEEDS` / prefix) says
 * from when appends are split (`split`: SPLIT_AFTER_MS after the first append of this code; a new table:
 * from its creation), through which day the unsplit partitions may hold items (`unsplitThrough`), and until
 * when appends are known to have been made (`activeUntil`, a lease every writer extends before it stamps an
 * append id). Readers query the unsplit partition only for days through `unsplitThrough`, and the 8 only
 * for days from `split` that the lease reaches: an empty read of an idle feed is the marker alone.
 */
export const FEED_SHARDS = 8;
export const FEEDS_PK = 'FEEDS';
/**
 * After the first append of this code, appends keep going to the unsplit partition this long: a deploy runs
 * the old code beside the new for a moment (Lambda serves a function's old version for up to about a minute
 * after an update), and an old reader, which reads only that partition, must not hand out a cursor past a
 * split item.
 */
export const SPLIT_AFTER_MS = 10 * 60_000;
/** How far the clock of one writer may run ahead of another's (two Lambda instances). */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** One extension of a feed's lease covers appends this long; renewed in the background with RENEW_MS left. */
const LEASE_MS = 60_000;
const RENEW_MS = 30_000;
/** An append waits for the lease only when less than this is left of it. */
const MARGIN_MS = 5_000;
/** Leases end on a 10 s grid, so instances extending at once write the same value (and most see it and skip). */
const GRID_MS = 10_000;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The shard of an append id: its last character (random), 32 symbols onto 8. Not the first random one: ids
 * of one millisecond (a batch is stamped at one instant) sort by it, so a page of them would come from one or
 * two partitions and the readers' even chunks would miss.
 */
export function shardOf(appendId: string): number {
  if (appendId.length !== 26) throw new Error(`not an append id: ${appendId}`);
  const i = CROCKFORD.indexOf(appendId.charAt(25));
  if (i < 0) throw new Error(`not an append id: ${appendId}`);
  return i % FEED_SHARDS;
}

/** The unsplit partition of a feed's day, as tables written before the split hold. */
export function unsplitPartition(prefix: string, dayStart: number): string {
  return `${prefix}#${utcDay(dayStart)}`;
}

export function shardPartitions(prefix: string, dayStart: number): string[] {
  return Array.from({ length: FEED_SHARDS }, (_, s) => `${prefix}#${utcDay(dayStart)}#${s}`);
}

/** Every partition a feed's day may have: what the local purge deletes. */
export function dayPartitions(prefix: string, dayStart: number): string[] {
  return [unsplitPartition(prefix, dayStart), ...shardPartitions(prefix, dayStart)];
}

export interface FeedMarker {
  /** Append ids of this time or later are split. */
  split: number;
  /**
   * The unsplit partitions of days starting at or before this may hold items: those of the old code, which
   * may run until the split on a clock up to CLOCK_SKEW_MS ahead; 0 on a table made split.
   */
  unsplitThrough: number;
  /** Every append id stamped so far is of a time before this. */
  activeUntil: number;
}

/** The partition of an append id, for a feed split from `split` (Infinity: never, no marker). */
export function partitionOf(prefix: string, appendId: string, split: number): string {
  const at = decodeTime(appendId);
  return at < split ? unsplitPartition(prefix, at) : `${prefix}#${utcDay(at)}#${shardOf(appendId)}`;
}

/**
 * The partitions of one day that can hold items appended at or after `from`: the unsplit one for days through
 * `unsplitThrough`, the 8 for days from the split that the lease reached.
 */
export function partitionsToRead(prefix: string, dayStart: number, marker: FeedMarker | null, from: number): string[] {
  if (marker === null) return [unsplitPartition(prefix, dayStart)];
  const pks = dayStart <= marker.unsplitThrough ? [unsplitPartition(prefix, dayStart)] : [];
  if (dayStart + DAY_MS > marker.split && dayStart < marker.activeUntil && from < marker.activeUntil) pks.push(...shardPartitions(prefix, dayStart));
  return pks;
}

const conditionFailed = (e: unknown) => (e as { name?: string }).name === 'ConditionalCheckFailedException';

/**
 * The feeds' marker items: writers extend a feed's lease before stamping append ids (`stampTime`), readers
 * read it (`marker`). A lease only grows (the update is conditional on a smaller value), so an eventually
 * consistent read of it can show an older, smaller value but never a larger one: a writer that reads a value
 * far enough ahead may rely on it without a write. Readers read it strongly consistent.
 */
export class FeedActivity {
  /** Per prefix, a lease end known to be in the table. */
  private readonly known = new Map<string, number>();
  /** Per prefix, `split` once known (it never changes). */
  private readonly splitOf = new Map<string, number>();
  private readonly extending = new Map<string, Promise<void>>();

  constructor(private readonly d: { doc: DynamoDBDocumentClient; table: string; clock: Clock }) {}

  /**
   * A time to stamp append ids of these feeds with: each feed's lease covers it. Waits for a write only when
   * a lease is (nearly) over; renews it in the background once half of it is used.
   */
  async stampTime(prefixes: readonly string[], signal?: AbortSignal): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const now = this.d.clock.now();
      const short = prefixes.filter((p) => !(now + MARGIN_MS < (this.known.get(p) ?? 0)));
      if (short.length === 0) {
        for (const p of prefixes) if (now + RENEW_MS >= (this.known.get(p) ?? 0)) this.extend(p).catch(() => undefined);
        return now;
      }
      if (attempt === 3) throw new Error(`the feed marker of ${short.join(', ')} could not be extended past ${new Date(now).toISOString()}`);
      await Promise.all(short.map((p) => this.extend(p)));
      signal?.throwIfAborted();
    }
  }

  /** The partition of an append id stamped by stampTime (which learnt the feed's `split`). */
  partitionOf(prefix: string, appendId: string): string {
    const split = this.splitOf.get(prefix);
    if (split === undefined) throw new Error(`the feed marker of ${prefix} was not read before its append`);
    return partitionOf(prefix, appendId, split);
  }

  /** The partition of an append id stamped anywhere, reading the feed's marker when its `split` is not known yet. */
  async partitionOfAny(prefix: string, appendId: string): Promise<string> {
    if (!this.splitOf.has(prefix)) await this.marker(prefix);
    return partitionOf(prefix, appendId, this.splitOf.get(prefix) ?? Number.POSITIVE_INFINITY);
  }

  /** The feed's marker, read strongly consistent: what a reader decides its partitions on. */
  async marker(prefix: string): Promise<FeedMarker | null> {
    const out = await this.d.doc.send(new GetCommand({ TableName: this.d.table, Key: { pk: FEEDS_PK, sk: prefix }, ConsistentRead: true }));
    return this.note(prefix, out.Item);
  }

  /** Reads every feed's marker at once (one Query, eventually consistent): a Lambda instance's warm-up. */
  async prime(): Promise<void> {
    const out = await this.d.doc.send(new QueryCommand({ TableName: this.d.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': FEEDS_PK } }));
    for (const item of out.Items ?? []) this.note(String(item.sk), item);
  }

  /**
   * A table made now: every feed split from the start (less the clock skew of another writer), so no reader
   * looks for unsplit partitions.
   */
  async markSplit(prefixes: readonly string[], createdAt: number): Promise<void> {
    for (const prefix of prefixes) {
      const marker = { split: createdAt - CLOCK_SKEW_MS, unsplitThrough: 0, activeUntil: 0 };
      await this.d.doc
        .send(new PutCommand({ TableName: this.d.table, Item: { pk: FEEDS_PK, sk: prefix, ...marker }, ConditionExpression: 'attribute_not_exists(pk)' }))
        .catch((e: unknown) => {
          if (!conditionFailed(e)) throw e;
        });
    }
  }

  private note(prefix: string, item: Record<string, unknown> | undefined): FeedMarker | null {
    if (!item || typeof item.split !== 'number') return null;
    const num = (v: unknown) => (typeof v === 'number' ? v : 0);
    const marker = { split: item.split, unsplitThrough: num(item.unsplitThrough), activeUntil: num(item.activeUntil) };
    this.splitOf.set(prefix, marker.split);
    if (marker.activeUntil > (this.known.get(prefix) ?? 0)) this.known.set(prefix, marker.activeUntil);
    return marker;
  }

  /** One extension at a time per feed; callers share it. */
  private extend(prefix: string): Promise<void> {
    let running = this.extending.get(prefix);
    if (!running) {
      running = this.extendNow(prefix).finally(() => this.extending.delete(prefix));
      this.extending.set(prefix, running);
    }
    return running;
  }

  private async extendNow(prefix: string): Promise<void> {
    const now = this.d.clock.now();
    const key = { pk: FEEDS_PK, sk: prefix };
    const seen = await this.d.doc.send(new GetCommand({ TableName: this.d.table, Key: key }));
    const marker = this.note(prefix, seen.Item);
    if (marker && marker.activeUntil > now + RENEW_MS) return;
    const until = Math.ceil((now + LEASE_MS) / GRID_MS) * GRID_MS;
    try {
      const out = await this.d.doc.send(
        new UpdateCommand({
          TableName: this.d.table,
          Key: key,
          // A table written before the split: the first append of this code decides when it happens.
          UpdateExpression: 'SET activeUntil = :until, #split = if_not_exists(#split, :split), unsplitThrough = if_not_exists(unsplitThrough, :through)',
          ConditionExpression: 'attribute_not_exists(activeUntil) OR activeUntil < :until',
          ExpressionAttributeNames: { '#split': 'split' }, // a reserved word
          ExpressionAttributeValues: { ':until': until, ':split': now + SPLIT_AFTER_MS, ':through': now + SPLIT_AFTER_MS + CLOCK_SKEW_MS },
          ReturnValues: 'ALL_NEW',
        }),
      );
      this.note(prefix, out.Attributes);
    } catch (e) {
      if (!conditionFailed(e)) throw e;
      // Another writer extended it as far or further; `split` is read if this one does not know it yet.
      if (!this.splitOf.has(prefix)) await this.marker(prefix);
      if (until > (this.known.get(prefix) ?? 0)) this.known.set(prefix, until);
    }
  }
}

/** The day partitions a read walks: from the day of `from` to the day of `to`, in order. */
export function* daysBetween(from: number, to: number): Generator<number> {
  for (let day = utcDayStart(utcDay(from)); day <= utcDayStart(utcDay(to)); day += DAY_MS) yield day;
}
