import { createHash } from 'node:crypto';
import { erasureDigestText, type Erasure } from '@revtrail/shared';
import type { Logger } from '../log';
import type { EventRecord, PersonKey, Store } from './types';

/**
 * What the table keeps of an erased visitor id or email hash: a digest (SHA-256, 128 bits), enough to
 * recognise its events and nothing to read back. Visitor ids are 128 random bits and email hashes keyed
 * HMACs, so the digest cannot be reversed by guessing.
 */
export function erasureDigest(key: PersonKey): string {
  const text = 'visitorId' in key ? `V#${key.visitorId}` : `E#${key.emailHash}`;
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/**
 * The erasures feed's item for one erased visitor id or email hash: named by the digest the desktop keeps of
 * the people it erased (shared's erasureDigestText), never by the identifier, so the item, which stays in the
 * table for the retention window, holds nothing of the person.
 */
export function feedErasure(key: PersonKey, id: string, at: number): Erasure {
  const digest = (text: string) => createHash('sha256').update(text).digest('hex');
  return 'visitorId' in key
    ? { id, at, visitorDigest: digest(erasureDigestText('visitor', key.visitorId)), emailDigest: null }
    : { id, at, visitorDigest: null, emailDigest: digest(erasureDigestText('email', key.emailHash)) };
}

export interface ErasureFilterOptions {
  store: Store;
  log: Logger;
  /** How long the set read from the table is trusted before it is read again (other instances erase too). */
  refreshMs?: number;
  now?: () => number;
}

/**
 * Drops the events of erased people on every path that stores events after the fact: the local journal's
 * ingest, the spill queue's replay and `npm run replay-log` (the inline write on Lambda is the original
 * write, and an erasure comes after it). The erased set is one query of the table's ERASED partition,
 * held in memory and read again every `refreshMs`; checking an event is a Set lookup, and nothing at all
 * while nobody has been erased. It holds one 32-character digest per erasure within the retention
 * window, so it stays small; it is never cut short, since a forgotten entry would bring a person back.
 */
export class ErasureFilter {
  private erased: Set<string> | null = null;
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<Set<string>> | null = null;
  /** Erasures noted since the running read began, which it may have missed. */
  private noted = new Set<string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly refreshMs: number;
  private readonly now: () => number;
  /** Events dropped because their visitor or email hash was erased (this process). */
  dropped = 0;
  /** Counts erasures begun in this process: what was read before one may hold its person (feeds/read-ahead.ts). */
  generation = 0;

  constructor(private readonly opts: ErasureFilterOptions) {
    this.refreshMs = opts.refreshMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Notes the erasure in the table and in memory, then waits for the writes already past the filter, so
   * that a deletion run after this finds everything they stored.
   */
  async add(keys: PersonKey[], at: number): Promise<void> {
    this.generation += 1;
    await this.note(keys, at);
    await Promise.allSettled([...this.inflight]);
  }

  private async note(keys: PersonKey[], at: number): Promise<void> {
    await this.opts.store.markErased(keys, at);
    for (const digest of keys.map(erasureDigest)) {
      this.erased?.add(digest);
      this.noted.add(digest);
    }
  }

  /**
   * The events still to store. An identity binding an erased email hash to a visitor the table never saw
   * (it waited in the journal when the email was erased) erases that visitor too, with what was stored of it.
   */
  async keep(records: EventRecord[]): Promise<EventRecord[]> {
    const erased = await this.current();
    if (erased.size === 0) return records;
    const visitorErased = (v: string | null) => v !== null && erased.has(erasureDigest({ visitorId: v }));
    const found = new Set<string>();
    for (const r of records) {
      if (r.kind === 'identities' && !visitorErased(r.item.visitorId) && erased.has(erasureDigest({ emailHash: r.item.emailHash }))) found.add(r.item.visitorId);
    }
    if (found.size > 0) {
      const at = this.now();
      // Not add(): this write is itself in flight, and must not wait for itself.
      await this.note([...found].map((visitorId) => ({ visitorId })), at);
      for (const visitorId of found) await this.opts.store.eraseVisitor(visitorId, at);
      this.opts.log.info({ visitors: found.size }, 'visitors bound to an erased email hash erased as their identities arrived');
    }
    const kept = records.filter((r) => !visitorErased(r.item.visitorId));
    this.dropped += records.length - kept.length;
    return kept;
  }

  /** Counts `write` as in flight until it settles, for add() to wait on. */
  track<T>(write: Promise<T>): Promise<T> {
    this.inflight.add(write);
    const done = () => this.inflight.delete(write);
    write.then(done, done);
    return write;
  }

  private async current(): Promise<Set<string>> {
    if (this.erased && this.now() - this.loadedAt < this.refreshMs) return this.erased;
    if (!this.loading) this.noted = new Set();
    const noted = this.noted;
    this.loading ??= this.opts.store.erasedDigests().then(
      (set) => {
        this.loading = null;
        this.loadedAt = this.now();
        for (const d of noted) set.add(d);
        this.erased = set;
        return set;
      },
      (e: unknown) => {
        this.loading = null;
        throw e;
      },
    );
    return this.loading;
  }
}

/** The store with putEvents and putEventsOnce going through the filter; everything else as it is. */
export function erasureFiltered<S extends Store>(store: S, filter: ErasureFilter): S {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'putEvents') {
        return (records: EventRecord[], opts?: Parameters<Store['putEvents']>[1]) =>
          filter.track(filter.keep(records).then((kept) => target.putEvents(kept, opts)));
      }
      if (prop === 'putEventsOnce') {
        return (records: EventRecord[]) => filter.track(filter.keep(records).then((kept) => target.putEventsOnce(kept)));
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
