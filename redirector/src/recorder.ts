import type { Logger } from './log';
import type { FileSpill } from './spill/file';
import type { Spill } from './spill/types';
import type { EventRecord, Store } from './store/types';

export interface RecorderStats {
  /** Events written into the store. */
  stored: number;
  /** Events written to the spill (inline mode) or the journal (journal mode). */
  spilled: number;
  /** Events in the journal not yet moved into the store (journal mode). */
  queued: number;
}

const WARN_EVERY_MS = 10_000;

/**
 * Writes clicks, pageviews and identities without ever holding a visitor back.
 * - `inline` (Lambda, where nothing may run after the response): the write gets `budgetMs`; past that,
 *   or on an error, the events go to the spill (SQS), to be replayed into the table.
 * - `journal` (the long-running local server): each event is appended to the journal file (once per
 *   event-loop turn, on disk before the store sees it), and `ingest` moves the journal into the store in
 *   the background, yielding to redirects while they are coming in. A crash loses no journaled click.
 */
export class EventRecorder {
  private readonly counts = { stored: 0, spilled: 0 };
  private recent = 0;
  private lastWarnAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly opts:
      | { mode: 'inline'; store: Store; spill: Spill; log: Logger; budgetMs: number }
      | { mode: 'journal'; store: Store; spill: FileSpill; log: Logger; budgetMs: number },
  ) {}

  get stats(): RecorderStats {
    return { ...this.counts, queued: Math.max(0, this.opts.mode === 'journal' ? this.counts.spilled - this.counts.stored : 0) };
  }

  async record(records: EventRecord[]): Promise<void> {
    this.recent += records.length;
    if (this.opts.mode === 'journal') {
      this.counts.spilled += records.length;
      this.opts.spill.put(records).catch((e: unknown) => this.lost(records, e as Error));
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`store write took over ${this.opts.budgetMs} ms`)), this.opts.budgetMs);
    try {
      await this.opts.store.putEvents(records, { signal: abort.signal });
      this.counts.stored += records.length;
    } catch (e) {
      this.warn(records.length, abort.signal.aborted ? (abort.signal.reason as Error) : (e as Error));
      try {
        await this.opts.spill.put(records);
        this.counts.spilled += records.length;
      } catch (spillError) {
        this.lost(records, spillError as Error);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once everything recorded so far is stored (inline) or on disk (journal). */
  async flush(): Promise<void> {
    if (this.opts.mode === 'journal') await this.opts.spill.written();
  }

  /**
   * Journal mode: moves the journal into the store. While redirects keep coming, it writes one batch per
   * quarter second so they keep the CPU (and their latency); when they stop it runs flat out. Throws when
   * the store is down.
   */
  async ingest(now: number): Promise<number> {
    if (this.opts.mode !== 'journal') return 0;
    this.recent = 0;
    const stored = await this.opts.spill.replay(this.opts.store, now, async () => {
      const busy = this.recent;
      this.recent = 0;
      await new Promise((resolve) => (busy > 0 ? setTimeout(resolve, busy > 50 ? 250 : 10) : setImmediate(resolve)));
    });
    this.counts.stored += stored;
    return stored;
  }

  private warn(events: number, cause: Error): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_EVERY_MS) return;
    this.lastWarnAt = now;
    this.opts.log.warn({ events, cause: cause.message }, 'store unavailable or slow: events spilled, to be replayed');
  }

  private lost(records: EventRecord[], err: Error): void {
    this.opts.log.error({ spill: records, err: err.message }, 'spill failed: events kept in this log line');
  }
}
