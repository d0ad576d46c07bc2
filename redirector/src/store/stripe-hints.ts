import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { DAY_MS, newSortKey, toEpochSeconds, utcDay, utcDayStart, WEBHOOK_REFUSALS, type Clock, type StripeHint, type WebhookRefusal } from '@revtrail/shared';
import { updateCounters } from './counters';
import type { HintOutcome, StripeHintInput, WebhookCounts } from './types';

/** Partition prefix of the hints feed (`H#<day of the append>#<shard>`), beside the other feeds' in dynamo.ts. */
export const HINT_FEED_PREFIX = 'H';
/** Partition prefix of the events' dedupe items: `W#<UTC day of the event's created>`, sort key the event id. */
const EVENT_PREFIX = 'W';
const META_PK = 'META';
const COUNTERS_SK = 'stripe-webhook';
const PURGE_SK = 'purge-stripe-events';
/**
 * How long after it was created Stripe may still deliver an event: its retries last three days, and its Events
 * API (from which an event can be sent again) keeps 30 (docs.stripe.com/webhooks/process-undelivered-events).
 */
export const REDELIVERY_MS = 30 * DAY_MS;
/**
 * A first delivery's feed write follows its dedupe write. Should that one have been slow, a feed read may have
 * handed out a cursor past the append id picked before it (reads settle 5 s behind now), so the hint takes a
 * fresh one.
 */
const FRESH_MS = 1000;
/** Erasure looks objects up this many at a time. */
const ERASE_PARALLEL = 8;

const refusedAttribute = (reason: WebhookRefusal) => `refused${reason.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase())}`;

export function noWebhookCounts(): WebhookCounts {
  return {
    received: 0,
    duplicates: 0,
    ignored: 0,
    refused: Object.fromEntries(WEBHOOK_REFUSALS.map((r) => [r, 0])) as Record<WebhookRefusal, number>,
    lastReceivedAt: null,
    lastRefused: null,
  };
}

const conditionFailed = (e: unknown) => (e as { name?: string }).name === 'ConditionalCheckFailedException';

export interface StripeHintTableDeps {
  doc: DynamoDBDocumentClient;
  table: string;
  clock: Clock;
  retentionMs: () => number;
  /** A time to stamp the feed's append ids with (its lease extended: feed-partitions.ts). */
  appendTime: () => Promise<number>;
  /** The partition of the feed item of this append id. */
  feedPartition: (appendId: string) => Promise<string>;
  queryAll: (input: QueryCommandInput) => Promise<Record<string, unknown>[]>;
  batchWrite: (requests: Record<string, unknown>[]) => Promise<void>;
}

/**
 * The Stripe hints in the single table (docs/table.md, "Stripe hints"): one dedupe item per event id, holding
 * the hint and so the key of its feed item, and the feed item the desktop pages through. DynamoDB's
 * transactions would write both at once, but dynalite (the local store) has none; the order of the two writes
 * and the redelivery's check make the pair safe to stop between.
 */
export class StripeHintTable {
  constructor(private readonly d: StripeHintTableDeps) {}

  private async feedItem(hint: StripeHint): Promise<Record<string, unknown>> {
    return {
      pk: await this.d.feedPartition(hint.id),
      sk: hint.id,
      e: hint,
      expiresAt: toEpochSeconds(hint.at + this.d.retentionMs()),
      gsi2pk: `O#${hint.objectId}`,
      gsi2sk: hint.id,
    };
  }

  /** The dedupe item outlives the feed item and every redelivery Stripe may still make of the event. */
  private eventExpiry(hint: StripeHint): number {
    return toEpochSeconds(Math.max(hint.at + this.d.retentionMs(), hint.createdAt + REDELIVERY_MS));
  }

  async put(input: StripeHintInput): Promise<HintOutcome> {
    const now = await this.d.appendTime();
    const hint: StripeHint = { id: newSortKey(now), at: now, ...input };
    const key = { pk: `${EVENT_PREFIX}#${utcDay(input.createdAt)}`, sk: input.eventId };
    try {
      await this.d.doc.send(
        new PutCommand({
          TableName: this.d.table,
          Item: { ...key, hint, expiresAt: this.eventExpiry(hint), gsi2pk: `O#${hint.objectId}`, gsi2sk: hint.eventId },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (!conditionFailed(e)) throw e;
      return this.redelivered(key);
    }
    const appended = this.d.clock.now() - hint.at > FRESH_MS ? await this.move(key, hint) : hint;
    if (appended) await this.d.doc.send(new PutCommand({ TableName: this.d.table, Item: await this.feedItem(appended) }));
    return 'stored';
  }

  /** An event id already kept: its feed item is written now if the delivery that kept it stopped before. */
  private async redelivered(key: { pk: string; sk: string }): Promise<HintOutcome> {
    const kept = await this.d.doc.send(new GetCommand({ TableName: this.d.table, Key: key, ConsistentRead: true }));
    const hint = kept.Item?.hint as StripeHint | undefined;
    const now = this.d.clock.now();
    // No hint: its object was erased since. A hint past retention has left the feed and must not come back.
    if (!hint || now >= hint.at + this.d.retentionMs()) return 'duplicate';
    // Kept a moment ago: the same event delivered twice at once, the other delivery writing the feed item
    // now. Writing the same item (same key, same hint) is harmless, where a fresh id would make a second one.
    if (now - hint.at < FRESH_MS) {
      await this.d.doc.send(new PutCommand({ TableName: this.d.table, Item: await this.feedItem(hint) }));
      return 'duplicate';
    }
    const { pk, sk } = await this.feedItem(hint);
    const feed = await this.d.doc.send(new GetCommand({ TableName: this.d.table, Key: { pk, sk }, ConsistentRead: true, ProjectionExpression: 'pk' }));
    if (feed.Item) return 'duplicate';
    // Appended under a fresh id: the one picked then may be behind cursors handed out since.
    const moved = await this.move(key, hint);
    if (!moved) return 'duplicate';
    await this.d.doc.send(new PutCommand({ TableName: this.d.table, Item: await this.feedItem(moved) }));
    return 'stored';
  }

  /** Gives the kept hint a fresh append id; null when another delivery did so first, or the object was erased. */
  private async move(key: { pk: string; sk: string }, hint: StripeHint): Promise<StripeHint | null> {
    const now = await this.d.appendTime();
    const fresh: StripeHint = { ...hint, id: newSortKey(now), at: now };
    try {
      await this.d.doc.send(
        new UpdateCommand({
          TableName: this.d.table,
          Key: key,
          UpdateExpression: 'SET hint = :fresh, expiresAt = :exp',
          ConditionExpression: 'hint.id = :old',
          ExpressionAttributeValues: { ':fresh': fresh, ':exp': this.eventExpiry(fresh), ':old': hint.id },
        }),
      );
      return fresh;
    } catch (e) {
      if (conditionFailed(e)) return null;
      throw e;
    }
  }

  /**
   * Deletes the feed items naming these objects, after replacing their events' dedupe items with ones that keep
   * the event id only: a later redelivery is still recognised, and brings nothing back.
   */
  async erase(objectIds: string[], at: number): Promise<{ hints: number; items: number }> {
    let hints = 0;
    let items = 0;
    for (let i = 0; i < objectIds.length; i += ERASE_PARALLEL) {
      const found = await Promise.all(
        objectIds.slice(i, i + ERASE_PARALLEL).map((id) =>
          this.d.queryAll({
            TableName: this.d.table,
            IndexName: 'byEmail',
            KeyConditionExpression: 'gsi2pk = :k',
            ExpressionAttributeValues: { ':k': `O#${id}` },
            ProjectionExpression: 'pk, sk, expiresAt',
          }),
        ),
      );
      const rows = found.flat();
      const isEvent = (r: Record<string, unknown>) => String(r.pk).startsWith(`${EVENT_PREFIX}#`);
      await this.d.batchWrite(rows.filter(isEvent).map((r) => ({ PutRequest: { Item: { pk: r.pk, sk: r.sk, erasedAt: at, expiresAt: r.expiresAt } } })));
      const feed = rows.filter((r) => String(r.pk).startsWith(`${HINT_FEED_PREFIX}#`));
      await this.d.batchWrite(feed.map((r) => ({ DeleteRequest: { Key: { pk: r.pk, sk: r.sk } } })));
      hints += feed.length;
      items += rows.length;
    }
    return { hints, items };
  }

  async addCounts(delta: WebhookCounts): Promise<void> {
    const add: Record<string, number> = { received: delta.received, duplicates: delta.duplicates, ignored: delta.ignored };
    for (const reason of WEBHOOK_REFUSALS) add[refusedAttribute(reason)] = delta.refused[reason];
    await updateCounters(this.d, { pk: META_PK, sk: COUNTERS_SK }, add, {
      ...(delta.lastReceivedAt !== null ? { lastReceivedAt: delta.lastReceivedAt } : {}),
      ...(delta.lastRefused ? { lastRefusedAt: delta.lastRefused.at, lastRefusedReason: delta.lastRefused.reason } : {}),
    });
  }

  async counts(): Promise<WebhookCounts> {
    const out = await this.d.doc.send(new GetCommand({ TableName: this.d.table, Key: { pk: META_PK, sk: COUNTERS_SK }, ConsistentRead: true }));
    const item = (out.Item ?? {}) as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'number' ? v : 0);
    const counts = noWebhookCounts();
    counts.received = num(item.received);
    counts.duplicates = num(item.duplicates);
    counts.ignored = num(item.ignored);
    for (const reason of WEBHOOK_REFUSALS) counts.refused[reason] = num(item[refusedAttribute(reason)]);
    counts.lastReceivedAt = typeof item.lastReceivedAt === 'number' ? item.lastReceivedAt : null;
    const reason = item.lastRefusedReason as WebhookRefusal | undefined;
    if (typeof item.lastRefusedAt === 'number' && reason && WEBHOOK_REFUSALS.includes(reason)) counts.lastRefused = { at: item.lastRefusedAt, reason };
    return counts;
  }

  /**
   * The local purge (no TTL in dynalite): whole `W#<day>` partitions once every item in them has expired. An
   * event delivered up to REDELIVERY_MS after it was created expires by retention after that.
   */
  async purge(now: number, tableCreatedAt: number): Promise<number> {
    const cutoffDay = utcDayStart(utcDay(now - this.d.retentionMs() - REDELIVERY_MS - DAY_MS));
    const meta = await this.d.doc.send(new GetCommand({ TableName: this.d.table, Key: { pk: META_PK, sk: PURGE_SK } }));
    // Events created before the table can be delivered to it: their partitions start up to REDELIVERY_MS earlier.
    let day = (meta.Item?.nextDay as number | undefined) ?? utcDayStart(utcDay(tableCreatedAt - REDELIVERY_MS));
    let deleted = 0;
    for (; day < cutoffDay; day += DAY_MS) {
      const rows = await this.d.queryAll({
        TableName: this.d.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${EVENT_PREFIX}#${utcDay(day)}` },
        ProjectionExpression: 'pk, sk',
      });
      await this.d.batchWrite(rows.map((r) => ({ DeleteRequest: { Key: { pk: r.pk, sk: r.sk } } })));
      deleted += rows.length;
    }
    await this.d.doc.send(new PutCommand({ TableName: this.d.table, Item: { pk: META_PK, sk: PURGE_SK, nextDay: day } }));
    return deleted;
  }
}
