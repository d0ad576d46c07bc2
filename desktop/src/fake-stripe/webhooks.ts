/**
 * Webhook delivery the way Stripe does it: each event an account emits is POSTed to every enabled
 * endpoint whose `enabled_events` match it, as the JSON the API renders for the event, signed with the
 * endpoint's `whsec_` secret:
 *
 *   Content-Type: application/json; charset=utf-8
 *   Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the whole secret>
 *   User-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)
 *
 * Only a 2xx ends the delivery. A 3xx (not followed), 4xx, 5xx, a refused connection or a timeout is
 * retried after a backoff, with the same event (same id, same body) and a fresh signature each attempt.
 * Deliveries run off the request that caused the event, so an API answer never waits on a receiver.
 *
 * Endpoints: a platform endpoint gets the platform's events, or with `connect` those of connected
 * accounts; an endpoint created with `Stripe-Account` gets that account's events. When an endpoint is
 * deleted or disabled before a retry, the retry is dropped (Stripe: "If your endpoint has been disabled
 * or deleted when Stripe attempts a retry, future retries of that event are prevented").
 *
 * Where this differs from Stripe: retries follow DEFAULT_RETRY_DELAYS_MS (or the test's schedule) rather
 * than Stripe's unpublished one; endpoints are never disabled automatically after failing for days; a
 * receiver's answer body is not read; signatures carry only v1 (Stripe's test mode also sends v0).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import type { AccountData } from './account';
import { renderEvent } from './render';

export const WEBHOOK_USER_AGENT = 'Stripe/1.0 (+https://stripe.com/docs/webhooks)';

/**
 * Stripe's docs say only that a receiver must answer "promptly" and do not state the timeout; third-party
 * write-ups give 20 s (some 30 s). 20 s here, configurable.
 */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 20_000;

/**
 * The waits before each retry: 5 s times 3^n, 8 retries (5 s, 15 s, 45 s, 2 min 15 s, 6 min 45 s, 20 min
 * 15 s, 1 h 45 s, 3 h 2 min 15 s; 9 attempts over about 4 h 33 min). Stripe retries "for up to three days
 * with an exponential back off" in live mode and "three times over a few hours" in a sandbox, without
 * publishing the intervals; this keeps the sandbox's span but starts sooner, so a receiver restarted
 * within a few seconds gets its events within seconds.
 */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = Array.from({ length: 8 }, (_, n) => 5_000 * 3 ** n);

export interface WebhookOptions {
  /** Wait before retry n (n from 0); its length is the number of retries after the first attempt. */
  retryDelaysMs?: readonly number[];
  /** How long one attempt may take before it counts as failed. */
  timeoutMs?: number;
}

/** One delivery attempt, as the delivery log keeps it. */
export interface DeliveryAttempt {
  eventId: string;
  eventType: string;
  /** The endpoint's `we_` id and the URL it had at the attempt. */
  endpoint: string;
  url: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** When the attempt was sent, epoch ms on the state's clock (its signature's `t` is this in seconds). */
  at: number;
  durationMs: number;
  /** The receiver's HTTP status; null when no answer came (refused, reset, timed out). */
  status: number | null;
  /** Why the attempt failed without a status; null otherwise. */
  error: string | null;
  ok: boolean;
  /** When the next attempt is due (epoch ms), or null: delivered, or no retry left. */
  nextAttemptAt: number | null;
}

/** What the dispatcher needs of the state. */
export interface DispatchHost {
  readonly platform: AccountData;
  nowMs(): number;
}

interface EndpointConfig {
  secret: string;
  /** A platform endpoint that listens to connected accounts' events instead of the platform's own. */
  connect: boolean;
}

interface Delivery {
  event: Stripe.Event;
  account: AccountData;
  owner: AccountData;
  endpointId: string;
  /** Rendered once, at the first attempt: every retry sends the same bytes. */
  body: string | null;
}

/** A new signing secret, shaped as Stripe's (`whsec_` and alphanumerics). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('hex')}`;
}

/** The `Stripe-Signature` header for `body` sent at `timestamp` (unix seconds). */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

/** Whether an endpoint listening to `enabled` takes an event of `type` ('*' is every type). */
export function listensTo(enabled: readonly string[], type: string): boolean {
  return enabled.includes('*') || enabled.includes(type);
}

export class WebhookDispatcher {
  /** Every attempt, oldest first. */
  readonly deliveries: DeliveryAttempt[] = [];
  private readonly configs = new Map<string, EndpointConfig>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  /** Deliveries not yet finished (waiting for an attempt or in one). */
  private open = 0;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private readonly retryDelaysMs: readonly number[];
  private readonly timeoutMs: number;

  constructor(
    private readonly host: DispatchHost,
    options: WebhookOptions = {},
  ) {
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    if (this.retryDelaysMs.some((ms) => !Number.isFinite(ms) || ms < 0) || !(this.timeoutMs > 0)) {
      throw new Error('fake Stripe: retry delays must be non-negative and the timeout positive');
    }
  }

  register(endpointId: string, config: EndpointConfig): void {
    this.configs.set(endpointId, config);
  }

  unregister(endpointId: string): void {
    this.configs.delete(endpointId);
  }

  /** The endpoint's signing secret (the API shows it only in the create answer). */
  secretOf(endpointId: string): string | undefined {
    return this.configs.get(endpointId)?.secret;
  }

  /** The enabled endpoints an event of `account` goes to, as [owner account, endpoint]. */
  targets(account: AccountData, type: string): [AccountData, Stripe.WebhookEndpoint][] {
    const platform = this.host.platform;
    const found: [AccountData, Stripe.WebhookEndpoint][] = [];
    const consider = (owner: AccountData, wantConnect: boolean | null) => {
      for (const endpoint of owner.webhookEndpoints.newestFirst().reverse()) {
        const config = this.configs.get(endpoint.id);
        if (!config || (wantConnect !== null && config.connect !== wantConnect)) continue;
        if (endpoint.status === 'enabled' && listensTo(endpoint.enabled_events, type)) found.push([owner, endpoint]);
      }
    };
    if (account === platform) consider(platform, false);
    else {
      consider(account, null);
      consider(platform, true);
    }
    return found;
  }

  /** Called for each event the state emits: queues one delivery per matching endpoint. */
  emitted(account: AccountData, event: Stripe.Event): void {
    // Bulk seeds emit events by the hundred thousand before any endpoint exists.
    if (this.stopped || this.configs.size === 0) return;
    for (const [owner, endpoint] of this.targets(account, event.type)) {
      // Stripe's "number of webhooks that haven't yet been successfully delivered".
      event.pending_webhooks += 1;
      this.open += 1;
      this.schedule({ event, account, owner, endpointId: endpoint.id, body: null }, 1, 0);
    }
  }

  /** Resolves once no delivery is waiting or in flight (or the dispatcher stopped). */
  idle(): Promise<void> {
    if (this.open === 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops every pending retry and aborts attempts in flight: the server is closing. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.inFlight) controller.abort();
    this.settle(this.open);
  }

  private schedule(delivery: Delivery, attempt: number, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(delivery, attempt);
    }, delayMs);
    this.timers.add(timer);
  }

  private async attempt(delivery: Delivery, attempt: number): Promise<void> {
    if (this.stopped) return;
    const endpoint = delivery.owner.webhookEndpoints.get(delivery.endpointId);
    const config = this.configs.get(delivery.endpointId);
    if (!endpoint || !config || endpoint.status !== 'enabled') return this.settle(1);
    delivery.body ??= JSON.stringify(this.render(delivery, endpoint), null, 2);

    const at = this.host.nowMs();
    const controller = new AbortController();
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    this.inFlight.add(controller);
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'Stripe-Signature': signatureHeader(config.secret, Math.floor(at / 1000), delivery.body),
          'User-Agent': WEBHOOK_USER_AGENT,
        },
        body: delivery.body,
        // Stripe counts a redirect as a failed delivery rather than following it.
        redirect: 'manual',
        signal: controller.signal,
      });
      status = response.status;
      await response.body?.cancel();
    } catch (cause) {
      error = timedOut ? `timed out after ${this.timeoutMs} ms` : describe(cause);
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
    if (this.stopped) return;

    const ok = status !== null && status >= 200 && status < 300;
    const retryIn = ok ? undefined : this.retryDelaysMs[attempt - 1];
    this.deliveries.push({
      eventId: delivery.event.id,
      eventType: delivery.event.type,
      endpoint: endpoint.id,
      url: endpoint.url,
      attempt,
      at,
      durationMs: Math.round(performance.now() - started),
      status,
      error,
      ok,
      nextAttemptAt: retryIn === undefined ? null : this.host.nowMs() + retryIn,
    });
    if (ok) delivery.event.pending_webhooks -= 1;
    if (retryIn === undefined) return this.settle(1);
    this.schedule(delivery, attempt + 1, retryIn);
  }

  private render(delivery: Delivery, endpoint: Stripe.WebhookEndpoint): Record<string, unknown> {
    return renderEvent(delivery.event, delivery.account, endpoint.api_version ?? undefined);
  }

  private settle(count: number): void {
    this.open = Math.max(0, this.open - count);
    if (this.open > 0 && !this.stopped) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** fetch's "fetch failed" with the system error underneath (ECONNREFUSED, ECONNRESET, ...). */
function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (cause && typeof cause.code === 'string') return `${cause.code}${typeof cause.message === 'string' ? `: ${cause.message}` : ''}`;
  return error instanceof Error ? error.message : String(error);
}
