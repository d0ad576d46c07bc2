/**
 * The fake's own test controls, not Stripe's API: under /_fake/, JSON in and out, for any key of this fake
 * that is not revoked (all its keys are test keys). A restricted key's read-only permissions are Stripe's rule
 * for Stripe's API; these controls are not part of it, and the app reaches them only in its test mode, for its
 * "simulate a purchase" control (core/stripe/test-mode.ts), which real Stripe would answer 404.
 *
 *   GET  /_fake/info
 *        what this server is: `object: "fake_info"` is how the app knows it talks to this fake; the currencies
 *        a purchase may be in.
 *   POST /_fake/purchases {email, amount, currency, name?, description?, metadata?}
 *        a customer (the newest with that email, or a new one) and a succeeded charge now, with its
 *        PaymentIntent, balance transaction and events (customer.created when new, charge.succeeded);
 *        `amount` in minor units (4900 is 49.00 USD).
 *   POST /_fake/refunds {charge, amount?, reason?}
 *        refunds `amount` minor units of the charge (what is left of it when absent): refund, balance
 *        transaction, refund.created and charge.refunded.
 *   GET  /_fake/webhook_deliveries[?event=evt_...][&endpoint=we_...]
 *        every delivery attempt, newest first.
 *
 * A `Stripe-Account` header acts on that connected account. Errors have Stripe's error shape.
 */
import type Stripe from 'stripe';
import { formatMinor } from '@revtrail/shared/money';
import { normalizeEmail } from '@revtrail/shared/email';
import type { AccountData } from './account';
import { stripeErrors, type Reply } from './errors';
import { hasReferenceRate, REFERENCE_CURRENCIES } from './money';
import type { FakeStripeState } from './state';

export const CONTROL_PREFIX = '/_fake/';

/** An event an operation emitted, as the controls' answers name it. */
export interface EmittedEvent {
  id: string;
  type: string;
}

/** The answer of POST /_fake/purchases. */
export interface FakePurchaseAnswer {
  object: 'fake_purchase';
  customer: Stripe.Customer;
  /** False when a customer with that email existed and was charged again. */
  customer_created: boolean;
  charge: Stripe.Charge;
  payment_intent: Stripe.PaymentIntent;
  balance_transaction: Stripe.BalanceTransaction | null;
  events: EmittedEvent[];
  /** The webhook endpoints those events are being delivered to (`we_...`). */
  webhook_endpoints: string[];
}

/** The answer of GET /_fake/info. */
export interface FakeInfoAnswer {
  object: 'fake_info';
  livemode: false;
  /** The account asked about (the platform, or the Stripe-Account header's). */
  account: string;
  /** The currency the account settles in. */
  settlement_currency: string;
  /** The currencies a purchase may be in: the settlement currency and those the fake has a rate for. */
  currencies: string[];
  controls: string[];
}

/** The answer of POST /_fake/refunds. */
export interface FakeRefundAnswer {
  object: 'fake_refund';
  refund: Stripe.Refund;
  /** The charge after the refund. */
  charge: Stripe.Charge;
  events: EmittedEvent[];
  webhook_endpoints: string[];
}

/** Stripe's largest charge: eight digits of minor units. */
const MAX_AMOUNT = 99_999_999;
const REFUND_REASONS: readonly Stripe.RefundCreateParams.Reason[] = ['duplicate', 'fraudulent', 'requested_by_customer'];

export interface ControlRequest {
  method: string;
  url: URL;
  body: string;
  authorization: string | null;
  account: string | null;
}

export function answerControl(state: FakeStripeState, req: ControlRequest): Reply {
  const key = /^Bearer\s+(\S+)$/i.exec(req.authorization ?? '')?.[1];
  if (!key) return stripeErrors.missingKey();
  const record = state.keyRing.get(key);
  if (!record) return stripeErrors.invalidKey(key);
  if (record.revoked) return stripeErrors.expiredKey(key);
  const account = state.findAccount(req.account);
  if (!account) return stripeErrors.noAccessToAccount(key, req.account ?? '');

  const path = req.url.pathname;
  const route = ROUTES.find((r) => r.path === path);
  if (!route) {
    return fail(404, `Unrecognized fake control (${req.method}: ${path}). The controls are ${ROUTES.map((r) => `${r.method} ${r.path}`).join(', ')}.`);
  }
  if (req.method !== route.method) return fail(405, `${path} takes ${route.method}, not ${req.method}.`);
  if (route.method === 'GET') return route.handle(state, account, {}, req.url.searchParams);
  const body = parseJsonObject(req.body);
  if (!body) return fail(400, `The body must be a JSON object, e.g. ${route.example}.`);
  return route.handle(state, account, body, req.url.searchParams);
}

interface ControlRoute {
  method: 'GET' | 'POST';
  path: string;
  example: string;
  handle(state: FakeStripeState, account: AccountData, body: Record<string, unknown>, query: URLSearchParams): Reply;
}

const ROUTES: readonly ControlRoute[] = [
  { method: 'GET', path: '/_fake/info', example: '', handle: info },
  { method: 'POST', path: '/_fake/purchases', example: '{"email":"buyer@example.com","amount":4900,"currency":"usd"}', handle: purchase },
  { method: 'POST', path: '/_fake/refunds', example: '{"charge":"ch_...","amount":1000}', handle: refund },
  { method: 'GET', path: '/_fake/webhook_deliveries', example: '', handle: deliveries },
];

function info(_state: FakeStripeState, account: AccountData): Reply {
  const answer: FakeInfoAnswer = {
    object: 'fake_info',
    livemode: false,
    account: account.id,
    settlement_currency: account.settlementCurrency,
    currencies: [...new Set([account.settlementCurrency, ...REFERENCE_CURRENCIES])].sort(),
    controls: ROUTES.map((r) => `${r.method} ${r.path}`),
  };
  return { status: 200, body: answer };
}

function purchase(state: FakeStripeState, account: AccountData, body: Record<string, unknown>): Reply {
  const unknown = unknownField(body, ['email', 'amount', 'currency', 'name', 'description', 'metadata']);
  if (unknown) return unknown;
  const { email, amount, currency, name, description, metadata } = body;
  if (typeof email !== 'string' || normalizeEmail(email) === null) {
    return fail(400, 'email must be an email address, e.g. buyer@example.com.', 'email');
  }
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) {
    return fail(400, 'currency must be a three-letter ISO code, e.g. usd.', 'currency');
  }
  const code = currency.toLowerCase();
  if (code !== account.settlementCurrency && !hasReferenceRate(code)) {
    return fail(400, `This fake cannot settle ${code} into ${account.settlementCurrency}: it has no rate for it. Use one of ${REFERENCE_CURRENCIES.join(', ')}.`, 'currency');
  }
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 1 || amount > MAX_AMOUNT) {
    return fail(400, `amount must be a whole number of minor units from 1 to ${MAX_AMOUNT} (4900 is 49.00 USD).`, 'amount');
  }
  for (const [field, value, max] of [['name', name, 256], ['description', description, 1000]] as const) {
    if (value !== undefined && value !== null && (typeof value !== 'string' || value.length > max)) {
      return fail(400, `${field} must be text of at most ${max} characters.`, field);
    }
  }
  const meta = parseMetadata(metadata);
  if (!meta.ok) return meta.reply;
  const eventsBefore = account.events.size;
  const made = state.purchase({
    account: accountOption(state, account),
    email: email.trim(),
    amount,
    currency: code,
    name: (name as string | null | undefined) ?? null,
    description: (description as string | null | undefined) ?? null,
    metadata: meta.value,
  });
  const events = newEvents(account, eventsBefore);
  const answer: FakePurchaseAnswer = {
    object: 'fake_purchase',
    customer: made.customer,
    customer_created: made.customerCreated,
    charge: made.charge,
    payment_intent: made.paymentIntent,
    balance_transaction: made.balanceTransaction,
    events,
    webhook_endpoints: endpointsFor(state, account, events),
  };
  return { status: 200, body: answer };
}

function refund(state: FakeStripeState, account: AccountData, body: Record<string, unknown>): Reply {
  const unknown = unknownField(body, ['charge', 'amount', 'reason']);
  if (unknown) return unknown;
  const { charge: chargeId, amount, reason } = body;
  if (typeof chargeId !== 'string' || chargeId === '') return fail(400, 'charge must be a charge id, e.g. ch_....', 'charge');
  const charge = account.charges.get(chargeId);
  if (!charge) return stripeErrors.resourceMissing('charge', chargeId, 'charge');
  if (charge.status !== 'succeeded') return fail(400, `Charge ${chargeId} is ${charge.status}: only a succeeded charge can be refunded.`, 'charge');
  const left = charge.amount - charge.amount_refunded;
  if (left === 0) return fail(400, `Charge ${chargeId} has already been refunded.`, 'charge', 'charge_already_refunded');
  if (amount !== undefined && (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 1)) {
    return fail(400, 'amount must be a whole number of minor units, at least 1 (1000 is 10.00 USD).', 'amount');
  }
  if (typeof amount === 'number' && amount > left) {
    const money = (minor: number) => `${formatMinor(minor, charge.currency)} ${charge.currency.toUpperCase()}`;
    return fail(400, `Refund amount (${money(amount)}) is greater than unrefunded amount on charge (${money(left)}).`, 'amount');
  }
  if (reason !== undefined && !REFUND_REASONS.includes(reason as Stripe.RefundCreateParams.Reason)) {
    return fail(400, `reason must be one of ${REFUND_REASONS.join(', ')}.`, 'reason');
  }
  const eventsBefore = account.events.size;
  const made = state.refund(chargeId, typeof amount === 'number' ? amount : left, {
    account: accountOption(state, account),
    ...(reason === undefined ? {} : { reason: reason as Stripe.Refund.Reason }),
  });
  const events = newEvents(account, eventsBefore);
  const answer: FakeRefundAnswer = { object: 'fake_refund', refund: made, charge, events, webhook_endpoints: endpointsFor(state, account, events) };
  return { status: 200, body: answer };
}

function deliveries(state: FakeStripeState, _account: AccountData, _body: Record<string, unknown>, query: URLSearchParams): Reply {
  const event = query.get('event');
  const endpoint = query.get('endpoint');
  const data = state.webhooks.deliveries
    .filter((d) => (event === null || d.eventId === event) && (endpoint === null || d.endpoint === endpoint))
    .reverse();
  return { status: 200, body: { object: 'list', data, has_more: false, url: '/_fake/webhook_deliveries' } };
}

/** The events an operation just emitted: the newest `size - before` of the account's. */
function newEvents(account: AccountData, before: number): EmittedEvent[] {
  const page = account.events.page({ limit: account.events.size - before });
  return page.ok ? page.data.reverse().map((e) => ({ id: e.id, type: e.type })) : [];
}

/** The endpoints those events were queued to: what a caller needs to know whether anything will arrive. */
function endpointsFor(state: FakeStripeState, account: AccountData, events: { type: string }[]): string[] {
  return [...new Set(events.flatMap((e) => state.webhooks.targets(account, e.type).map(([, endpoint]) => endpoint.id)))];
}

function accountOption(state: FakeStripeState, account: AccountData): string | undefined {
  return account === state.platform ? undefined : account.id;
}

function parseMetadata(raw: unknown): { ok: true; value: Record<string, string> } | { ok: false; reply: Reply } {
  if (raw === undefined || raw === null) return { ok: true, value: {} };
  const bad = fail(400, 'metadata must be an object of at most 50 text values, keys up to 40 characters, values up to 500.', 'metadata');
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, reply: bad };
  const entries = Object.entries(raw);
  if (entries.length > 50 || entries.some(([k, v]) => k.length > 40 || typeof v !== 'string' || v.length > 500)) return { ok: false, reply: bad };
  return { ok: true, value: Object.fromEntries(entries) as Record<string, string> };
}

function unknownField(body: Record<string, unknown>, allowed: readonly string[]): Reply | null {
  const name = Object.keys(body).find((k) => !allowed.includes(k));
  return name === undefined ? null : fail(400, `Received unknown parameter: ${name}. Known: ${allowed.join(', ')}.`, name);
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function fail(status: number, message: string, param?: string, code?: string): Reply {
  return { status, body: { error: { type: 'invalid_request_error', message, ...(param ? { param } : {}), ...(code ? { code } : {}) } } };
}
