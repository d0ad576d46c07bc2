import type { Click, Erasure, FeedPage, Identity, Link, Pageview, StripeHint, TelegramPayment, TelegramStart, WebhookRefusal } from '@revtrail/shared';
import type { TelegramStore } from './telegram';

/** Every cursor feed of the sync API (`GET /api/v1/<kind>`); each has its own partition prefix in the table. */
export const FEED_KINDS = ['clicks', 'pageviews', 'identities', 'erasures', 'stripe-hints', 'telegram-starts', 'telegram-payments'] as const;
export type FeedKind = (typeof FEED_KINDS)[number];

export interface FeedItemOf {
  clicks: Click;
  pageviews: Pageview;
  identities: Identity;
  erasures: Erasure;
  'stripe-hints': StripeHint;
  'telegram-starts': TelegramStart;
  'telegram-payments': TelegramPayment;
}

/** A verified Stripe event as kept: the hint without the feed's own id and time, which the store assigns. */
export type StripeHintInput = Omit<StripeHint, 'id' | 'at'>;

/**
 * What storing a hint did: `stored` (new, or written now after an earlier delivery failed half-way), or
 * `duplicate` (a redelivery of an event id already kept, or of one whose object was erased since).
 */
export type HintOutcome = 'stored' | 'duplicate';

/** Counts added to the webhook endpoint's counters (UpdateItem ADD), and the latest times seen. */
export interface WebhookCounts {
  received: number;
  duplicates: number;
  ignored: number;
  refused: Record<WebhookRefusal, number>;
  lastReceivedAt: number | null;
  lastRefused: { at: number; reason: WebhookRefusal } | null;
}

export type EventRecord =
  | { kind: 'clicks'; item: Click }
  | { kind: 'pageviews'; item: Pageview }
  | { kind: 'identities'; item: Identity };

export interface WriteOptions {
  /** Abandon the write (it may still land) when this fires. */
  signal?: AbortSignal;
}

export interface EraseResult {
  visitors: number;
  items: number;
  /** The visitors erased: the one named, or those bound to the email hash. */
  visitorIds: string[];
}

/** Who a privacy request is about: a visitor id, or a keyed email hash. */
export type PersonKey = { visitorId: string } | { emailHash: string };

/** Everything the table holds about one person; items paged, identities and counts whole. */
export interface PersonPage {
  /** The visitors of this person: the one asked for, or every visitor bound to the email hash. */
  visitorIds: string[];
  /** The email hashes bound to those visitors (and the one asked for, when it has identities). */
  emailHashes: string[];
  counts: { clicks: number; pageviews: number; identities: number };
  clicks: Click[];
  pageviews: Pageview[];
  identities: Identity[];
  /** Pass back to read the next page of clicks and pageviews; null at the end. */
  cursor: string | null;
}

/** Settings changed through the sync API, kept in the table; unset ones fall back to the deployment's. */
export interface StoredSettings {
  retentionDays?: number;
}

/** What the redirector needs from its database. One implementation: DynamoDB (dynalite locally). */
export interface Store {
  getLink(slug: string, opts?: WriteOptions): Promise<Link | null>;
  listLinks(): Promise<Link[]>;
  putLink(link: Link): Promise<void>;
  /**
   * Appends events to their feeds. Each call appends anew (a fresh append id), so a second call with the
   * same event stores a second copy: retries of what may have landed go through putEventsOnce.
   */
  putEvents(records: EventRecord[], opts?: WriteOptions): Promise<void>;
  /** Appends the events whose id is not in the table yet; says how many were written and how many were there. */
  putEventsOnce(records: EventRecord[]): Promise<{ written: number; present: number }>;
  /** Events appended after `cursor` (null: from the start), in append order, up to `until`. */
  readFeed<K extends FeedKind>(kind: K, cursor: string | null, limit: number, until: number): Promise<FeedPage<FeedItemOf[K]>>;
  /** The same page with each item as its JSON text, as the store keeps it: what the sync API sends on unparsed. */
  readFeedJson(kind: FeedKind, cursor: string | null, limit: number, until: number): Promise<FeedPage<string>>;
  eraseVisitor(visitorId: string, at: number): Promise<EraseResult>;
  /** `found` runs with the visitors bound to the hash before anything is deleted (to mark them erased first). */
  eraseEmailHash(emailHash: string, at: number, found?: (visitorIds: string[]) => Promise<void>): Promise<EraseResult>;
  /**
   * Notes durably that events of these visitors and email hashes must never be stored again (only a digest
   * of each is kept), so that events still waiting in the journal or the spill are dropped when they arrive.
   */
  markErased(keys: PersonKey[], at: number): Promise<void>;
  /** Digests (erasureDigest) of every visitor id and email hash marked erased within the retention window. */
  erasedDigests(): Promise<Set<string>>;
  /** A page of what the table holds about one person: `limit` clicks and pageviews from `cursor`. */
  person(key: PersonKey, cursor: string | null, limit: number): Promise<PersonPage>;
  getSettings(): Promise<StoredSettings>;
  putSettings(settings: StoredSettings): Promise<void>;
  /** New items expire this many days after they are written; the purge deletes what is older. */
  setRetentionDays(days: number): void;
  readonly retentionDays: number;
  /** Deletes feed items older than the retention window (DynamoDB's TTL does this in AWS). */
  purgeExpired(now: number): Promise<number>;
  ping(): Promise<void>;
  /**
   * Keeps a verified Stripe event's hint once per event id, durably, before the delivery is acknowledged: the
   * event's dedupe item (holding the hint) first, then the feed item. A redelivery finds the dedupe item and
   * writes the feed item if an earlier delivery stopped between the two (docs/table.md, Stripe hints).
   */
  putStripeHint(hint: StripeHintInput): Promise<HintOutcome>;
  /**
   * Deletes the hints naming these Stripe objects; their events stay known (without the object), so a
   * redelivery adds nothing. Says how many hints went, and how many items were deleted or rewritten.
   */
  eraseStripeHints(objectIds: string[], at: number): Promise<{ hints: number; items: number }>;
  /** Adds to the webhook endpoint's counters, which every instance adds to. */
  addWebhookCounts(delta: WebhookCounts): Promise<void>;
  webhookCounts(): Promise<WebhookCounts>;
  /** Telegram bot starts and payments, their tokens, erasure and counters (store/telegram.ts). */
  readonly telegram: TelegramStore;
}
