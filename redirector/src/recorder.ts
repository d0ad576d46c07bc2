import type { Logger } from './log';
import type { Spill } from './spill/types';
import type { EventRecord, Store } from './store/types';

export interface RecorderStats {
  stored: number;
  spilled: number;
  queued: number;
}

/**
 * Writes clicks, pageviews and identities without ever holding a visitor back.
 * - `inline` (Lambda, where nothing may run after the response): the write gets `budgetMs`; past that,
 *   or on an error, the events go to the spill.
 * - `background` (the long-running local server): record() returns at once; a writer drains the queue
 *   in batches, and a batch the store refuses, or a queue past `maxQueue`, goes to the spill.
 */
export class EventRecorder {
  private readonly queue: EventRecord[] = [];
  private draining: Promise<void> | null = null;
  private readonly counts = { stored: 0, spilled: 0 };

  constructor(
    private readonly opts: {
      store: Store;
      spill: Spill;
      log: Logger;
      mode: 'inline' | 'background';
      budgetMs: number;
      batchSize?: number;
      maxQueue?: number;
    },
  ) {}

  get stats(): RecorderStats {
    return { ...this.counts, queued: this.queue.length };
  }

  async record(records: EventRecord[]): Promise<void> {
    if (this.opts.mode === 'inline') {
      await this.write(records, this.opts.budgetMs);
      return;
    }
    if (this.queue.length + records.length > (this.opts.maxQueue ?? 10_000)) {
      await this.toSpill(records, new Error('write queue full'));
      return;
    }
    this.queue.push(...records);
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  /** Resolves once everything recorded so far is stored or spilled. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    const size = this.opts.batchSize ?? 25;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, size);
        await this.write(batch, Math.max(this.opts.budgetMs, 2000));
      }
    } finally {
      this.draining = null;
    }
  }

  private async write(records: EventRecord[], budgetMs: number): Promise<void> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`store write took over ${budgetMs} ms`)), budgetMs);
    try {
      await this.opts.store.putEvents(records, { signal: abort.signal });
      this.counts.stored += records.length;
    } catch (e) {
      await this.toSpill(records, abort.signal.aborted ? (abort.signal.reason as Error) : (e as Error));
    } finally {
      clearTimeout(timer);
    }
  }

  private async toSpill(records: EventRecord[], cause: Error): Promise<void> {
    this.opts.log.warn({ events: records.length, cause: cause.message }, 'store unavailable: events spilled');
    try {
      await this.opts.spill.put(records);
      this.counts.spilled += records.length;
    } catch (e) {
      this.opts.log.error({ spill: records, err: (e as Error).message }, 'spill failed: events kept in this log line');
    }
  }
}
