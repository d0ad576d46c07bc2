import type { FeedPage } from '@revtrail/shared';
import type { FeedKind } from '../store/types';

/** How long a page read ahead waits for its request; a desktop that went away leaves nothing behind longer. */
const KEEP_MS = 30_000;

interface Ahead {
  cursor: string;
  limit: number;
  /** The erasure generation when the read began (ErasureFilter.generation). */
  generation: number;
  page: Promise<FeedPage<string>>;
  timer: NodeJS.Timeout;
}

/**
 * The local redirector's feed pages, each next one read as soon as one is answered. The desktop asks for a
 * page only once it has the previous one's cursor, so without this the store sat idle while a page travelled
 * and the desktop parsed it, and the desktop waited while the store read. One page a feed, served only to the
 * request for exactly its cursor and size, and only if no erasure began since its read did (else that
 * person's events could be in it): then it is read again. Not on Lambda, where nothing may run after a
 * response (the instance is frozen, and the next request would wait for the rest).
 */
export class FeedReadAhead {
  private readonly ahead = new Map<FeedKind, Ahead>();

  constructor(
    private readonly read: (kind: FeedKind, cursor: string | null, limit: number) => Promise<FeedPage<string>>,
    private readonly generation: () => number,
  ) {}

  /** The page at `cursor`: the one read ahead when it matches, else read now; then the next one is read ahead. */
  async page(kind: FeedKind, cursor: string | null, limit: number): Promise<FeedPage<string>> {
    const ahead = this.take(kind, cursor, limit);
    const page = (ahead && (await ahead.catch(() => null))) ?? (await this.read(kind, cursor, limit));
    if (page.hasMore) this.start(kind, page.cursor, limit);
    return page;
  }

  /** Drops every page read ahead (the server closing). */
  clear(): void {
    for (const a of this.ahead.values()) clearTimeout(a.timer);
    this.ahead.clear();
  }

  private take(kind: FeedKind, cursor: string | null, limit: number): Promise<FeedPage<string>> | null {
    const a = this.ahead.get(kind);
    if (!a) return null;
    this.ahead.delete(kind);
    clearTimeout(a.timer);
    if (a.cursor !== cursor || a.limit !== limit) return null;
    const generation = a.generation;
    // An erasure begun before the read ended may have missed it: the page counts only if none began since it started.
    return a.page.then((p) => (this.generation() === generation ? p : Promise.reject(new Error('an erasure began'))));
  }

  private start(kind: FeedKind, cursor: string, limit: number): void {
    const previous = this.ahead.get(kind);
    if (previous) clearTimeout(previous.timer);
    const page = this.read(kind, cursor, limit);
    page.catch(() => undefined); // a failed read ahead is read again by its request
    const timer = setTimeout(() => {
      if (this.ahead.get(kind)?.page === page) this.ahead.delete(kind);
    }, KEEP_MS);
    timer.unref();
    this.ahead.set(kind, { cursor, limit, generation: this.generation(), page, timer });
  }
}
