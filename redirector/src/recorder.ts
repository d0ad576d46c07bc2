import type { Logger } from './log';
import type { Spill } from './spill/types';
import type { EventRecord, Store } from './store/types';

export interface RecorderStats {
  stored: number;
  spilled: number;
  queued: number;
}

const WARN_EVERY_MS = 10_000;

/**
 * Writes clicks, pageviews and identities without ever holding a visitor back.
 * - `inline` (Lambda, where nothing may run after the response): the write gets `budgetMs`; past that,
 *   or on an error, the events go to the spill.
 * - `background` (the long-running local server): record() returns at once; writers drain the queue in
 *   batches, a few at a time, and a batch the store refuses, or what arrives while the queue is full,
 *   goes to the spill, appended once per event-loop turn.
 */
export class EventRecorder {
  private readonly queue: EventRecord[] = [];
  private readonly pending = new Set<Promise<void>>();
  private inFlight = 0;
  private pumpScheduled = false;
  private overflow: EventRecord[] = [];
  private readonly counts = { stored: 0, spilled: 0 };
  private lastWarnAt = Number.NEGATIVE_INFINITY;
  private unreported = 0;

  constructor(
    private readonly opts: {
      store: Store;
      spill: Spill;
      log: Logger;
      mode: 'inline' | 'background';
      budgetMs: number;
      batchSize?: number;
      maxQueue?: number;
      concurrency?: number;
    },
  ) {}

  get stats(): RecorderStats {
    return { ...this.counts, queued: this.queue.length + this.overflow.length };
  }

  async record(records: EventRecord[]): Promise<void> {
    if (this.opts.mode === 'inline') {
      await this.write(records, this.opts.budgetMs);
      return;
    }
    if (this.queue.length + records.length > (this.opts.maxQueue ?? 10_000)) {
      if (this.overflow.length === 0) {
        setImmediate(() => {
          const batch = this.overflow;
          this.overflow = [];
          this.track(this.toSpill(batch, new Error('write queue full')));
        });
      }
      this.overflow.push(...records);
      return;
    }
    this.queue.push(...records);
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => this.pump());
    }
  }

  /** Resolves once everything recorded so far is stored or spilled. */
  async flush(): Promise<void> {
    while (this.pending.size > 0 || this.queue.length > 0 || this.overflow.length > 0 || this.pumpScheduled) {
      if (this.pending.size > 0) await Promise.all(this.pending);
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private pump(): void {
    this.pumpScheduled = false;
    const size = this.opts.batchSize ?? 25;
    while (this.inFlight < (this.opts.concurrency ?? 4) && this.queue.length > 0) {
      const batch = this.queue.splice(0, size);
      this.inFlight += 1;
      this.track(
        this.write(batch, Math.max(this.opts.budgetMs, 2000)).finally(() => {
          this.inFlight -= 1;
          this.pump();
        }),
      );
    }
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
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
    this.unreported += records.length;
    const now = Date.now();
    if (now - this.lastWarnAt >= WARN_EVERY_MS) {
      this.opts.log.warn({ events: this.unreported, cause: cause.message }, 'store unavailable or behind: events spilled, to be replayed');
      this.lastWarnAt = now;
      this.unreported = 0;
    }
    try {
      await this.opts.spill.put(records);
      this.counts.spilled += records.length;
    } catch (e) {
      this.opts.log.error({ spill: records, err: (e as Error).message }, 'spill failed: events kept in this log line');
    }
  }
}
