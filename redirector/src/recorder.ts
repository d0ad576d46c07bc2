import type { Journal, JournalStats } from './journal/journal';
import type { Logger } from './log';
import type { Spill } from './spill/types';
import type { EventRecord, Store } from './store/types';

export interface RecorderStats {
  /** Events written into the store (inline) or moved there from the journal. */
  stored: number;
  /** Events written to the spill queue (inline) or to the journal (journal mode). */
  spilled: number;
  /** Events in the journal not yet moved into the store (journal mode). */
  queued: number;
  /** Inline: events neither the store nor the spill took, kept in the log for `npm run replay-log`. */
  logged: number;
}

export interface RecorderHealth {
  status: 'ok' | 'degraded';
  /** What is wrong, in words an operator can act on. */
  reasons: string[];
}

/** The log line the last resort writes; `npm run replay-log` reads its `spill` field. */
export const SPILL_LOG_MESSAGE = 'events kept in this log line: replay them with npm run replay-log';
/** A failure this recent still makes the recorder say it is degraded. */
const DEGRADED_FOR_MS = 60_000;
const WARN_EVERY_MS = 10_000;
/** Ingest's pause after a chunk while redirects come in: this many times the chunk's time, within these bounds. */
const BUSY_PAUSE_FACTOR = 30;
const BUSY_PAUSE_MIN_MS = 250;
const BUSY_PAUSE_MAX_MS = 1000;
/**
 * How long redirects may keep arriving before ingest stops yielding most of the CPU to them. A burst (a
 * campaign's send) is absorbed by the journal and stored once it passes; traffic sustained past this keeps
 * ingest at half the loop, so a steady rate the store can take never grows the journal without end.
 */
const BURST_MS = 60_000;

/**
 * The pause after an ingested chunk: none to speak of when no redirect came in meanwhile (`arrived` events
 * since the last chunk), 30 times the chunk's time (0.25-1 s) during a burst, the chunk's own time once
 * arrivals have been sustained past BURST_MS (`busyForMs`).
 */
export function ingestPause(arrived: number, tookMs: number, busyForMs: number): number {
  if (arrived <= 50) return arrived > 0 ? 10 : 0;
  if (busyForMs > BURST_MS) return Math.min(BUSY_PAUSE_MAX_MS, tookMs);
  return Math.min(BUSY_PAUSE_MAX_MS, Math.max(BUSY_PAUSE_MIN_MS, tookMs * BUSY_PAUSE_FACTOR));
}

type Options =
  | { mode: 'inline'; store: Store; spill: Spill | null; log: Logger; budgetMs: number }
  | { mode: 'journal'; store: Store; journal: Journal; log: Logger; budgetMs: number };

/**
 * Writes clicks, pageviews and identities; a request is answered once its events are kept.
 * - `inline` (Lambda, where nothing may run after the response), step by step: the table within
 *   `budgetMs`; else the spill queue (SQS) within `budgetMs`, replayed into the table by replay.ts; else
 *   one error line in the function's log holding the events, which `npm run replay-log` puts in the table.
 * - `journal` (the long-running local server): the events are written to the journal file (one write
 *   for all requests waiting at that moment) before the request is answered, and `ingest` moves the
 *   journal into the store in the background, yielding to redirects while they are coming in.
 */
export class EventRecorder {
  private readonly counts = { stored: 0, spilled: 0, logged: 0 };
  private recent = 0;
  /** When the current run of busy chunks began (performance.now()), across ingest calls; null when idle. */
  private busySince: number | null = null;
  private lastWarnAt = Number.NEGATIVE_INFINITY;
  private storeFailedAt = Number.NEGATIVE_INFINITY;
  private spillFailedAt = Number.NEGATIVE_INFINITY;
  private ingestError: string | null = null;

  constructor(private readonly opts: Options) {}

  get stats(): RecorderStats {
    if (this.opts.mode === 'journal') {
      const j = this.opts.journal.stats;
      return { stored: j.ingested, spilled: j.appended, queued: j.queued, logged: 0 };
    }
    return { ...this.counts, queued: 0 };
  }

  /** The journal's counts (local server), null on Lambda. */
  get journal(): JournalStats | null {
    return this.opts.mode === 'journal' ? this.opts.journal.stats : null;
  }

  health(now = Date.now()): RecorderHealth {
    const reasons: string[] = [];
    if (this.opts.mode === 'journal') {
      const j = this.opts.journal.stats;
      if (j.degraded) reasons.push(`${j.degraded}: ${j.buffered} events wait in memory, ${j.dropped} dropped`);
      if (this.ingestError) reasons.push(`the store does not take events (${this.ingestError}): ${j.queued} wait in the journal`);
    } else {
      if (now - this.spillFailedAt < DEGRADED_FOR_MS) reasons.push('the table and the spill queue failed: events were kept in the log only');
      else if (now - this.storeFailedAt < DEGRADED_FOR_MS) reasons.push('the table is slow or down: events go to the spill queue');
    }
    return { status: reasons.length > 0 ? 'degraded' : 'ok', reasons };
  }

  async record(records: EventRecord[]): Promise<void> {
    this.recent += records.length;
    if (this.opts.mode === 'journal') return this.opts.journal.append(records);
    const { store, spill } = this.opts;
    try {
      await withBudget(this.opts.budgetMs, 'store write', (signal) => store.putEvents(records, { signal }));
      this.counts.stored += records.length;
      return;
    } catch (e) {
      this.storeFailedAt = Date.now();
      this.warn(records.length, e as Error);
    }
    if (spill) {
      try {
        await withBudget(this.opts.budgetMs, 'spill write', (signal) => spill.put(records, { signal }));
        this.counts.spilled += records.length;
        return;
      } catch (e) {
        this.spillFailedAt = Date.now();
        this.opts.log.error({ spill: records, err: (e as Error).message }, SPILL_LOG_MESSAGE);
      }
    } else {
      this.spillFailedAt = Date.now();
      this.opts.log.error({ spill: records, err: 'no spill queue configured' }, SPILL_LOG_MESSAGE);
    }
    this.counts.logged += records.length;
  }

  /** Resolves once everything recorded so far is stored (inline) or in the journal file (journal mode). */
  async flush(): Promise<void> {
    if (this.opts.mode === 'journal') await this.opts.journal.flushed();
  }

  /**
   * Journal mode: moves the journal into the store. While redirects keep coming, each chunk is followed by
   * a pause (ingestPause): during a burst 30 times what the chunk took, a quarter second to a second, so
   * ingest (the embedded store runs in this process: ~0.3 ms of CPU an event) keeps to a few percent of the
   * CPU and the redirects keep the rest (and their latency) while the journal holds the backlog on disk;
   * past a minute of sustained arrivals, as long as the chunk took, so the journal drains. When they stop it
   * runs flat out. Throws when the store is down (the journal keeps the events and where it stopped).
   */
  async ingest(): Promise<number> {
    if (this.opts.mode !== 'journal') return 0;
    this.recent = 0;
    let chunkStart = performance.now();
    try {
      const stored = await this.opts.journal.ingest(this.opts.store, async () => {
        const arrived = this.recent;
        this.recent = 0;
        const now = performance.now();
        if (arrived <= 50) this.busySince = null;
        else this.busySince ??= now;
        const pause = ingestPause(arrived, now - chunkStart, this.busySince === null ? 0 : now - this.busySince);
        await new Promise((resolve) => (pause > 0 ? setTimeout(resolve, pause) : setImmediate(resolve)));
        chunkStart = performance.now();
      });
      this.ingestError = null;
      return stored;
    } catch (e) {
      this.ingestError = (e as Error).message;
      throw e;
    }
  }

  private warn(events: number, cause: Error): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_EVERY_MS) return;
    this.lastWarnAt = now;
    this.opts.log.warn({ events, cause: cause.message }, 'store unavailable or slow: events spilled, to be replayed');
  }
}

/** Runs `write` with an abort signal that fires after `ms`; a write past it counts as failed (it may still land). */
async function withBudget(ms: number, what: string, write: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  // Raced as well as signalled: a client that ignores the signal still cannot hold the visitor.
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`${what} took over ${ms} ms`);
      abort.abort(err);
      reject(err);
    }, ms);
  });
  try {
    await Promise.race([write(abort.signal), late]);
  } finally {
    clearTimeout(timer);
  }
}
