import { createHash } from 'node:crypto';
import { botIdOf, TELEGRAM_WEBHOOK_PATH, type TelegramCounts, type TelegramRefusal, type TelegramSettingsInput, type TelegramSkip, type TelegramWebhookStatus } from '@revtrail/shared';
import type { Config } from '../config';
import type { Logger } from '../log';
import { countName, noTelegramCounts, type TelegramCountsDelta } from '../store/telegram';
import type { Store } from '../store/types';
import { telegramSecretSetCommands, type TelegramSettings } from './settings';
import { StartTokens } from './start-token';

/** How the Telegram settings of this redirector are kept when set through the sync API (a local redirector), or why they cannot be. */
export type TelegramSettingsKeeping = { save: (settings: TelegramSettings) => Promise<void> } | { fixed: string };

/** Refusals are written at most this often per instance: a flood of forged requests is one write a second. */
const COALESCE_MS = 1000;
const WARN_EVERY_MS = 60_000;

/**
 * The Telegram endpoint's state: the bot's settings (changed live on a local redirector), the start tokens,
 * and its counters (added to the table's with UpdateItem ADD, so every Lambda instance adds to the same ones;
 * best effort within a budget, as the Stripe endpoint's are: webhook/counters.ts).
 */
export class TelegramEndpoint {
  readonly tokens: StartTokens;
  private current: TelegramSettings;
  private problem: string | null;
  private pending: TelegramCountsDelta = { add: {}, lastReceivedAt: null, lastForwardError: null };
  private writing: Promise<void> | null = null;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private lastWarnAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: { config: Config; store: Store; log: Logger; now: () => number; keeping: TelegramSettingsKeeping | null }) {
    this.tokens = new StartTokens(opts.config.emailHashKey);
    this.current = opts.config.telegram;
    this.problem = opts.config.telegramProblem;
    if (this.problem) opts.log.warn({ problem: this.problem }, 'telegram settings set aside: updates are refused until they are corrected');
  }

  get settings(): TelegramSettings {
    return this.current;
  }

  get settable(): boolean {
    return this.opts.keeping !== null && 'save' in this.opts.keeping;
  }

  /** Why the settings cannot be changed through the sync API, and what to do instead. */
  get notSettable(): string {
    if (this.opts.keeping && 'fixed' in this.opts.keeping) return this.opts.keeping.fixed;
    // Secrets come from SST on AWS (config.ts loadLambdaConfig), the Stripe one and the Telegram ones alike.
    return this.opts.config.stripeWebhookSecretSource === 'sst'
      ? `This redirector runs on AWS, where the Telegram settings are SST secrets: on the machine that deploys it, run ${telegramSecretSetCommands(this.opts.config.stage).join(' && ')}.`
      : "This redirector's Telegram settings come from its REVTRAIL_TELEGRAM_* settings: change them and restart the redirector.";
  }

  /** Saves, then uses, new settings: updates with the new secret token are accepted from the moment this resolves. */
  async set(input: TelegramSettingsInput): Promise<void> {
    if (!this.opts.keeping || !('save' in this.opts.keeping)) throw new Error('the telegram settings are not settable here');
    const settings: TelegramSettings = { botToken: input.botToken, secretToken: input.secretToken, forward: input.forward };
    await this.opts.keeping.save(settings);
    this.current = settings;
    this.problem = null;
  }

  /** What to say when updates cannot be checked: no secret token set, or set aside. */
  get missing(): string {
    const why = this.problem ? `The Telegram settings were set aside (${this.problem}).` : 'No Telegram bot is connected to this redirector yet.';
    return `${why} Updates cannot be checked until then: run \`revtrail connect telegram\`. Telegram sends this update again later.`;
  }

  count(delta: { add?: string; refused?: TelegramRefusal; skipped?: TelegramSkip; receivedAt?: number; forwardError?: { at: number; message: string } }): void {
    const names = [delta.add, delta.refused && countName('refused', delta.refused), delta.skipped && countName('skipped', delta.skipped)].filter((n): n is string => !!n);
    for (const name of names) this.pending.add[name] = (this.pending.add[name] ?? 0) + 1;
    if (delta.receivedAt !== undefined) this.pending.lastReceivedAt = Math.max(this.pending.lastReceivedAt ?? 0, delta.receivedAt);
    if (delta.forwardError) this.pending.lastForwardError = delta.forwardError;
  }

  /** Writes what is counted, waiting at most `budgetMs`; `coalesce`: not within a second of the last write. */
  async flush(budgetMs: number, coalesce = false): Promise<void> {
    const dirty = Object.keys(this.pending.add).length > 0 || this.pending.lastReceivedAt !== null || this.pending.lastForwardError !== null;
    if (dirty && !this.writing && !(coalesce && this.opts.now() - this.lastWriteAt < COALESCE_MS)) this.writing = this.write();
    if (!this.writing) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.writing, new Promise<void>((resolve) => (timer = setTimeout(resolve, budgetMs)))]);
    clearTimeout(timer);
  }

  private async write(): Promise<void> {
    const delta = this.pending;
    this.pending = { add: {}, lastReceivedAt: null, lastForwardError: null };
    this.lastWriteAt = this.opts.now();
    try {
      await this.opts.store.telegram.addCounts(delta);
    } catch (e) {
      for (const [name, n] of Object.entries(delta.add)) this.pending.add[name] = (this.pending.add[name] ?? 0) + n;
      this.pending.lastReceivedAt = Math.max(this.pending.lastReceivedAt ?? 0, delta.lastReceivedAt ?? 0) || null;
      this.pending.lastForwardError ??= delta.lastForwardError;
      if (this.opts.now() - this.lastWarnAt >= WARN_EVERY_MS) {
        this.lastWarnAt = this.opts.now();
        this.opts.log.warn({ err: (e as Error).message }, 'telegram webhook counters not written; added to the next write');
      }
    } finally {
      this.writing = null;
    }
  }

  /** The table's counts, after this instance's are written (zeros while the table does not answer). */
  private async counts(): Promise<TelegramCounts> {
    await this.writing;
    await this.flush(1000);
    return this.opts.store.telegram.counts().catch(() => noTelegramCounts());
  }

  async status(): Promise<TelegramWebhookStatus> {
    const base = this.opts.config.publicUrl;
    const { botToken, secretToken, forward } = this.current;
    return {
      path: TELEGRAM_WEBHOOK_PATH,
      url: base ? new URL(TELEGRAM_WEBHOOK_PATH, base).toString() : null,
      botId: botToken ? botIdOf(botToken) : null,
      secretSet: secretToken !== null,
      secretFingerprint: secretToken ? createHash('sha256').update(secretToken).digest('hex').slice(0, 8) : null,
      forwardHost: forward ? new URL(forward.url).host : null,
      problem: this.problem,
      settable: this.settable,
      setCommands: this.opts.config.stripeWebhookSecretSource === 'sst' ? telegramSecretSetCommands(this.opts.config.stage) : null,
      counts: await this.counts(),
    };
  }
}
