import type { Logger } from '../log';
import type { Store } from './types';

/**
 * The retention set through the sync API (PUT /api/v1/settings), kept in the table so it outlives
 * restarts and reaches every instance: each reads it when it starts and again at most every `refreshMs`,
 * in the background, so no redirect waits for it. Until one is set, the deployment's
 * REVTRAIL_RETENTION_DAYS applies.
 */
export class RetentionSetting {
  private checkedAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly defaultDays: number,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly refreshMs = 60_000,
  ) {}

  get days(): number {
    return this.store.retentionDays;
  }

  /** Reads the stored setting now (throws when the store does). */
  async refresh(): Promise<void> {
    this.reading ??= this.store
      .getSettings()
      .then((s) => {
        this.checkedAt = this.now();
        this.store.setRetentionDays(s.retentionDays ?? this.defaultDays);
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }

  /** Starts a background read when the last one is older than refreshMs; a failure waits for the next. */
  refreshIfStale(): void {
    if (this.reading || this.now() - this.checkedAt < this.refreshMs) return;
    this.checkedAt = this.now();
    this.refresh().catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'retention setting not read; the last one applies'));
  }

  async set(days: number): Promise<void> {
    await this.store.putSettings({ retentionDays: days });
    this.store.setRetentionDays(days);
    this.checkedAt = this.now();
  }
}
