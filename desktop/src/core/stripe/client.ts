import Stripe from 'stripe';

/**
 * The Stripe API version every request pins (the installed package's own version, whose types this code
 * reads). Recorded beside each pull in stripe_checkpoints; basil (2025-03-31) and later shapes.
 */
export const STRIPE_API_VERSION = '2026-10-28.endive' as const;

export interface StripeClientOptions {
  /** Where the API lives, e.g. http://127.0.0.1:12111 for a fake; Stripe itself when absent. */
  apiBase?: string;
  /** Connect: read a connected account (Stripe-Account header). */
  stripeAccount?: string;
  /** How long one request may take before it counts as failed (and is retried by the sync); 30 s when absent. */
  timeoutMs?: number;
}

/**
 * The official client, read-only in practice (restricted key). It never retries by itself: stripe-node
 * retries a 429 only when Stripe says `Stripe-Should-Retry: true`, so the sync owns backoff (sync.ts).
 */
export function createStripeClient(key: string, opts: StripeClientOptions = {}): Stripe {
  const base = opts.apiBase ? new URL(opts.apiBase) : null;
  const protocol = base?.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(key, {
    apiVersion: STRIPE_API_VERSION,
    maxNetworkRetries: 0,
    timeout: opts.timeoutMs ?? 30_000,
    telemetry: false,
    ...(base ? { host: base.hostname, port: Number(base.port || (protocol === 'http' ? 80 : 443)), protocol } : {}),
    ...(opts.stripeAccount ? { stripeAccount: opts.stripeAccount } : {}),
  });
}
