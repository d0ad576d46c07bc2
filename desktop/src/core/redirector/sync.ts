import type { Clock, StripeHint } from '@revtrail/shared';
import type { Db } from '../db/open';
import { sortHints, type HintScope, type SortedHints } from '../stripe/hints';
import { addHints } from '../stripe/repo';
import { insertTelegramPayments, insertTelegramStarts } from '../telegram/repo';
import { recordResourceFailure, recordResourceSuccess, type ResourceFailure } from '../sync-state/repo';
import { RedirectorError, type RedirectorClient, type RedirectorErrorKind, type RedirectorFeed } from './client';
import {
  applyErasures,
  clearLinkPush,
  getCursor,
  insertClicks,
  insertIdentities,
  insertPageviews,
  notePushAttempt,
  pendingLinkPushes,
  setCursor,
  upsertLinks,
} from './repo';

/** What a redirector sync reads or sends, each on its own: one failing does not stop the others. */
export type RedirectorResource = 'link-pushes' | 'links' | RedirectorFeed;

export interface PullProgress {
  feed: RedirectorFeed | 'links';
  /** Items received from this feed so far in this pull. */
  received: number;
  /** Rows added (or deleted, for erasures) so far. */
  changed: number;
  done: boolean;
}

export interface PushResult {
  pushed: number;
  /** Changes the redirector refused, with its reason: kept until the user retries or discards them. */
  rejected: { slug: string; status: number | null; message: string }[];
}

export interface PullResult extends PushResult {
  links: number;
  clicks: number;
  pageviews: number;
  identities: number;
  erased: number;
  /** Stripe webhook hints kept to be read by id (0 when Stripe is not connected: the feed is then not read). */
  stripeHints: number;
  /** Telegram bot starts and payments added. */
  telegramStarts: number;
  telegramPayments: number;
  /** What could not be read or sent this time, and why; everything else was. */
  skipped: ResourceFailure[];
}

export interface PullOptions {
  clock: Clock;
  /** Items asked for a page (PAGE_ITEMS); an older redirector that refuses it is asked OLD_PAGE_MAX. */
  pageSize?: number;
  /** Items gathered from pages before they are written in one transaction (WRITE_ITEMS); tests write small. */
  writeItems?: number;
  /** Called after each write (a few pages together), and at the end of each feed. */
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
  /** Retries of an unavailable redirector per call, with exponential backoff and jitter. */
  retries?: number;
  retryBaseMs?: number;
  /** The Stripe account and mode the workspace reads: the webhook hint feed is read only with one. */
  stripeHints?: HintScope | null;
}

// Erasures last: what they name may arrive in the other feeds of the same pull. They run even when a feed
// before them failed: an erasure is a promise to a visitor, and the inserts refuse what was erased already.
/**
 * Items asked for a page. The next page is asked for while this one is written, one request ahead (its request
 * needs this page's cursor); a local redirector also reads several pages ahead of the requests
 * (redirector/src/feeds/read-ahead.ts), so the store reads while SQLite writes. Redirectors before pages of
 * 5,000 refuse more than OLD_PAGE_MAX (400).
 */
export const PAGE_ITEMS = 5000;
const OLD_PAGE_MAX = 1000;

const FEEDS = ['clicks', 'pageviews', 'identities', 'telegram-starts', 'telegram-payments', 'erasures'] as const satisfies RedirectorFeed[];
/** PullResult's field for each feed. */
const RESULT_FIELD = { clicks: 'clicks', pageviews: 'pageviews', identities: 'identities', 'telegram-starts': 'telegramStarts', 'telegram-payments': 'telegramPayments', erasures: 'erased' } as const;

const CODE_OF: Record<RedirectorErrorKind, string> = {
  unauthorized: 'unauthorized',
  unavailable: 'unavailable',
  rejected: 'refused',
  missing: 'not_found',
  foreign: 'blocked',
};

/**
 * Sends queued link changes, then pulls links and every event feed into the workspace database. Each of
 * these runs on its own: one that fails (a feed an older redirector lacks, a proxy's 403, a timeout after
 * the retries) is recorded in the sync state with its reason and listed in `skipped`, while the others
 * complete. A refused token stops everything at once, and when nothing at all could be read the first
 * failure is thrown. Each page is written in one transaction with its feed's cursor, so a pull killed at
 * any point resumes where the last committed page ended, and a page received twice adds nothing twice.
 */
export function pullRedirector(db: Db, client: RedirectorClient, opts: PullOptions): Promise<PullResult> {
  return withPullCache(db, () => pullAll(db, client, opts));
}

async function pullAll(db: Db, client: RedirectorClient, opts: PullOptions): Promise<PullResult> {
  const pageSize = opts.pageSize ?? PAGE_ITEMS;
  const result: PullResult = { pushed: 0, rejected: [], links: 0, clicks: 0, pageviews: 0, identities: 0, erased: 0, stripeHints: 0, telegramStarts: 0, telegramPayments: 0, skipped: [] };
  const failures: RedirectorError[] = [];
  let read = 0;
  // Once one resource used up its retries on an unreachable redirector, the rest try once each: they would
  // most likely wait out the same outage, and a sync should end in seconds, not minutes.
  let retries = opts.retries;

  const attempt = async (resource: RedirectorResource, work: (o: PullOptions) => Promise<void>) => {
    opts.signal?.throwIfAborted();
    try {
      await work({ ...opts, retries });
      recordResourceSuccess(db, 'redirector', resource, opts.clock.now());
      if (resource !== 'link-pushes') read += 1;
    } catch (e) {
      if (!(e instanceof RedirectorError)) throw e;
      const failure = failureOf(resource, e);
      recordResourceFailure(db, failure, opts.clock.now());
      if (e.kind === 'unauthorized') throw e;
      if (e.kind === 'unavailable') retries = 0;
      failures.push(e);
      result.skipped.push(failure);
    }
  };

  await attempt('link-pushes', async (o) => {
    const pushed = await pushLinks(db, client, o);
    result.pushed = pushed.pushed;
    result.rejected = pushed.rejected;
  });

  await attempt('links', async (o) => {
    const links = await withRetry(() => client.links(), o);
    db.transaction(() => upsertLinks(db, links))();
    result.links = links.length;
    opts.onProgress?.({ feed: 'links', received: links.length, changed: links.length, done: true });
  });

  for (const feed of FEEDS) {
    await attempt(feed, async (o) => {
      result[RESULT_FIELD[feed]] = await pullFeed(db, client, feed, pageSize, o);
    });
  }
  const scope = opts.stripeHints;
  if (scope) await attempt('stripe-hints', async (o) => void (result.stripeHints = (await inTurn(db, () => readHintFeed(db, client, scope, pageSize, o))).kept.length));
  if (read === 0 && failures[0]) throw failures[0];
  return result;
}

const failureOf = (resource: RedirectorResource, e: RedirectorError): ResourceFailure => ({ source: 'redirector', resource, code: CODE_OF[e.kind], message: e.message });

/**
 * The link push on its own (a save, a retry from the Sync screen), its outcome recorded as a sync records
 * it: the state shown for link changes is the latest try's, whoever made it.
 */
export async function pushLinksNow(db: Db, client: RedirectorClient, opts: PullOptions): Promise<PushResult> {
  try {
    const result = await pushLinks(db, client, opts);
    recordResourceSuccess(db, 'redirector', 'link-pushes', opts.clock.now());
    return result;
  } catch (e) {
    if (e instanceof RedirectorError) recordResourceFailure(db, failureOf('link-pushes', e), opts.clock.now());
    throw e;
  }
}

export interface HintFeedResult {
  /** Hints the feed brought. */
  received: number;
  /** Those kept to be read by id: of the workspace's Stripe account and mode, well-formed, not read already. */
  kept: { type: SortedHints['keep'][number]['type']; id: string }[];
  ignored: SortedHints['ignored'];
}

/**
 * The Stripe webhook hint feed on its own, from its cursor (the 15-second read while the app is open), its
 * outcome recorded as a sync records it. Each page's hints go into stripe_hints in the page's transaction with
 * the cursor. Reads of the same workspace's feed take turns, so two never move its cursor apart.
 */
export function pullHintFeed(db: Db, client: RedirectorClient, scope: HintScope, opts: PullOptions): Promise<HintFeedResult> {
  return inTurn(db, async () => {
    try {
      const result = await readHintFeed(db, client, scope, opts.pageSize ?? PAGE_ITEMS, opts);
      recordResourceSuccess(db, 'redirector', 'stripe-hints', opts.clock.now());
      return result;
    } catch (e) {
      if (e instanceof RedirectorError) recordResourceFailure(db, failureOf('stripe-hints', e), opts.clock.now());
      throw e;
    }
  });
}

const hintFeedTurns = new WeakMap<Db, Promise<unknown>>();
function inTurn<T>(db: Db, work: () => Promise<T>): Promise<T> {
  const run = (hintFeedTurns.get(db) ?? Promise.resolve()).then(work, work);
  hintFeedTurns.set(db, run.catch(() => undefined));
  return run;
}

async function readHintFeed(db: Db, client: RedirectorClient, scope: HintScope, pageSize: number, opts: PullOptions): Promise<HintFeedResult> {
  const result: HintFeedResult = { received: 0, kept: [], ignored: { otherMode: 0, otherAccount: 0, malformed: 0, covered: 0 } };
  await pullFeed(db, client, 'stripe-hints', pageSize, opts, (items) => {
    const sorted = sortHints(items as StripeHint[], scope);
    addHints(db, sorted.keep, opts.clock.now());
    result.received += items.length;
    result.kept.push(...sorted.keep);
    for (const k of Object.keys(sorted.ignored) as (keyof SortedHints['ignored'])[]) result.ignored[k] += sorted.ignored[k];
    return sorted.keep.length;
  });
  return result;
}

/**
 * Pages received are written together, in one transaction with the last one's cursor, once this many items
 * or WRITE_AFTER_MS have gathered (or the feed ends). A page of 1,000 clicks touches about as many pages of the
 * clicks' visitor index, scattered, and every commit wrote each of them again (with a WAL checkpoint nearly
 * every commit). insertClicks in a loop on this machine (load average 5-6): 200,000 clicks at ~16,000/s in
 * writes of 1,000, ~70,000/s in writes of 10,000; 1,000,000 clicks at ~16,000/s in writes of 10,000, ~24,000/s
 * with a larger page cache (WORKSPACE_PRAGMAS), ~51,000/s in writes of 25,000. Not 25,000: the items gathered
 * (parsed) and the garbage of their write raised the pull's peak RSS from 389 MB to 526 MB at 1M clicks, past
 * the 500 MB bench:sync holds it to. A pull stopped meanwhile resumes from the last cursor committed, as
 * before, and reads those pages again.
 */
const WRITE_ITEMS = 10_000;
const WRITE_AFTER_MS = 2000;

/**
 * SQLite's page cache while a pull writes, in KiB (2 MB otherwise): at a million clicks the visitor index alone
 * is ~70 MB, and a write of 10,000 clicks into it, scattered, spilled pages and read them back throughout
 * (1,000,000 clicks in writes of 10,000: 61.5 s with 2 MB, 40.9 s with 64 MB). Only while pulling: kept on the
 * connection, 32 MB more stayed resident through the Stripe sync after it (bench:sync's peak RSS).
 */
export const PULL_CACHE_KIB = 32_768;
const pulls = new WeakMap<Db, { count: number; was: number }>();

/** Runs a pull with the larger page cache; the last pull of a connection to end gives the cache and its memory back. */
async function withPullCache<T>(db: Db, work: () => Promise<T>): Promise<T> {
  const state = pulls.get(db) ?? { count: 0, was: db.pragma('cache_size', { simple: true }) as number };
  if (state.count++ === 0) {
    pulls.set(db, state);
    db.pragma(`cache_size = -${PULL_CACHE_KIB}`);
  }
  try {
    return await work();
  } finally {
    if (--state.count === 0) {
      pulls.delete(db);
      if (db.open) {
        db.pragma(`cache_size = ${state.was}`);
        db.pragma('shrink_memory');
      }
    }
  }
}

/** Pulls one feed from its cursor to its end; returns the rows it added (or deleted, for erasures). */
async function pullFeed(
  db: Db,
  client: RedirectorClient,
  feed: RedirectorFeed,
  pageSize: number,
  opts: PullOptions,
  write: (items: unknown[]) => number = (items) => writePage(db, feed as (typeof FEEDS)[number], items),
): Promise<number> {
  let limit = pageSize;
  const fetchPage = (cursor: string | null) =>
    withRetry(async () => {
      try {
        return await client.feed(feed, cursor, limit);
      } catch (e) {
        if (!(e instanceof RedirectorError) || e.kind !== 'rejected' || e.status !== 400 || limit <= OLD_PAGE_MAX) throw e;
        limit = OLD_PAGE_MAX; // an older redirector: its pages are 1,000 at most
        return client.feed(feed, cursor, limit);
      }
    }, opts);
  let received = 0;
  let changed = 0;
  let gathered: unknown[] = [];
  let writtenAt = performance.now();
  let next = fetchPage(getCursor(db, feed));
  for (;;) {
    const page = await next;
    opts.signal?.throwIfAborted();
    // The next page is asked for before this one is written, so the redirector reads while SQLite writes.
    // It starts from this page's cursor and lives only in memory: if the write fails or the process dies,
    // the next pull resumes from the cursor last committed, as before.
    if (page.hasMore) {
      next = fetchPage(page.cursor);
      next.catch(() => undefined); // awaited on the next turn; not left unhandled if this write throws
    }
    for (const item of page.items) gathered.push(item);
    received += page.items.length;
    if (page.hasMore && gathered.length < (opts.writeItems ?? WRITE_ITEMS) && performance.now() - writtenAt < WRITE_AFTER_MS) continue;
    const items = gathered;
    gathered = [];
    changed += db.transaction(() => {
      const n = write(items);
      setCursor(db, feed, page.cursor, opts.clock.now());
      return n;
    })();
    writtenAt = performance.now();
    opts.onProgress?.({ feed, received, changed, done: !page.hasMore });
    if (!page.hasMore) return changed;
  }
}

/**
 * Sends the queued link changes to the redirector, oldest first. A pushed link is stored as the redirector
 * answered it. A change the redirector refuses is kept as refused with its reason: it is not sent again by
 * itself (it would be refused again), and only the user retries or discards it. When the redirector cannot
 * be reached, refuses the token or something is in the way, the change stays queued with that reason, and
 * the error is thrown: the changes after it would meet the same.
 */
export async function pushLinks(db: Db, client: RedirectorClient, opts: PullOptions): Promise<PushResult> {
  const result: PushResult = { pushed: 0, rejected: [] };
  for (const push of pendingLinkPushes(db)) {
    try {
      const link = await withRetry(() => client.putLink(push.slug, push.input), opts);
      db.transaction(() => {
        upsertLinks(db, [link]);
        clearLinkPush(db, push);
      })();
      result.pushed += 1;
    } catch (e) {
      if (!(e instanceof RedirectorError)) throw e;
      const refused = e.kind === 'rejected';
      const reason = refused ? (e.detail ?? e.message) : e.message;
      notePushAttempt(db, push, { state: refused ? 'refused' : 'queued', at: opts.clock.now(), status: e.status ?? null, reason });
      if (!refused) throw e;
      result.rejected.push({ slug: push.slug, status: e.status ?? null, message: reason });
    }
  }
  return result;
}

function writePage(db: Db, feed: (typeof FEEDS)[number], items: unknown[]): number {
  switch (feed) {
    case 'clicks':
      return insertClicks(db, items as Parameters<typeof insertClicks>[1]);
    case 'pageviews':
      return insertPageviews(db, items as Parameters<typeof insertPageviews>[1]);
    case 'identities':
      return insertIdentities(db, items as Parameters<typeof insertIdentities>[1]);
    case 'telegram-starts':
      return insertTelegramStarts(db, items as Parameters<typeof insertTelegramStarts>[1]);
    case 'telegram-payments':
      return insertTelegramPayments(db, items as Parameters<typeof insertTelegramPayments>[1]);
    case 'erasures':
      return applyErasures(db, items as Parameters<typeof applyErasures>[1]);
  }
}

async function withRetry<T>(call: () => Promise<T>, opts: PullOptions): Promise<T> {
  const retries = opts.retries ?? 5;
  const base = opts.retryBaseMs ?? 500;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof RedirectorError) || e.kind !== 'unavailable' || attempt >= retries) throw e;
      const backoff = e.retryAfterMs ?? base * 2 ** attempt;
      const wait = backoff / 2 + Math.random() * (backoff / 2);
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, wait);
        opts.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(opts.signal!.reason);
        }, { once: true });
      });
    }
  }
}
