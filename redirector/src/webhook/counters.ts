import { WEBHOOK_REFUSALS } from '@revtrail/shared';
import type { Logger } from '../log';
import { noWebhookCounts } from '../store/stripe-hints';
import type { Store, WebhookCounts } from '../store/types';

/** Refusals are written to the table at most this often per instance: a flood of forged requests is one write a second. */
const COALESCE_MS = 1000;
const WARN_EVERY_MS = 60_000;
const READ_FLUSH_BUDGET_MS = 1000;

const later = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/** `into` plus `delta`, in place. */
export function addCounts(into: WebhookCounts, delta: WebhookCounts): WebhookCounts {
  into.received += delta.received;
  into.duplicates += delta.duplicates;
  into.ignored += delta.ignored;
  for (const r of WEBHOOK_REFUSALS) into.refused[r] += delta.refused[r];
  into.lastReceivedAt = later(into.lastReceivedAt, delta.lastReceivedAt);
  if (delta.lastRefused && (!into.lastRefused || delta.lastRefused.at >= into.lastRefused.at)) into.lastRefused = delta.lastRefused;
  return into;
}

/**
 * The webhook endpoint's counters: counted here, added to the table's (UpdateItem ADD, so every Lambda instance
 * adds to the same numbers). Best effort: a request waits at most its budget for the write and never fails
 * because of it; what a failed write held is added again with the next one.
 */
export class WebhookCounters {
  private pending = noWebhookCounts();
  private dirty = false;
  private writing: Promise<void> | null = null;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private lastWarnAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: { store: Store; log: Logger; now: () => number }) {}

  count(change: (c: WebhookCounts) => void): void {
    change(this.pending);
    this.dirty = true;
  }

  /**
   * Writes what is counted, waiting at most `budgetMs`. `coalesce`: not when the last write began under a
   * second ago (what is counted goes with a later write, or with the status read).
   */
  async flush(budgetMs: number, coalesce = false): Promise<void> {
    if (!this.dirty && !this.writing) return;
    if (this.dirty && !this.writing && !(coalesce && this.opts.now() - this.lastWriteAt < COALESCE_MS)) this.writing = this.write();
    if (!this.writing) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.writing, new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)))]);
    clearTimeout(timer);
  }

  /** The table's counts, after writing this instance's (with what is still unwritten should that write fail). */
  async read(): Promise<WebhookCounts> {
    await this.writing;
    await this.flush(READ_FLUSH_BUDGET_MS);
    const stored = await this.opts.store.webhookCounts();
    return addCounts(stored, this.pending);
  }

  private async write(): Promise<void> {
    const delta = this.pending;
    this.pending = noWebhookCounts();
    this.dirty = false;
    this.lastWriteAt = this.opts.now();
    try {
      await this.opts.store.addWebhookCounts(delta);
    } catch (e) {
      addCounts(this.pending, delta);
      this.dirty = true;
      if (this.opts.now() - this.lastWarnAt >= WARN_EVERY_MS) {
        this.lastWarnAt = this.opts.now();
        this.opts.log.warn({ err: (e as Error).message }, 'stripe webhook counters not written; added to the next write');
      }
    } finally {
      this.writing = null;
    }
  }
}
