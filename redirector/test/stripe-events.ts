import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';

/**
 * Stripe webhook deliveries for tests: events shaped as Stripe's API reference shows them (the Event object:
 * id, object, api_version, created, data.object, livemode, pending_webhooks, request, type; `account` for
 * Connect), bodies pretty-printed as Stripe sends them, signed by the stripe package's own test helper.
 */
export const WEBHOOK_SECRET = 'whsec_testEndpointSecret0123456789abcdefGH';
export const OTHER_SECRET = 'whsec_otherEndpointSecret9876543210zyxwvuTS';

const rand = (n: number) => randomBytes(n).toString('base64url').replace(/[-_]/g, 'x').slice(0, n);

/** A charge with the personal data a real one carries (billing details, receipt email), which no hint may keep. */
export function charge(id = `ch_${rand(24)}`, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    object: 'charge',
    amount: 2000,
    amount_captured: 2000,
    amount_refunded: 0,
    balance_transaction: `txn_${rand(24)}`,
    billing_details: { address: { city: 'Lyon', country: 'FR', line1: '12 rue Mercière', postal_code: '69002' }, email: 'jenny.rosen@example.com', name: 'Jenny Rosen', phone: '+33612345678' },
    captured: true,
    created: 1795521000,
    currency: 'eur',
    customer: 'cus_QXg1o8vcGmoR32',
    disputed: false,
    livemode: false,
    metadata: { order: '1042' },
    paid: true,
    payment_intent: `pi_${rand(24)}`,
    receipt_email: 'jenny.rosen@example.com',
    refunded: false,
    status: 'succeeded',
    ...over,
  };
}

export function stripeEvent(over: { id?: string; type?: string; object?: Record<string, unknown>; created?: number; account?: string } = {}): Record<string, unknown> {
  return {
    id: over.id ?? `evt_${rand(24)}`,
    object: 'event',
    ...(over.account ? { account: over.account } : {}),
    api_version: '2025-03-31.basil',
    created: over.created ?? 1795521600,
    data: { object: over.object ?? charge() },
    livemode: false,
    pending_webhooks: 1,
    request: { id: `req_${rand(14)}`, idempotency_key: randomBytes(16).toString('hex') },
    type: over.type ?? 'charge.succeeded',
  };
}

/** The body as Stripe sends it: JSON indented by two spaces. */
export const body = (event: unknown): string => JSON.stringify(event, null, 2);

/** A `Stripe-Signature` header for `payload`, signed at `atMs` with `secret`. */
export function signature(payload: string, atMs: number, secret = WEBHOOK_SECRET): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Math.floor(atMs / 1000) });
}

/** The headers of a delivery (Stripe's user agent and content type), signed unless `sig` is null. */
export function deliveryHeaders(payload: string, atMs: number, opts: { secret?: string; sig?: string | null } = {}): Record<string, string> {
  const sig = opts.sig === undefined ? signature(payload, atMs, opts.secret) : opts.sig;
  return {
    'content-type': 'application/json; charset=utf-8',
    'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
    ...(sig === null ? {} : { 'stripe-signature': sig }),
  };
}
