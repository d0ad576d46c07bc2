import { checkDestination, type Clock, type DestinationRules, type Link } from '@revtrail/shared';
import type { Logger } from './log';
import type { Store } from './store/types';

interface Entry {
  link: Link | null;
  fetchedAt: number;
  /** Whether the link's destination passes today's rules: checked once per fetch, not per redirect. */
  passes?: boolean;
}

export type LinkLookup = { status: 'found'; link: Link } | { status: 'missing' } | { status: 'unavailable' };

/** Unknown slugs are remembered briefly, so a scan of random paths does not become a scan of the table. */
const NEGATIVE_TTL_MS = 5_000;
const MAX_ENTRIES = 50_000;

/**
 * Links in memory, so a redirect needs no database round trip: loaded at start, served while fresh,
 * served stale while a background refresh runs, and kept when the store is down. A link stored before
 * the destination rules refused its destination is answered as missing (the fallback or the 404 page):
 * the redirector never sends a visitor where it would not let a link be saved.
 */
export class LinkCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Entry>>();

  constructor(
    private readonly opts: { store: Store; clock: Clock; log: Logger; ttlMs: number; lookupBudgetMs: number; destinations: () => DestinationRules },
  ) {}

  /** Loads every link (in the background at start; a failure only means lookups go to the store). */
  async preload(): Promise<number> {
    const links = await this.opts.store.listLinks();
    const now = this.opts.clock.now();
    for (const link of links) this.remember(link.slug, { link, fetchedAt: now });
    return links.length;
  }

  set(link: Link): void {
    this.remember(link.slug, { link, fetchedAt: this.opts.clock.now() });
  }

  /** The answer from memory without waiting (a stale entry is refreshed in the background), or undefined when the store must be asked. */
  cached(slug: string): LinkLookup | undefined {
    const entry = this.entries.get(slug);
    if (!entry) return undefined;
    const ttl = entry.link ? this.opts.ttlMs : Math.min(this.opts.ttlMs, NEGATIVE_TTL_MS);
    if (this.opts.clock.now() - entry.fetchedAt > ttl) {
      void this.fetch(slug).catch((e: unknown) => this.opts.log.warn({ slug, err: (e as Error).message }, 'link refresh failed; serving the cached link'));
    }
    return this.answer(entry);
  }

  async get(slug: string): Promise<LinkLookup> {
    const hit = this.cached(slug);
    if (hit) return hit;
    try {
      return this.answer(await this.fetch(slug, this.opts.lookupBudgetMs));
    } catch (e) {
      this.opts.log.warn({ slug, err: (e as Error).message }, 'link lookup failed');
      return { status: 'unavailable' };
    }
  }

  private answer(entry: Entry): LinkLookup {
    const link = entry.link;
    if (!link) return { status: 'missing' };
    if (entry.passes === undefined) {
      const verdict = checkDestination(link.destination, this.opts.destinations());
      entry.passes = verdict.ok;
      if (!verdict.ok) this.opts.log.warn({ slug: link.slug, rule: verdict.rule }, 'stored link not followed: its destination is refused; save it again with an allowed one');
    }
    return entry.passes ? { status: 'found', link } : { status: 'missing' };
  }

  private fetch(slug: string, budgetMs?: number): Promise<Entry> {
    let pending = this.inflight.get(slug);
    if (!pending) {
      const signal = budgetMs === undefined ? undefined : AbortSignal.timeout(budgetMs);
      pending = this.opts.store
        .getLink(slug, { signal })
        .then((link) => {
          const entry = { link, fetchedAt: this.opts.clock.now() };
          this.remember(slug, entry);
          return entry;
        })
        .finally(() => this.inflight.delete(slug));
      this.inflight.set(slug, pending);
    }
    return pending;
  }

  private remember(slug: string, entry: Entry): void {
    this.entries.delete(slug);
    this.entries.set(slug, entry);
    if (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}
