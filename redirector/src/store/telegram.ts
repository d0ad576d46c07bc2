import { createHash } from 'node:crypto';
import { GetCommand, PutCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  DAY_MS,
  newSortKey,
  TELEGRAM_REFUSALS,
  TELEGRAM_SKIPS,
  toEpochSeconds,
  utcDay,
  utcDayStart,
  type Clock,
  type TelegramCounts,
  type TelegramPayment,
  type TelegramStart,
} from '@revtrail/shared';
import { updateCounters } from './counters';
import { erasureDigest } from './erasures';
import type { EventRecord } from './types';

/** Partition prefixes of the two feeds (`TS#<day>`, `TP#<day>`), beside the other feeds' in dynamo.ts. */
export const TELEGRAM_START_FEED_PREFIX = 'TS';
export const TELEGRAM_PAYMENT_FEED_PREFIX = 'TP';
/** A start token's item: `TM#<UTC day of its click>`, sort key the token's digest. */
const TOKEN_PREFIX = 'TM';
/** Dedupe items: `TK#<UTC day>`, sort key `s:<token digest>`, `p:<charge id>` (payment) or `r:<charge id>` (refund). */
const ONCE_PREFIX = 'TK';
const META_PK = 'META';
const ERASED_PK = 'ERASED';
const COUNTERS_SK = 'telegram-webhook';
const PURGE_SK = 'purge-telegram';
/** As for Stripe hints (stripe-hints.ts): a feed write that follows its dedupe write by more than this takes a fresh append id. */
const FRESH_MS = 1000;
/** Telegram keeps an undelivered update for 24 hours (getUpdates, https://core.telegram.org/bots/api#getting-updates). */
export const TELEGRAM_KEEPS_MS = DAY_MS;

export type StartInput = Omit<TelegramStart, 'id' | 'at'>;
export type PaymentInput = Omit<TelegramPayment, 'id' | 'at'>;
export type OnceOutcome = 'stored' | 'duplicate' | 'token_used';

/** Counts added to the endpoint's counters: numbers by name (starts, refusedBadSecret, ...), and the latest times. */
export interface TelegramCountsDelta {
  add: Record<string, number>;
  lastReceivedAt: number | null;
  lastForwardError: { at: number; message: string } | null;
}

export const noTelegramCounts = (): TelegramCounts => ({
  starts: 0,
  payments: 0,
  duplicates: 0,
  refused: Object.fromEntries(TELEGRAM_REFUSALS.map((r) => [r, 0])) as TelegramCounts['refused'],
  skipped: Object.fromEntries(TELEGRAM_SKIPS.map((r) => [r, 0])) as TelegramCounts['skipped'],
  forwarded: 0,
  forwardFailures: 0,
  lastReceivedAt: null,
  lastForwardError: null,
});

/** The counter attribute of a refusal or skip (`refusedBadSecret`, `skippedTokenUsed`). */
export const countName = (group: 'refused' | 'skipped', reason: string) => `${group}${reason.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase())}`;

/** What the table holds of one Telegram user (privacy requests). */
export interface TelegramPerson {
  counts: { telegramStarts: number; telegramPayments: number };
  visitorIds: string[];
}

/** The Telegram half of the store (docs/table.md, "Telegram"). */
export interface TelegramStore {
  /** The token items of the clicks among `records` that carry a start token: written with the clicks (dynamo.ts putEvents). */
  tokenItems(records: readonly EventRecord[]): Record<string, unknown>[];
  /** The click a token was minted on, once its click (and so its item) reached the table. */
  tokenClick(digest: string, issuedAt: number): Promise<{ visitorId: string; clickId: string } | null>;
  /** Keeps a start once per token: `token_used` when another update used it first, `duplicate` for a redelivery. */
  putStart(start: StartInput, issuedAt: number): Promise<OnceOutcome>;
  /** Keeps a payment (or refund) once per telegram_payment_charge_id. */
  putPayment(payment: PaymentInput): Promise<Exclude<OnceOutcome, 'token_used'>>;
  /** Whether the Telegram user, or the visitor, was erased (within the retention window). */
  isErased(key: { userHash: string } | { visitorId: string }): Promise<boolean>;
  /**
   * Erases a Telegram user: their starts go, their payments stay without them (the money is the merchant's
   * record), dedupe items keep only their keys, and the user is noted erased. Says the visitors the starts bound.
   */
  erase(userHash: string, at: number): Promise<{ starts: number; payments: number; items: number; visitorIds: string[] }>;
  person(userHash: string): Promise<TelegramPerson>;
  addCounts(delta: TelegramCountsDelta): Promise<void>;
  counts(): Promise<TelegramCounts>;
  /** The local purge (no TTL in dynalite): dedupe and token partitions past their time. */
  purge(now: number, tableCreatedAt: number): Promise<number>;
}

export interface TelegramTableDeps {
  doc: DynamoDBDocumentClient;
  table: string;
  clock: Clock;
  retentionMs: () => number;
  /** A time to stamp a feed's append ids with (as the store stamps its other feeds': dynamo.ts). */
  appendTime: (prefix: string) => Promise<number>;
  /** The partition of the feed item with this append id. */
  feedPartition: (prefix: string, appendId: string) => Promise<string>;
  queryAll: (input: QueryCommandInput) => Promise<Record<string, unknown>[]>;
  batchWrite: (requests: Record<string, unknown>[]) => Promise<void>;
}

const conditionFailed = (e: unknown) => (e as { name?: string }).name === 'ConditionalCheckFailedException';
/** The ERASED partition's key for a Telegram user: a digest, domain-separated from erasures.ts's visitor and email ones. */
const telegramErasedDigest = (userHash: string) => createHash('sha256').update(`G#${userHash}`).digest('hex').slice(0, 32);

interface OnceItem {
  pk: string;
  sk: string;
  updateId?: number;
  feedPk?: string;
  feedSk?: string;
  recordAt?: number;
  erasedAt?: number;
}

type Kept = { kind: 'start'; record: TelegramStart } | { kind: 'payment'; record: TelegramPayment };
const prefixOf = (kept: Kept) => (kept.kind === 'start' ? TELEGRAM_START_FEED_PREFIX : TELEGRAM_PAYMENT_FEED_PREFIX);

/**
 * Starts and payments in the single table, each kept once: a dedupe item per token or charge id (written first,
 * conditionally, holding the key of its feed item and the update that made it), then the feed item the desktop
 * pages through. A redelivery finds the dedupe item and writes the feed item if an earlier delivery stopped
 * between the two, as Stripe hints do (stripe-hints.ts). Dedupe items hold no record: a redelivery carries the
 * same update, so the record is made again from it.
 */
export class TelegramTable implements TelegramStore {
  constructor(private readonly d: TelegramTableDeps) {}

  tokenItems(records: readonly EventRecord[]): Record<string, unknown>[] {
    const items: Record<string, unknown>[] = [];
    for (const r of records) {
      if (r.kind !== 'clicks' || !r.item.telegramStart || r.item.visitorId === null) continue;
      items.push({
        pk: `${TOKEN_PREFIX}#${utcDay(r.item.at)}`,
        sk: r.item.telegramStart,
        visitorId: r.item.visitorId,
        clickId: r.item.id,
        // DynamoDB's TTL deletes it within days of this; the webhook checks the token's own time anyway.
        expiresAt: toEpochSeconds(r.item.at + TELEGRAM_KEEPS_MS + DAY_MS),
        // Found and deleted with the visitor's other items when the visitor is erased.
        gsi1pk: `V#${r.item.visitorId}`,
        gsi1sk: newSortKey(r.item.at),
      });
    }
    return items;
  }

  async tokenClick(digest: string, issuedAt: number): Promise<{ visitorId: string; clickId: string } | null> {
    const out = await this.d.doc.send(new GetCommand({ TableName: this.d.table, Key: { pk: `${TOKEN_PREFIX}#${utcDay(issuedAt)}`, sk: digest }, ConsistentRead: true }));
    const item = out.Item;
    return typeof item?.visitorId === 'string' && typeof item.clickId === 'string' ? { visitorId: item.visitorId, clickId: item.clickId } : null;
  }

  putStart(start: StartInput, issuedAt: number): Promise<OnceOutcome> {
    return this.once({ pk: `${ONCE_PREFIX}#${utcDay(issuedAt)}`, sk: `s:${start.tokenDigest}` }, start.updateId, 'start', (id, at) => ({ kind: 'start', record: { id, at, ...start } }));
  }

  async putPayment(payment: PaymentInput): Promise<'stored' | 'duplicate'> {
    const key = { pk: `${ONCE_PREFIX}#${utcDay(payment.paidAt)}`, sk: `${payment.kind === 'payment' ? 'p' : 'r'}:${payment.chargeId}` };
    // Another update naming the same charge is the same payment (a replay): a duplicate either way.
    const outcome = await this.once(key, payment.updateId, 'payment', (id, at) => ({ kind: 'payment', record: { id, at, ...payment } }));
    return outcome === 'token_used' ? 'duplicate' : outcome;
  }

  private async feedItem(kept: Kept): Promise<Record<string, unknown>> {
    const r = kept.record;
    const item: Record<string, unknown> = { pk: await this.d.feedPartition(prefixOf(kept), r.id), sk: r.id, e: r, expiresAt: toEpochSeconds(r.at + this.d.retentionMs()) };
    if (r.userHash) Object.assign(item, { gsi2pk: `TG#${r.userHash}`, gsi2sk: r.id });
    if (kept.kind === 'start' && kept.record.visitorId) Object.assign(item, { gsi1pk: `V#${kept.record.visitorId}`, gsi1sk: r.id });
    return item;
  }

  /** The dedupe item outlives its feed item and every redelivery Telegram may make of the update. */
  private async onceItem(key: { pk: string; sk: string }, updateId: number, kept: Kept): Promise<Record<string, unknown>> {
    const feed = await this.feedItem(kept);
    const item: Record<string, unknown> = {
      ...key,
      updateId,
      feedPk: feed.pk,
      feedSk: feed.sk,
      recordAt: kept.record.at,
      expiresAt: toEpochSeconds(Math.max(kept.record.at + this.d.retentionMs(), utcDayStart(key.pk.slice(ONCE_PREFIX.length + 1)) + 2 * DAY_MS + TELEGRAM_KEEPS_MS)),
    };
    // Indexed as the feed item is, so an erasure of the user or of the visitor finds it.
    for (const a of ['gsi1pk', 'gsi2pk'] as const) if (feed[a]) Object.assign(item, { [a]: feed[a], [a.replace('pk', 'sk')]: `${key.pk}#${key.sk}` });
    return item;
  }

  private async once(key: { pk: string; sk: string }, updateId: number, kind: Kept['kind'], make: (id: string, at: number) => Kept): Promise<OnceOutcome> {
    const now = await this.d.appendTime(kind === 'start' ? TELEGRAM_START_FEED_PREFIX : TELEGRAM_PAYMENT_FEED_PREFIX);
    const kept = make(newSortKey(now), now);
    try {
      await this.d.doc.send(new PutCommand({ TableName: this.d.table, Item: await this.onceItem(key, updateId, kept), ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (e) {
      if (!conditionFailed(e)) throw e;
      return this.again(key, updateId, kind, make);
    }
    const appended = this.d.clock.now() - now > FRESH_MS ? await this.move(key, updateId, kind, kept.record.id, make) : kept;
    if (appended) await this.d.doc.send(new PutCommand({ TableName: this.d.table, Item: await this.feedItem(appended) }));
    return 'stored';
  }

  /** The key is kept already: another update used it, or this one came again (its feed item written now if missing). */
  private async again(key: { pk: string; sk: string }, updateId: number, kind: Kept['kind'], make: (id: string, at: number) => Kept): Promise<OnceOutcome> {
    const out = await this.d.doc.send(new GetCommand({ TableName: this.d.table, Key: key, ConsistentRead: true }));
    const item = out.Item as OnceItem | undefined;
    if (!item || item.erasedAt !== undefined || item.feedSk === undefined || item.recordAt === undefined) return 'duplicate';
    if (item.updateId !== updateId) return 'token_used';
    const now = this.d.clock.now();
    if (now >= item.recordAt + this.d.retentionMs()) return 'duplicate';
    const kept = make(item.feedSk, item.recordAt);
    // The same update delivered twice at once: the other delivery writes this very item; writing it too is harmless.
    if (now - item.recordAt < FRESH_MS) {
      await this.d.doc.send(new PutCommand({ TableName: this.d.table, Item: await this.feedItem(kept) }));
      return 'duplicate';
    }
    const feed = await this.d.doc.send(new GetCommand({ TableName: this.d.table, Key: { pk: item.feedPk, sk: item.feedSk }, ConsistentRead: true, ProjectionExpression: 'pk' }));
    if (feed.Item) return 'duplicate';
    const moved = await this.move(key, updateId, kind, item.feedSk, make);
    if (!moved) return 'duplicate';
    await this.d.doc.send(new PutCommand({ TableName: this.d.table, Item: await this.feedItem(moved) }));
    return 'stored';
  }

  /** A fresh append id for the kept record (one picked earlier may be behind cursors handed out since); null when another delivery moved it first. */
  private async move(key: { pk: string; sk: string }, updateId: number, kind: Kept['kind'], oldSk: string, make: (id: string, at: number) => Kept): Promise<Kept | null> {
    const now = await this.d.appendTime(kind === 'start' ? TELEGRAM_START_FEED_PREFIX : TELEGRAM_PAYMENT_FEED_PREFIX);
    const fresh = make(newSortKey(now), now);
    const item = await this.onceItem(key, updateId, fresh);
    try {
      await this.d.doc.send(new PutCommand({ TableName: this.d.table, Item: item, ConditionExpression: 'feedSk = :old', ExpressionAttributeValues: { ':old': oldSk } }));
      return fresh;
    } catch (e) {
      if (conditionFailed(e)) return null;
      throw e;
    }
  }

  async isErased(key: { userHash: string } | { visitorId: string }): Promise<boolean> {
    const sk = 'userHash' in key ? telegramErasedDigest(key.userHash) : erasureDigest({ visitorId: key.visitorId });
    const out = await this.d.doc.send(new GetCommand({ TableName: this.d.table, Key: { pk: ERASED_PK, sk }, ConsistentRead: true, ProjectionExpression: 'pk' }));
    return out.Item !== undefined;
  }

  private async indexed(userHash: string): Promise<Record<string, unknown>[]> {
    return this.d.queryAll({ TableName: this.d.table, IndexName: 'byEmail', KeyConditionExpression: 'gsi2pk = :k', ExpressionAttributeValues: { ':k': `TG#${userHash}` } });
  }

  async erase(userHash: string, at: number): Promise<{ starts: number; payments: number; items: number; visitorIds: string[] }> {
    // Noted first: an update arriving meanwhile is then refused (a start) or kept without the person (a payment).
    await this.d.doc.send(new PutCommand({ TableName: this.d.table, Item: { pk: ERASED_PK, sk: telegramErasedDigest(userHash), at, expiresAt: toEpochSeconds(at + this.d.retentionMs()) } }));
    const rows = await this.indexed(userHash);
    const requests: Record<string, unknown>[] = [];
    const visitors = new Set<string>();
    let starts = 0;
    let payments = 0;
    for (const row of rows) {
      const pk = String(row.pk);
      if (pk.startsWith(`${ONCE_PREFIX}#`)) {
        requests.push({ PutRequest: { Item: { pk: row.pk, sk: row.sk, updateId: row.updateId, erasedAt: at, expiresAt: row.expiresAt } } });
      } else if (pk.startsWith(`${TELEGRAM_START_FEED_PREFIX}#`)) {
        const visitorId = (row.e as TelegramStart).visitorId;
        if (visitorId) visitors.add(visitorId);
        requests.push({ DeleteRequest: { Key: { pk: row.pk, sk: row.sk } } });
        starts += 1;
      } else if (pk.startsWith(`${TELEGRAM_PAYMENT_FEED_PREFIX}#`)) {
        // The same key: a cursor past it has the payment already, one before it reads it without the person.
        requests.push({ PutRequest: { Item: { pk: row.pk, sk: row.sk, e: { ...(row.e as TelegramPayment), userHash: null }, expiresAt: row.expiresAt } } });
        payments += 1;
      }
    }
    await this.d.batchWrite(requests);
    return { starts, payments, items: requests.length, visitorIds: [...visitors].sort() };
  }

  async person(userHash: string): Promise<TelegramPerson> {
    const rows = await this.indexed(userHash);
    const starts = rows.filter((r) => String(r.pk).startsWith(`${TELEGRAM_START_FEED_PREFIX}#`));
    const visitorIds = [...new Set(starts.map((r) => (r.e as TelegramStart).visitorId).filter((v): v is string => v !== null))].sort();
    const payments = rows.filter((r) => String(r.pk).startsWith(`${TELEGRAM_PAYMENT_FEED_PREFIX}#`)).length;
    return { counts: { telegramStarts: starts.length, telegramPayments: payments }, visitorIds };
  }

  async addCounts(delta: TelegramCountsDelta): Promise<void> {
    await updateCounters(this.d, { pk: META_PK, sk: COUNTERS_SK }, delta.add, {
      ...(delta.lastReceivedAt !== null ? { lastReceivedAt: delta.lastReceivedAt } : {}),
      ...(delta.lastForwardError ? { lastForwardErrorAt: delta.lastForwardError.at, lastForwardError: delta.lastForwardError.message } : {}),
    });
  }

  async counts(): Promise<TelegramCounts> {
    const out = await this.d.doc.send(new GetCommand({ TableName: this.d.table, Key: { pk: META_PK, sk: COUNTERS_SK }, ConsistentRead: true }));
    const item = (out.Item ?? {}) as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'number' ? v : 0);
    const c = noTelegramCounts();
    c.starts = num(item.starts);
    c.payments = num(item.payments);
    c.duplicates = num(item.duplicates);
    c.forwarded = num(item.forwarded);
    c.forwardFailures = num(item.forwardFailures);
    for (const r of TELEGRAM_REFUSALS) c.refused[r] = num(item[countName('refused', r)]);
    for (const r of TELEGRAM_SKIPS) c.skipped[r] = num(item[countName('skipped', r)]);
    c.lastReceivedAt = typeof item.lastReceivedAt === 'number' ? item.lastReceivedAt : null;
    if (typeof item.lastForwardErrorAt === 'number' && typeof item.lastForwardError === 'string') c.lastForwardError = { at: item.lastForwardErrorAt, message: item.lastForwardError };
    return c;
  }

  async purge(now: number, tableCreatedAt: number): Promise<number> {
    const meta = await this.d.doc.send(new GetCommand({ TableName: this.d.table, Key: { pk: META_PK, sk: PURGE_SK } }));
    const start = utcDayStart(utcDay(tableCreatedAt - DAY_MS));
    let deleted = 0;
    const next: Record<string, number> = {};
    // Token items last a day and a half; dedupe items as long as the feed items they guard (or Telegram's redeliveries).
    for (const [prefix, attribute, keepMs] of [
      [TOKEN_PREFIX, 'nextTokenDay', TELEGRAM_KEEPS_MS + 2 * DAY_MS],
      [ONCE_PREFIX, 'nextOnceDay', this.d.retentionMs() + TELEGRAM_KEEPS_MS + 2 * DAY_MS],
    ] as const) {
      const cutoffDay = utcDayStart(utcDay(now - keepMs));
      let day = (meta.Item?.[attribute] as number | undefined) ?? start;
      for (; day < cutoffDay; day += DAY_MS) {
        const rows = await this.d.queryAll({ TableName: this.d.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${prefix}#${utcDay(day)}` }, ProjectionExpression: 'pk, sk' });
        await this.d.batchWrite(rows.map((r) => ({ DeleteRequest: { Key: { pk: r.pk, sk: r.sk } } })));
        deleted += rows.length;
      }
      next[attribute] = day;
    }
    await this.d.doc.send(new PutCommand({ TableName: this.d.table, Item: { pk: META_PK, sk: PURGE_SK, ...next } }));
    return deleted;
  }
}
