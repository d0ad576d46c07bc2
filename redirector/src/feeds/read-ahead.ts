import type { FeedPage } from '@revtrail/shared';
import type { FeedKind } from '../store/types';

/** How long pages read ahead wait for their request; a desktop that went away leaves nothing behind longer. */
const KEEP_MS = 30_000;

/**
 * Pages a feed reads ahead of the requests. The desktop gathers pages and writes them together (about 10,000
 * items: three pages of clicks held to FEED_PAGE_CHARS), asking for each next page only once it has the one
 * before. With one page ahead, the store read one page while the desktop wrote and then sat idle, and the
 * desktop then waited for the other two, one after the other: at 1,000,000 clicks it waited 21 of a pull's 44 s
 * (bench:sync). Four cover a write with one to spare; at most ~6 MB of text per feed.
 */
export const READ_AHEAD_PAGES = 4;

interface Ahead {
  cursor: string;
  /** The erasure generation when the read began (ErasureFilter.generation). */
  generation: number;
  page: Promise<FeedPage<string>>;
}

/** A feed's pages read ahead, in order, one read at a time (each starts from the cursor of the one before). */
interface Chain {
  limit: number;
  pages: Ahead[];
  /** A read is running (the last of `pages`). */
  reading: boolean;
  /** Where the next read starts, once there is room; null at the feed's end or while a read runs. */
  next: string | null;
  timer: NodeJS.Timeout;
}

/**
 * The local redirector's feed pages, read ahead of the desktop's requests: after a page is answered the next
 * ones are read, up to READ_AHEAD_PAGES, one after the other. A page is served only to the request for exactly
 * its cursor and size, and only if no erasure began since its read did (else that person's events could be in
 * it): then it is read again, and the pages after it are checked the same way when asked for. A request for any
 * other cursor or size drops the feed's pages and reads its own. Not on Lambda, where nothing may run after a
 * response (the instance is frozen, and the next request would wait for the rest).
 */
export class FeedReadAhead {
  private readonly chains = new Map<FeedKind, Chain>();

  constructor(
    private readonly read: (kind: FeedKind, cursor: string | null, limit: number) => Promise<FeedPage<string>>,
    private readonly generation: () => number,
    private readonly depth: number = READ_AHEAD_PAGES,
  ) {}

  /** The page at `cursor`: the one read ahead when it matches, else read now; then the next ones are read ahead. */
  async page(kind: FeedKind, cursor: string | null, limit: number): Promise<FeedPage<string>> {
    const ahead = this.take(kind, cursor, limit);
    const page = (ahead && (await ahead.catch(() => null))) ?? (await this.read(kind, cursor, limit));
    if (page.hasMore) this.follow(kind, page.cursor, limit);
    else this.drop(kind);
    return page;
  }

  /** Drops every page read ahead (the server closing). */
  clear(): void {
    for (const kind of [...this.chains.keys()]) this.drop(kind);
  }

  private take(kind: FeedKind, cursor: string | null, limit: number): Promise<FeedPage<string>> | null {
    const chain = this.chains.get(kind);
    if (!chain) return null;
    const first = chain.pages[0];
    if (!first || first.cursor !== cursor || chain.limit !== limit) {
      this.drop(kind);
      return null;
    }
    chain.pages.shift();
    const generation = first.generation;
    // An erasure begun before the read ended may have missed it: the page counts only if none began since it started.
    return first.page.then((p) => (this.generation() === generation ? p : Promise.reject(new Error('an erasure began'))));
  }

  /** After a page ending at `cursor` was answered: the feed's pages go on from there. */
  private follow(kind: FeedKind, cursor: string, limit: number): void {
    let chain = this.chains.get(kind);
    // The pages kept must start where this one ended (a page read again after an erasure can end elsewhere).
    if (chain && (chain.limit !== limit || (chain.pages[0]?.cursor ?? chain.next) !== cursor)) {
      this.drop(kind);
      chain = undefined;
    }
    if (chain) chain.timer.refresh();
    else this.chains.set(kind, (chain = this.newChain(kind, cursor, limit)));
    this.extend(kind, chain);
  }

  private newChain(kind: FeedKind, cursor: string, limit: number): Chain {
    const timer = setTimeout(() => this.chains.get(kind) === chain && this.drop(kind), KEEP_MS);
    timer.unref();
    const chain: Chain = { limit, pages: [], reading: false, next: cursor, timer };
    return chain;
  }

  /** Starts the chain's next read when there is room and none is running. */
  private extend(kind: FeedKind, chain: Chain): void {
    if (this.chains.get(kind) !== chain || chain.reading || chain.next === null || chain.pages.length >= this.depth) return;
    const cursor = chain.next;
    chain.next = null;
    chain.reading = true;
    const page = this.read(kind, cursor, chain.limit);
    chain.pages.push({ cursor, generation: this.generation(), page });
    page.then(
      (p) => {
        chain.reading = false;
        if (!p.hasMore) return;
        chain.next = p.cursor;
        this.extend(kind, chain);
      },
      // A failed read ends the chain here: its request reads the page again, and the pages go on from it.
      () => void (chain.reading = false),
    );
  }

  private drop(kind: FeedKind): void {
    const chain = this.chains.get(kind);
    if (!chain) return;
    clearTimeout(chain.timer);
    this.chains.delete(kind);
  }
}
