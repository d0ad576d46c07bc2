import type { Click, Erasure, FeedPage, Identity, Link, Pageview } from '@revtrail/shared';

export type FeedKind = 'clicks' | 'pageviews' | 'identities' | 'erasures';

export interface FeedItemOf {
  clicks: Click;
  pageviews: Pageview;
  identities: Identity;
  erasures: Erasure;
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
  eraseVisitor(visitorId: string, at: number): Promise<EraseResult>;
  eraseEmailHash(emailHash: string, at: number): Promise<EraseResult>;
  /** Deletes feed items older than the retention window (DynamoDB's TTL does this in AWS). */
  purgeExpired(now: number): Promise<number>;
  ping(): Promise<void>;
}
