import type { Logger } from '../log';
import type { SettingsTable } from './settings';

/** One refused origin: how often its pixel was refused, and when last. */
export interface OriginRefusal {
  origin: string;
  count: number;
  lastAt: number;
}

/** The refused origins, most refused first, and what fell out of the top ones. */
export interface OriginRefusals {
  origins: OriginRefusal[];
  other: { count: number; lastAt: number | null };
}

/** How many origins the table keeps by name: a flood of made-up Origin headers adds to `other`, not to the item. */
export const REFUSED_ORIGINS_KEPT = 20;
const REFUSALS_SK = 'pixel-refusals';
/** Refusals are written at most this often per instance: a flood is one write a second. */
const COALESCE_MS = 1000;
const READ_FLUSH_BUDGET_MS = 1000;
const WRITE_ATTEMPTS = 4;
const WARN_EVERY_MS = 60_000;

const none = (): OriginRefusals => ({ origins: [], other: { count: 0, lastAt: null } });
const later = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/** `a` plus `b`, the top REFUSED_ORIGINS_KEPT origins by count (then by recency) named, the rest in `other`. */
export function mergeRefusals(a: OriginRefusals, b: OriginRefusals): OriginRefusals {
  const byOrigin = new Map<string, OriginRefusal>();
  for (const r of [...a.origins, ...b.origins]) {
    const had = byOrigin.get(r.origin);
    byOrigin.set(r.origin, had ? { origin: r.origin, count: had.count + r.count, lastAt: Math.max(had.lastAt, r.lastAt) } : { ...r });
  }
  const sorted = [...byOrigin.values()].sort((x, y) => y.count - x.count || y.lastAt - x.lastAt || (x.origin < y.origin ? -1 : 1));
  const dropped = sorted.slice(REFUSED_ORIGINS_KEPT);
  return {
    origins: sorted.slice(0, REFUSED_ORIGINS_KEPT),
    other: {
      count: a.other.count + b.other.count + dropped.reduce((n, r) => n + r.count, 0),
      lastAt: [a.other.lastAt, b.other.lastAt, ...dropped.map((r) => r.lastAt)].reduce<number | null>(later, null),
    },
  };
}

function fromItem(item: Record<string, unknown> | null): OriginRefusals {
  if (!item) return none();
  const list = Array.isArray(item.origins) ? item.origins : [];
  const other = (item.other ?? {}) as { count?: unknown; lastAt?: unknown };
  return {
    origins: list.filter((r): r is OriginRefusal => typeof r?.origin === 'string' && typeof r.count === 'number' && typeof r.lastAt === 'number'),
    other: { count: typeof other.count === 'number' ? other.count : 0, lastAt: typeof other.lastAt === 'number' ? other.lastAt : null },
  };
}

/**
 * Pixel events refused because their site is not allowed, counted per origin: counted here, merged into one
 * table item that every instance adds to (a conditional write on its version, retried on a race), so the app can
 * show which sites are refused and allow one. Best effort, like the webhook counters: a request waits at most
 * its budget for the write, and what a failed write held goes with the next one.
 */
export class OriginRefusalCounter {
  private pending = none();
  private dirty = false;
  private writing: Promise<void> | null = null;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private lastWarnAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: { table: SettingsTable; log: Logger; now: () => number }) {}

  /** One refusal of `origin` (null: a header that is not an origin, counted in `other`). */
  count(origin: string | null): void {
    const at = this.opts.now();
    this.pending = mergeRefusals(this.pending, origin === null ? { origins: [], other: { count: 1, lastAt: at } } : { origins: [{ origin, count: 1, lastAt: at }], other: { count: 0, lastAt: null } });
    this.dirty = true;
  }

  /** Writes what is counted, waiting at most `budgetMs`; `coalesce`: not when the last write began under a second ago. */
  async flush(budgetMs: number, coalesce = false): Promise<void> {
    if (this.dirty && !this.writing && !(coalesce && this.opts.now() - this.lastWriteAt < COALESCE_MS)) this.writing = this.write();
    if (!this.writing) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.writing, new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)))]);
    clearTimeout(timer);
  }

  /** The table's refusals with this instance's unwritten ones, without the origins `allowed` now takes. */
  async read(allowed: (origin: string) => boolean): Promise<OriginRefusals> {
    await this.writing;
    await this.flush(READ_FLUSH_BUDGET_MS);
    const all = mergeRefusals(fromItem(await this.opts.table.get(REFUSALS_SK)), this.pending);
    return { origins: all.origins.filter((r) => !allowed(r.origin)), other: all.other };
  }

  private async write(): Promise<void> {
    const delta = this.pending;
    this.pending = none();
    this.dirty = false;
    this.lastWriteAt = this.opts.now();
    try {
      for (let attempt = 1; ; attempt++) {
        const item = await this.opts.table.get(REFUSALS_SK);
        const version = typeof item?.version === 'number' ? item.version : 0;
        const next = mergeRefusals(fromItem(item), delta);
        if (await this.opts.table.put(REFUSALS_SK, { origins: next.origins, other: next.other }, version)) return;
        if (attempt >= WRITE_ATTEMPTS) throw new Error('another instance kept writing the refusals first');
      }
    } catch (e) {
      this.pending = mergeRefusals(this.pending, delta);
      this.dirty = true;
      if (this.opts.now() - this.lastWarnAt >= WARN_EVERY_MS) {
        this.lastWarnAt = this.opts.now();
        this.opts.log.warn({ err: (e as Error).message }, 'refused pixel origins not written; added to the next write');
      }
    } finally {
      this.writing = null;
    }
  }
}
