import type { Clock } from '@revtrail/shared';
import type { Db } from '../db/open';
import { RedirectorError, type RedirectorClient, type RedirectorFeed } from './client';
import {
  applyErasures,
  clearLinkPush,
  getCursor,
  insertClicks,
  insertIdentities,
  insertPageviews,
  pendingLinkPushes,
  setCursor,
  upsertLinks,
} from './repo';

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
  /** Changes the redirector refused (they are dropped, with its reason). */
  rejected: { slug: string; message: string }[];
}

export interface PullResult extends PushResult {
  links: number;
  clicks: number;
  pageviews: number;
  identities: number;
  erased: number;
}

export interface PullOptions {
  clock: Clock;
  pageSize?: number;
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
  /** Retries of an unavailable redirector per call, with exponential backoff and jitter. */
  retries?: number;
  retryBaseMs?: number;
}

// Erasures last: what they name may arrive in the other feeds of the same pull.
const FEEDS: RedirectorFeed[] = ['clicks', 'pageviews', 'identities', 'erasures'];

/**
 * Pulls links and every event feed from the redirector into the workspace database. Each page is written
 * in one transaction together with the feed's cursor, so a pull killed at any point resumes where the
 * last committed page ended, and a page received twice adds nothing twice.
 */
export async function pullRedirector(db: Db, client: RedirectorClient, opts: PullOptions): Promise<PullResult> {
  const pageSize = opts.pageSize ?? 1000;
  const pushed = await pushLinks(db, client, opts);
  const result: PullResult = { ...pushed, links: 0, clicks: 0, pageviews: 0, identities: 0, erased: 0 };

  const links = await withRetry(() => client.links(), opts);
  db.transaction(() => upsertLinks(db, links))();
  result.links = links.length;
  opts.onProgress?.({ feed: 'links', received: links.length, changed: links.length, done: true });

  const fetchPage = (feed: RedirectorFeed, cursor: string | null) => withRetry(() => client.feed(feed, cursor, pageSize), opts);
  for (const feed of FEEDS) {
    let received = 0;
    let changed = 0;
    opts.signal?.throwIfAborted();
    let next = fetchPage(feed, getCursor(db, feed));
    for (;;) {
      const page = await next;
      opts.signal?.throwIfAborted();
      // The next page is asked for before this one is written, so the redirector reads while SQLite writes.
      // It starts from this page's cursor and lives only in memory: if the write fails or the process dies,
      // the next pull resumes from the cursor last committed, as before.
      if (page.hasMore) {
        next = fetchPage(feed, page.cursor);
        next.catch(() => undefined); // awaited on the next turn; not left unhandled if this write throws
      }
      const added = db.transaction(() => {
        const n = writePage(db, feed, page.items);
        setCursor(db, feed, page.cursor, opts.clock.now());
        return n;
      })();
      received += page.items.length;
      changed += added;
      opts.onProgress?.({ feed, received, changed, done: !page.hasMore });
      if (!page.hasMore) break;
    }
    if (feed === 'erasures') result.erased = changed;
    else result[feed] = changed;
  }
  return result;
}

/**
 * Sends the link changes made here to the redirector, oldest first. A pushed link is stored as the
 * redirector answered it. Throws when the redirector is unavailable or refuses the token: the changes
 * stay queued for the next sync.
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
      if (!(e instanceof RedirectorError) || e.kind !== 'rejected') throw e;
      clearLinkPush(db, push);
      result.rejected.push({ slug: push.slug, message: e.message });
    }
  }
  return result;
}

function writePage(db: Db, feed: RedirectorFeed, items: unknown[]): number {
  switch (feed) {
    case 'clicks':
      return insertClicks(db, items as Parameters<typeof insertClicks>[1]);
    case 'pageviews':
      return insertPageviews(db, items as Parameters<typeof insertPageviews>[1]);
    case 'identities':
      return insertIdentities(db, items as Parameters<typeof insertIdentities>[1]);
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
