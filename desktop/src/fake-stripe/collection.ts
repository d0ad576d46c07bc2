/**
 * One kind of object in one account, kept the way Stripe lists it: ordered by `created` with ties broken by
 * insertion order, plus an index by id. Stored oldest first so that the usual insert (the newest object)
 * is an append; lists walk it from the end.
 */

export interface Stored {
  id: string;
  created: number;
}

/** Stripe's `created` filter: a plain value or any of gt / gte / lt / lte (unix seconds). */
export interface CreatedRange {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

export interface PageRequest {
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
  created?: CreatedRange;
}

export type PageResult<T> =
  | { ok: true; data: T[]; hasMore: boolean }
  | { ok: false; missingCursor: { param: 'starting_after' | 'ending_before'; id: string } };

interface Entry<T> {
  item: T;
  seq: number;
}

export class Collection<T extends Stored> {
  private entries: Entry<T>[] = [];
  private readonly byId = new Map<string, Entry<T>>();
  private nextSeq = 0;

  get size(): number {
    return this.entries.length;
  }

  get(id: string): T | undefined {
    return this.byId.get(id)?.item;
  }

  add(item: T): T {
    if (this.byId.has(item.id)) throw new Error(`fake Stripe: duplicate id ${item.id}`);
    const entry = { item, seq: this.nextSeq++ };
    const last = this.entries[this.entries.length - 1];
    // The usual insert is the newest object: an append, no search.
    if (!last || last.item.created <= item.created) this.entries.push(entry);
    else this.entries.splice(this.upperBound(entry), 0, entry);
    this.byId.set(item.id, entry);
    return item;
  }

  /** Removes an object (a deleted webhook endpoint); false when there was none with that id. */
  remove(id: string): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    this.entries.splice(this.upperBound(entry) - 1, 1);
    this.byId.delete(id);
    return true;
  }

  /** Bulk insert for generated data sets: one sort instead of one splice per object. */
  addMany(items: readonly T[]): void {
    for (const item of items) {
      if (this.byId.has(item.id)) throw new Error(`fake Stripe: duplicate id ${item.id}`);
      const entry = { item, seq: this.nextSeq++ };
      this.entries.push(entry);
      this.byId.set(item.id, entry);
    }
    this.entries.sort(compare);
  }

  /** Every object, newest first. */
  newestFirst(): T[] {
    const out: T[] = new Array<T>(this.entries.length);
    for (let i = 0; i < this.entries.length; i++) out[i] = this.entries[this.entries.length - 1 - i]!.item;
    return out;
  }

  /**
   * One page of a Stripe list: newest first, `starting_after` walks to older objects, `ending_before` to
   * newer ones (the page nearest the cursor, still newest first); `hasMore` says whether more matching
   * objects lie beyond the page in the direction of travel.
   */
  page(req: PageRequest, matches: (item: T) => boolean = () => true): PageResult<T> {
    const [lo, hi] = this.createdBounds(req.created);
    const found: T[] = [];
    if (req.endingBefore !== undefined) {
      const cursor = this.byId.get(req.endingBefore);
      if (!cursor) return { ok: false, missingCursor: { param: 'ending_before', id: req.endingBefore } };
      for (let i = Math.max(lo, this.upperBound(cursor)); i < hi && found.length <= req.limit; i++) {
        const item = this.entries[i]!.item;
        if (matches(item)) found.push(item);
      }
      const hasMore = found.length > req.limit;
      return { ok: true, data: found.slice(0, req.limit).reverse(), hasMore };
    }
    let start = hi - 1;
    if (req.startingAfter !== undefined) {
      const cursor = this.byId.get(req.startingAfter);
      if (!cursor) return { ok: false, missingCursor: { param: 'starting_after', id: req.startingAfter } };
      start = Math.min(start, this.upperBound(cursor) - 2);
    }
    for (let i = start; i >= lo && found.length <= req.limit; i--) {
      const item = this.entries[i]!.item;
      if (matches(item)) found.push(item);
    }
    const hasMore = found.length > req.limit;
    return { ok: true, data: found.slice(0, req.limit), hasMore };
  }

  /** Index range [lo, hi) of the entries whose `created` lies in the range. */
  private createdBounds(range: CreatedRange | undefined): [number, number] {
    if (!range) return [0, this.entries.length];
    let min = -Infinity;
    let max = Infinity;
    if (range.gte !== undefined) min = Math.max(min, range.gte);
    if (range.gt !== undefined) min = Math.max(min, range.gt + 1);
    if (range.lte !== undefined) max = Math.min(max, range.lte);
    if (range.lt !== undefined) max = Math.min(max, range.lt - 1);
    const lo = this.firstCreatedAtLeast(min);
    const hi = this.firstCreatedAtLeast(max + 1);
    return [lo, Math.max(lo, hi)];
  }

  private firstCreatedAtLeast(created: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.item.created < created) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index just past the last entry that sorts at or before `entry`. */
  private upperBound(entry: Entry<T>): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(this.entries[mid]!, entry) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function compare<T extends Stored>(a: Entry<T>, b: Entry<T>): number {
  return a.item.created - b.item.created || a.seq - b.seq;
}

/** A collection that tells listeners of each object added: how the state hears of events to deliver. */
export class ObservedCollection<T extends Stored> extends Collection<T> {
  // A subclass, so the listener's parameter type does not make every Collection<T> invariant in T.
  private readonly listeners: ((item: T) => void)[] = [];

  onAdd(listener: (item: T) => void): void {
    this.listeners.push(listener);
  }

  override add(item: T): T {
    super.add(item);
    for (const listener of this.listeners) listener(item);
    return item;
  }

  override addMany(items: readonly T[]): void {
    super.addMany(items);
    for (const item of items) for (const listener of this.listeners) listener(item);
  }
}
