import { STRIPE_WEBHOOK_EVENT_TYPES, STRIPE_WEBHOOK_PATH, type StripeWebhookStatus } from '@revtrail/shared';
import { stripeSecretSetCommand, type Config } from '../config';
import type { Logger } from '../log';
import type { Store } from '../store/types';
import { WebhookCounters } from './counters';

/**
 * `save`: keeps new signing secrets where this redirector keeps its others (the desktop's secret store, or
 * secrets.json). `fixed`: why they cannot be changed through the sync API, and where to change them instead.
 */
export type WebhookSecretsKeeping = { save: (secrets: string[]) => Promise<void> } | { fixed: string };

/**
 * The Stripe webhook endpoint's state: its signing secrets (changed live on a local redirector), what it has
 * received, and how to set it up.
 */
export class StripeWebhookEndpoint {
  readonly counters: WebhookCounters;
  private current: string[];
  private problem: string | null;

  constructor(private readonly opts: { config: Config; store: Store; log: Logger; now: () => number; keeping: WebhookSecretsKeeping | null }) {
    this.current = [...opts.config.stripeWebhookSecrets];
    this.problem = opts.config.stripeWebhookSecretProblem;
    this.counters = new WebhookCounters({ store: opts.store, log: opts.log, now: opts.now });
    if (this.problem) opts.log.warn({ problem: this.problem }, 'stripe webhook secret set aside: deliveries are refused until it is corrected');
  }

  get secrets(): readonly string[] {
    return this.current;
  }

  get settable(): boolean {
    return this.opts.keeping !== null && 'save' in this.opts.keeping;
  }

  /** On AWS, the command that sets the SST secret, without its value. */
  get setCommand(): string | null {
    return this.opts.config.stripeWebhookSecretSource === 'sst' ? stripeSecretSetCommand(this.opts.config.stage) : null;
  }

  /** Why the secrets cannot be changed through the sync API, and what to do instead. */
  get notSettable(): string {
    if (this.opts.keeping && 'fixed' in this.opts.keeping) return this.opts.keeping.fixed;
    return this.setCommand
      ? `This redirector runs on AWS, where the signing secret is the SST secret StripeWebhookSecret: on the machine that deploys it, run ${this.setCommand} (while rolling the secret, give both, the new one first: "whsec_new,whsec_old").`
      : "This redirector's signing secret comes from its REVTRAIL_STRIPE_WEBHOOK_SECRET setting: change the setting and restart the redirector.";
  }

  /** What to do when no usable secret is set, in the words Stripe's delivery log shows. */
  get missing(): string {
    const why = this.problem ? `The signing secret set for this endpoint was set aside (${this.problem}).` : 'No signing secret is set for this endpoint yet.';
    const fix = this.setCommand
      ? `copy this endpoint's signing secret from Stripe's dashboard (Developers > Webhooks) and, on the machine that deploys the redirector, run ${this.setCommand}`
      : "copy this endpoint's signing secret from Stripe's dashboard (Developers > Webhooks) and run `revtrail connect webhook`";
    return `${why} The redirector cannot check that deliveries come from Stripe until then: ${fix}. Stripe sends this event again later.`;
  }

  /** Saves, then uses, new secrets: deliveries signed with them are accepted from the moment this resolves. */
  async set(secrets: string[]): Promise<void> {
    if (!this.opts.keeping || !('save' in this.opts.keeping)) throw new Error('the webhook secrets are not settable here');
    await this.opts.keeping.save(secrets);
    this.current = [...secrets];
    this.problem = null;
  }

  async status(): Promise<StripeWebhookStatus> {
    const counts = await this.counters.read();
    const base = this.opts.config.publicUrl;
    return {
      url: base ? new URL(STRIPE_WEBHOOK_PATH, base).toString() : null,
      path: STRIPE_WEBHOOK_PATH,
      eventTypes: STRIPE_WEBHOOK_EVENT_TYPES,
      secrets: this.current.length,
      secretProblem: this.problem,
      settable: this.settable,
      setCommand: this.setCommand,
      lastReceivedAt: counts.lastReceivedAt,
      received: counts.received,
      duplicates: counts.duplicates,
      ignored: counts.ignored,
      refused: counts.refused,
      lastRefused: counts.lastRefused,
    };
  }
}
