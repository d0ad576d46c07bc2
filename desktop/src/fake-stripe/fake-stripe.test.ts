import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from './server';
import { bulkSeed, CONNECTED_ACCOUNT, LEGACY_API_VERSION, SEED_VISITOR_ID, seedDefault, type DefaultSeed } from './seed';
import { EVENT_RETENTION_SECONDS } from './routes';
import { client, rejection } from './testing';

const DAY_MS = 86_400_000;

/** An object's own fields, to read what an older API version adds beyond the package's types. */
function fields(object: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object));
}

async function startDefault(): Promise<{ fake: FakeStripe; seed: DefaultSeed }> {
  let seed: DefaultSeed | undefined;
  const fake = await startFakeStripe({ seed: (state) => void (seed = seedDefault(state)) });
  return { fake, seed: seed! };
}

describe('fake Stripe: lists', () => {
  let fake: FakeStripe;
  let stripe: Stripe;

  beforeAll(async () => {
    fake = await startFakeStripe({ seed: bulkSeed({ charges: 300, customers: 12 }) });
    // Objects created in the same second: Stripe still lists them newest first.
    const at = fake.state.now() - 3_600;
    for (let i = 0; i < 5; i++) fake.state.addCharge({ amount: 1_000 + i, currency: 'usd', at });
    stripe = client(fake, fake.keys.restricted);
  });
  afterAll(() => fake.close());

  it('auto-pagination returns every charge, newest first, exactly as stored', async () => {
    const expected = fake.state.platform.charges.newestFirst();
    const listed = await stripe.charges.list({ limit: 37 }).autoPagingToArray({ limit: 10_000 });
    expect(expected.length).toBe(305);
    expect(listed.map((c) => c.id)).toEqual(expected.map((c) => c.id));
    expect(listed.map((c) => c.amount)).toEqual(expected.map((c) => c.amount));
    for (let i = 1; i < listed.length; i++) expect(listed[i]!.created).toBeLessThanOrEqual(listed[i - 1]!.created);
    expect(fake.state.requestCount('/v1/charges')).toBe(Math.ceil(305 / 37));
  });

  it('pages carry object, url and has_more; ending_before walks back to newer objects', async () => {
    const expected = fake.state.platform.charges.newestFirst().map((c) => c.id);
    const first = await stripe.charges.list({ limit: 10 });
    expect(first.object).toBe('list');
    expect(first.url).toBe('/v1/charges');
    expect(first.has_more).toBe(true);
    const second = await stripe.charges.list({ limit: 10, starting_after: first.data[9]!.id });
    expect(second.data.map((c) => c.id)).toEqual(expected.slice(10, 20));
    const back = await stripe.charges.list({ limit: 5, ending_before: second.data[0]!.id });
    expect(back.data.map((c) => c.id)).toEqual(expected.slice(5, 10));
    expect(back.has_more).toBe(true);
    const top = await stripe.charges.list({ limit: 10, ending_before: expected[3]! });
    expect(top.data.map((c) => c.id)).toEqual(expected.slice(0, 3));
    expect(top.has_more).toBe(false);
    const last = await stripe.charges.list({ limit: 100, starting_after: expected[expected.length - 3]! });
    expect(last.data.map((c) => c.id)).toEqual(expected.slice(-2));
    expect(last.has_more).toBe(false);
  });

  it('filters by created ranges and by an exact created', async () => {
    const all = fake.state.platform.charges.newestFirst();
    const gte = all[200]!.created;
    const lt = all[50]!.created;
    const listed = await stripe.charges.list({ created: { gte, lt }, limit: 100 }).autoPagingToArray({ limit: 1_000 });
    const expected = all.filter((c) => c.created >= gte && c.created < lt);
    expect(expected.length).toBeGreaterThan(100);
    expect(listed.map((c) => c.id)).toEqual(expected.map((c) => c.id));

    const gtLte = await stripe.charges.list({ created: { gt: gte, lte: lt }, limit: 100 }).autoPagingToArray({ limit: 1_000 });
    expect(gtLte.map((c) => c.id)).toEqual(all.filter((c) => c.created > gte && c.created <= lt).map((c) => c.id));

    const tied = all.find((c) => c.amount === 1_002 && c.currency === 'usd' && c.customer === null)!;
    const exact = await stripe.charges.list({ created: tied.created });
    expect(exact.data.map((c) => c.amount)).toEqual([1_004, 1_003, 1_002, 1_001, 1_000]);
  });

  it('filters charges by customer and refunds by charge', async () => {
    const customer = fake.state.platform.customers.newestFirst()[3]!;
    const listed = await stripe.charges.list({ customer: customer.id, limit: 100 }).autoPagingToArray({ limit: 1_000 });
    const expected = fake.state.platform.charges.newestFirst().filter((c) => c.customer === customer.id);
    expect(expected.length).toBeGreaterThan(0);
    expect(listed.map((c) => c.id)).toEqual(expected.map((c) => c.id));

    const refund = fake.state.platform.refunds.newestFirst()[0]!;
    const refunds = await stripe.refunds.list({ charge: String(refund.charge) });
    expect(refunds.data.map((r) => r.id)).toEqual([refund.id]);
  });

  it('answers a limit outside 1..100 and an unknown cursor with 400 in Stripe shape', async () => {
    const tooMany = await rejection(stripe.charges.list({ limit: 101 }));
    expect(tooMany).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.param).toBe('limit');
    const zero = await rejection(stripe.charges.list({ limit: 0 }));
    expect(zero.message).toMatch(/greater than or equal to 1/);
    const cursor = await rejection(stripe.charges.list({ starting_after: 'ch_missing' }));
    expect(cursor.code).toBe('resource_missing');
    expect(cursor.param).toBe('starting_after');
  });

  it('parses encoded brackets and refuses unknown parameters, as Stripe does', async () => {
    const auth = { Authorization: `Bearer ${fake.keys.restricted}` };
    const newest = fake.state.platform.charges.newestFirst()[0]!;
    const encoded = await fetch(`${fake.url}/v1/charges?created%5Bgte%5D=${newest.created}&limit=1`, { headers: auth });
    const page = (await encoded.json()) as Stripe.ApiList<Stripe.Charge>;
    expect(page.data[0]!.id).toBe(newest.id);
    const unknown = await fetch(`${fake.url}/v1/charges?colour=blue`, { headers: auth });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({
      error: { type: 'invalid_request_error', param: 'colour', message: 'Received unknown parameter: colour' },
    });
  });
});

describe('fake Stripe: default seed over the official client', () => {
  let fake: FakeStripe;
  let seed: DefaultSeed;
  let stripe: Stripe;

  beforeAll(async () => {
    ({ fake, seed } = await startDefault());
    stripe = client(fake, fake.keys.restricted);
  });
  afterAll(() => fake.close());

  it('expands balance_transaction on lists and on retrieve', async () => {
    const page = await stripe.charges.list({ limit: 100, expand: ['data.balance_transaction'] });
    expect(page.data.length).toBe(fake.state.platform.charges.size);
    for (const charge of page.data) {
      const stored = fake.state.platform.charges.get(charge.id)!;
      const bt = charge.balance_transaction;
      if (typeof bt !== 'object' || bt === null) throw new Error(`balance_transaction of ${charge.id} not expanded`);
      expect(bt.id).toBe(stored.balance_transaction);
      expect(bt.source).toBe(charge.id);
      expect(bt.net).toBe(bt.amount - bt.fee);
    }
    const one = await stripe.charges.retrieve(seed.charges.eurPartialRefund.id, { expand: ['balance_transaction'] });
    const bt = one.balance_transaction as Stripe.BalanceTransaction;
    expect(bt.currency).toBe('usd');
    expect(bt.exchange_rate).toBeGreaterThan(1);
    expect(bt.amount).toBe(Math.round(one.amount * bt.exchange_rate!));
    const plain = await stripe.charges.retrieve(seed.charges.eurPartialRefund.id);
    expect(plain.balance_transaction).toBe(bt.id);
  });

  it('needs Balance read to expand a balance transaction, not to list charges', async () => {
    const noBalance = client(fake, fake.keys.withoutBalance);
    await expect(noBalance.charges.list({ limit: 3 })).resolves.toMatchObject({ object: 'list' });
    const denied = await rejection(noBalance.charges.list({ limit: 3, expand: ['data.balance_transaction'] }));
    expect(denied).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(denied.message).toMatch(/Having the 'rak_balance_read' permission would allow this request to continue\.$/);
  });

  it('keeps zero- and three-decimal amounts as minor units and converts them at the stated rate', async () => {
    const jpy = await stripe.charges.retrieve(seed.charges.jpy.id, { expand: ['balance_transaction'] });
    const kwd = await stripe.charges.retrieve(seed.charges.kwd.id, { expand: ['balance_transaction'] });
    expect([jpy.amount, jpy.currency]).toEqual([5_000, 'jpy']);
    expect([kwd.amount, kwd.currency]).toEqual([12_345, 'kwd']);
    const jpyBt = jpy.balance_transaction as Stripe.BalanceTransaction;
    const kwdBt = kwd.balance_transaction as Stripe.BalanceTransaction;
    // ¥5000 at ~0.0067 USD is ~$33.50 (3350 cents): exponent 0 -> 2.
    expect(jpyBt.amount).toBe(Math.round(5_000 * jpyBt.exchange_rate! * 100));
    expect(jpyBt.amount).toBeGreaterThan(3_000);
    expect(jpyBt.amount).toBeLessThan(4_000);
    // 12.345 KWD at ~3.25 USD is ~$40.12 (4012 cents): exponent 3 -> 2.
    expect(kwdBt.amount).toBe(Math.round((12_345 * kwdBt.exchange_rate!) / 10));
    expect(kwdBt.amount).toBeGreaterThan(3_500);
    expect(kwdBt.amount).toBeLessThan(4_500);
    expect(jpy.billing_details.email).toBeNull();
    expect(jpy.receipt_email).toBe('kenji@example.jp');
    const kenji = await stripe.customers.retrieve(seed.customers.kenji.id);
    expect(kenji.deleted).toBeUndefined();
    expect((kenji as Stripe.Customer).email).toBeNull();
  });

  it('shows partial, full, late and failed refunds on their charges and in /v1/refunds', async () => {
    const partial = await stripe.charges.retrieve(seed.charges.eurPartialRefund.id);
    expect([partial.amount_refunded, partial.refunded]).toEqual([2_500, false]);
    const full = await stripe.charges.retrieve(seed.charges.gbpFullRefund.id);
    expect([full.amount_refunded, full.refunded]).toEqual([7_500, true]);
    const failed = await stripe.charges.retrieve(seed.charges.failedRefund.id);
    expect([failed.amount_refunded, failed.refunded]).toEqual([0, false]);
    const failedRefunds = await stripe.refunds.list({ charge: seed.charges.failedRefund.id });
    expect(failedRefunds.data.map((r) => r.status)).toEqual(['failed']);
    expect(failedRefunds.data[0]!.failure_balance_transaction).toMatch(/^txn_/);

    const dayAgo = Math.floor(Date.now() / 1000) - 2 * 86_400;
    const recent = await stripe.refunds.list({ created: { gte: dayAgo } });
    const late = recent.data.find((r) => r.charge === seed.charges.lastYear.id);
    expect(late?.amount).toBe(5_000);
    const lastYear = await stripe.charges.retrieve(seed.charges.lastYear.id);
    expect(lastYear.created).toBeLessThan(dayAgo - 300 * 86_400);
  });

  it('lists disputes won, lost and an inquiry', async () => {
    const disputes = await stripe.disputes.list();
    const byCharge = new Map(disputes.data.map((d) => [d.charge, d]));
    expect(byCharge.get(seed.charges.disputeWon.id)?.status).toBe('won');
    expect(byCharge.get(seed.charges.disputeLost.id)?.status).toBe('lost');
    const inquiry = byCharge.get(seed.charges.inquiry.id)!;
    expect(inquiry.status).toBe('warning_needs_response');
    expect(inquiry.balance_transactions).toEqual([]);
    const won = byCharge.get(seed.charges.disputeWon.id)!;
    expect(won.balance_transactions.map((b) => Math.sign(b.amount))).toEqual([-1, 1]);
    expect((await stripe.charges.retrieve(seed.charges.disputeLost.id)).disputed).toBe(true);
  });

  it('carries the visitor id in the metadata of the charge and its PaymentIntent', async () => {
    const charge = await stripe.charges.retrieve(seed.charges.visitor.id);
    expect(charge.metadata.revtrail_vid).toBe(SEED_VISITOR_ID);
    expect(SEED_VISITOR_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const pi = await stripe.paymentIntents.retrieve(String(charge.payment_intent));
    expect(pi.metadata.revtrail_vid).toBe(SEED_VISITOR_ID);
    expect(pi.latest_charge).toBe(charge.id);
  });

  it('leaves canceled subscriptions out unless status=all', async () => {
    const byDefault = await stripe.subscriptions.list();
    const all = await stripe.subscriptions.list({ status: 'all' });
    const canceled = await stripe.subscriptions.list({ status: 'canceled' });
    const ids = (l: Stripe.ApiList<Stripe.Subscription>) => l.data.map((s) => s.id).sort();
    expect(ids(byDefault)).toEqual([seed.subscriptions.alice.id, seed.subscriptions.chloe.id].sort());
    expect(ids(all)).toEqual([seed.subscriptions.alice.id, seed.subscriptions.bruno.id, seed.subscriptions.chloe.id].sort());
    expect(ids(canceled)).toEqual([seed.subscriptions.bruno.id]);
  });

  it('bills subscriptions with create, cycle and update invoices linked to payments', async () => {
    const invoices = await stripe.invoices.list({ customer: seed.customers.alice.id });
    expect(invoices.data.map((i) => i.billing_reason)).toEqual([
      'subscription_update',
      'subscription_cycle',
      'subscription_cycle',
      'subscription_create',
    ]);
    for (const invoice of invoices.data) {
      const payments = await stripe.invoicePayments.list({ invoice: invoice.id });
      expect(payments.data).toHaveLength(1);
      const pi = payments.data[0]!.payment.payment_intent;
      const byPi = await stripe.invoicePayments.list({ payment: { type: 'payment_intent', payment_intent: String(pi) } });
      expect(byPi.data.map((p) => p.invoice)).toEqual([invoice.id]);
      const intent = await stripe.paymentIntents.retrieve(String(pi));
      expect(intent.amount).toBe(invoice.amount_paid);
    }
  });

  it('renders invoices and charges in the shape of the requested API version', async () => {
    const sub = seed.subscriptions.alice.id;
    const basil = await stripe.invoices.list({ subscription: sub, limit: 1 });
    const modern = basil.data[0]!;
    expect(modern.parent?.subscription_details?.subscription).toBe(sub);
    expect('subscription' in modern).toBe(false);
    const modernCharge = await stripe.charges.list({ customer: seed.customers.alice.id, limit: 100 });
    expect(modernCharge.data.every((c) => !('invoice' in c))).toBe(true);

    const legacy = await stripe.invoices.list({ subscription: sub, limit: 1 }, { apiVersion: LEGACY_API_VERSION });
    const old = fields(legacy.data[0]!);
    expect(old.subscription).toBe(sub);
    expect(old.paid).toBe(true);
    expect('parent' in old).toBe(false);
    const payment = fake.state.platform.defaultPayment(modern.id)!;
    expect(old.payment_intent).toBe(payment.paymentIntent);
    const oldCharge = fields(await stripe.charges.retrieve(payment.charge!, {}, { apiVersion: LEGACY_API_VERSION }));
    expect(oldCharge.invoice).toBe(modern.id);
    const oneOff = fields(await stripe.charges.retrieve(seed.charges.kwd.id, {}, { apiVersion: LEGACY_API_VERSION }));
    expect(oneOff.invoice).toBeNull();
    expect(fake.state.log.apiVersions()).toEqual(new Set([Stripe.API_VERSION, LEGACY_API_VERSION]));
  });

  it('lists only the last 30 days of events, each rendered in its own API version', async () => {
    const cutoff = fake.state.now() - EVENT_RETENTION_SECONDS;
    const stored = fake.state.platform.events.newestFirst();
    const old = stored.filter((e) => e.created < cutoff);
    expect(old.length).toBeGreaterThan(0);
    const listed = await stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 1_000 });
    expect(listed.map((e) => e.id)).toEqual(stored.filter((e) => e.created >= cutoff).map((e) => e.id));
    const missing = await rejection(stripe.events.retrieve(old[0]!.id));
    expect(missing.statusCode).toBe(404);

    const paid = await stripe.events.list({ type: 'invoice.paid', limit: 100 });
    const versions = new Set(paid.data.map((e) => e.api_version));
    expect(versions).toEqual(new Set([LEGACY_API_VERSION, Stripe.API_VERSION]));
    for (const event of paid.data) {
      const invoice = fields(event.data.object);
      expect('subscription' in invoice).toBe(event.api_version === LEGACY_API_VERSION);
      expect('parent' in invoice).toBe(event.api_version !== LEGACY_API_VERSION);
    }
    const disputes = await stripe.events.list({ type: 'charge.dispute.*', limit: 100 });
    expect(new Set(disputes.data.map((e) => e.type))).toEqual(
      new Set(['charge.dispute.created', 'charge.dispute.closed', 'charge.dispute.funds_reinstated']),
    );
  });

  it('partitions data by Stripe-Account', async () => {
    const connected = await stripe.charges.list({ limit: 100 }, { stripeAccount: CONNECTED_ACCOUNT });
    expect(connected.data.map((c) => c.id)).toEqual(seed.connectedCharges.map((c) => c.id).reverse());
    const platform = await stripe.charges.list({ limit: 100 });
    const platformIds = new Set(platform.data.map((c) => c.id));
    expect(seed.connectedCharges.some((c) => platformIds.has(c.id))).toBe(false);
    const notThere = await rejection(stripe.charges.retrieve(seed.connectedCharges[0]!.id));
    expect(notThere.statusCode).toBe(404);
    const usdOnEur = await stripe.charges.retrieve(
      seed.connectedCharges[0]!.id,
      { expand: ['balance_transaction'] },
      { stripeAccount: CONNECTED_ACCOUNT },
    );
    expect((usdOnEur.balance_transaction as Stripe.BalanceTransaction).currency).toBe('eur');
    const events = await stripe.events.list({ type: 'charge.succeeded' }, { stripeAccount: CONNECTED_ACCOUNT });
    expect(events.data.every((e) => e.account === CONNECTED_ACCOUNT)).toBe(true);
    const stranger = await rejection(stripe.charges.list({}, { stripeAccount: 'acct_1NotConnected' }));
    expect(stranger).toBeInstanceOf(Stripe.errors.StripePermissionError);
  });
});

describe('fake Stripe: keys and permissions', () => {
  let fake: FakeStripe;

  beforeAll(async () => {
    ({ fake } = await startDefault());
  });
  afterAll(() => fake.close());

  it('answers an unknown key with 401 and Stripe’s masked message', async () => {
    const key = 'rk_test_51NobodyIssuedThisKey0000abcd';
    const error = await rejection(client(fake, key).charges.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error.statusCode).toBe(401);
    expect(error.type).toBe('StripeAuthenticationError');
    expect(error.raw).toMatchObject({ type: 'invalid_request_error' });
    expect(error.message).toBe(`Invalid API Key provided: rk_test_${'*'.repeat(key.length - 12)}abcd`);
  });

  it('answers a revoked key with 401 api_key_expired', async () => {
    const key = fake.state.addRestrictedKey(['rak_charge_read']);
    const stripe = client(fake, key);
    await expect(stripe.charges.list({ limit: 1 })).resolves.toMatchObject({ object: 'list' });
    fake.state.revoke(key);
    const error = await rejection(stripe.charges.list({ limit: 1 }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(error.code).toBe('api_key_expired');
    expect(error.message).toMatch(/^Expired API Key provided: rk_test_\*+/);
  });

  it('answers a missing permission with 403 naming the rak_ permission', async () => {
    const error = await rejection(client(fake, fake.keys.withoutCharges).charges.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(error.statusCode).toBe(403);
    expect(error.raw).toMatchObject({ type: 'invalid_request_error' });
    const permission = /Having the '(rak_[a-z_]+)' permission would allow this request to continue\.$/.exec(error.message)?.[1];
    expect(permission).toBe('rak_charge_read');
    expect(error.message).toContain(`on account '${fake.state.platform.id}'`);
    expect(error.message).not.toContain(fake.keys.withoutCharges);
  });

  it('maps each endpoint to its permission', async () => {
    const cases: [string, (s: Stripe) => Promise<unknown>][] = [
      ['rak_charge_read', (s) => s.refunds.list()],
      ['rak_customer_read', (s) => s.customers.list()],
      ['rak_subscription_read', (s) => s.subscriptions.list()],
      ['rak_invoice_read', (s) => s.invoices.list()],
      ['rak_invoice_read', (s) => s.invoicePayments.list()],
      ['rak_dispute_read', (s) => s.disputes.list()],
      ['rak_event_read', (s) => s.events.list()],
      ['rak_balance_read', (s) => s.balanceTransactions.list()],
      ['rak_payment_intent_read', (s) => s.paymentIntents.list()],
    ];
    const nothing = client(fake, fake.state.addRestrictedKey([]));
    for (const [permission, call] of cases) {
      const error = await rejection(call(nothing));
      expect(error.message).toContain(`Having the '${permission}' permission`);
      await expect(call(client(fake, fake.state.addRestrictedKey([permission])))).resolves.toMatchObject({ object: 'list' });
    }
    const refundsOnly = client(fake, fake.state.addRestrictedKey(['rak_refund_read']));
    await expect(refundsOnly.refunds.list()).resolves.toMatchObject({ object: 'list' });
  });

  it('refuses writes: 403 for a read-only restricted key, 405 from this read-only fake for a secret key', async () => {
    const charge = fake.state.platform.charges.newestFirst()[0]!;
    const denied = await rejection(client(fake, fake.keys.restricted).charges.update(charge.id, { description: 'x' }));
    expect(denied).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(denied.message).toMatch(/'rak_charge_write'/);
    const notImplemented = await rejection(client(fake, fake.keys.secret).charges.update(charge.id, { description: 'x' }));
    expect(notImplemented.statusCode).toBe(405);
    expect(fake.state.platform.charges.get(charge.id)!.description).toBe(charge.description);
  });
});

describe('fake Stripe: faults', () => {
  let fake: FakeStripe;

  beforeAll(async () => {
    ({ fake } = await startDefault());
  });
  afterAll(() => fake.close());

  it('answers an injected 429 in Stripe’s rate-limit shape', async () => {
    fake.state.log.clear();
    fake.state.failNext(1, 429, { retryAfter: 2 });
    const error = await rejection(client(fake, fake.keys.restricted).charges.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(error.code).toBe('rate_limit');
    expect(error.headers?.['retry-after']).toBe('2');
    expect(fake.state.requestCount('/v1/charges')).toBe(1);
  });

  it('the client retries a 429 only when Stripe-Should-Retry says so', async () => {
    const stripe = client(fake, fake.keys.restricted, 2);
    fake.state.log.clear();
    fake.state.failNext(1, 429);
    await expect(stripe.customers.list()).rejects.toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(fake.state.requestCount('/v1/customers')).toBe(1);

    fake.state.log.clear();
    fake.state.failNext(1, 429, { shouldRetry: true });
    const page = await stripe.customers.list();
    expect(page.data.length).toBe(fake.state.platform.customers.size);
    expect(fake.state.log.entries.map((r) => r.status)).toEqual([429, 200]);
  });

  it('the client retries a 503 and gives up after maxNetworkRetries without a storm', async () => {
    const stripe = client(fake, fake.keys.restricted, 2);
    fake.state.log.clear();
    fake.state.failNext(1, 503);
    await expect(stripe.disputes.list()).resolves.toMatchObject({ object: 'list' });
    expect(fake.state.log.entries.map((r) => r.status)).toEqual([503, 200]);

    fake.state.log.clear();
    fake.state.failNext(5, 500, { path: '/v1/invoices' });
    const error = await rejection(stripe.invoices.list());
    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(fake.state.requestCount('/v1/invoices')).toBe(3);
    expect(fake.state.faults.pending).toBe(2);
    await expect(stripe.charges.list({ limit: 1 })).resolves.toMatchObject({ object: 'list' });
  });
});

describe('fake Stripe: state mutators', () => {
  let fake: FakeStripe;
  let seed: DefaultSeed;
  let stripe: Stripe;

  beforeAll(async () => {
    ({ fake, seed } = await startDefault());
    stripe = client(fake, fake.keys.restricted);
  });
  afterAll(() => fake.close());

  it('a refund updates the charge, lists the refund and emits charge.refunded', async () => {
    const before = fake.state.platform.events.size;
    const refund = fake.state.refund(seed.charges.kwd.id, 345);
    const charge = await stripe.charges.retrieve(seed.charges.kwd.id);
    expect([charge.amount_refunded, charge.refunded]).toEqual([345, false]);
    const listed = await stripe.refunds.list({ limit: 1 });
    expect(listed.data[0]!.id).toBe(refund.id);
    const events = await stripe.events.list({ limit: 2 });
    expect(events.data.map((e) => e.type).sort()).toEqual(['charge.refunded', 'refund.created']);
    expect(fake.state.platform.events.size).toBe(before + 2);
    expect(() => fake.state.refund(seed.charges.kwd.id, 12_001)).toThrow(/cannot refund/);
  });

  it('a renewal adds a cycle invoice, its charge and payment; the clock moves lists and the event window', async () => {
    const inquiryOpened = (await stripe.events.list({ type: 'charge.dispute.created', limit: 1 })).data[0]!;
    fake.state.advanceClock(40 * DAY_MS);
    const billed = fake.state.renewSubscription(seed.subscriptions.chloe.id, { at: fake.state.now() });
    const latest = await stripe.invoices.list({ limit: 1 });
    expect(latest.data[0]!.id).toBe(billed.invoice.id);
    expect(latest.data[0]!.billing_reason).toBe('subscription_cycle');
    const payments = await stripe.invoicePayments.list({ invoice: billed.invoice.id });
    expect(payments.data[0]!.payment.payment_intent).toBe(billed.paymentIntent.id);
    const events = await stripe.events.list({ limit: 100 });
    expect(events.data.every((e) => e.created >= fake.state.now() - EVENT_RETENTION_SECONDS)).toBe(true);
    expect(events.data.map((e) => e.type)).toContain('invoice.paid');
    expect(events.data.map((e) => e.id)).not.toContain(inquiryOpened.id);
  });

  it('opens and closes disputes with the balance movements Stripe makes', async () => {
    const opened = fake.state.openDispute(seed.charges.visitor.id, { amount: 2_000 });
    expect(opened.balance_transactions.map((b) => [b.amount, b.fee])).toEqual([[-2_000, 1_500]]);
    fake.state.closeDispute(opened.id, 'won');
    const dispute = await stripe.disputes.retrieve(opened.id);
    expect(dispute.status).toBe('won');
    expect(dispute.balance_transactions.map((b) => b.amount)).toEqual([-2_000, 2_000]);
    const charge = await stripe.charges.retrieve(seed.charges.visitor.id);
    expect(charge.disputed).toBe(true);
  });
});

describe('fake Stripe: shapes against the 2023-08-16 OpenAPI spec', () => {
  const specUrl = new URL('../../../../shared/stripe-openapi/spec3.json', import.meta.url);
  const haveSpec = existsSync(fileURLToPath(specUrl));
  let fake: FakeStripe;
  let seed: DefaultSeed;

  beforeAll(async () => {
    ({ fake, seed } = await startDefault());
  });
  afterAll(() => fake.close());

  // The snapshot lives beside the repository (../shared); a checkout without it cannot run this check.
  it.skipIf(!haveSpec)('objects rendered at 2023-08-16 carry every required property of the spec', async () => {
    const spec = JSON.parse(readFileSync(specUrl, 'utf8')) as {
      components: { schemas: Record<string, { required?: string[]; properties: Record<string, { enum?: string[] }> }> };
    };
    const required = (name: string) => spec.components.schemas[name]!.required ?? [];
    const stripe = client(fake, fake.keys.restricted);
    const options = { apiVersion: '2023-08-16' };
    const samples: [string, unknown][] = [
      ['charge', await stripe.charges.retrieve(seed.charges.eurPartialRefund.id, {}, options)],
      ['payment_intent', await stripe.paymentIntents.retrieve(String(seed.charges.visitor.payment_intent), {}, options)],
      ['refund', (await stripe.refunds.list({ limit: 1 }, options)).data[0]],
      ['dispute', (await stripe.disputes.list({ limit: 1 }, options)).data[0]],
      ['customer', await stripe.customers.retrieve(seed.customers.alice.id, {}, options)],
      ['subscription', await stripe.subscriptions.retrieve(seed.subscriptions.alice.id, {}, options)],
      ['invoice', (await stripe.invoices.list({ limit: 1 }, options)).data[0]],
      ['balance_transaction', (await stripe.balanceTransactions.list({ limit: 1 }, options)).data[0]],
      ['event', (await stripe.events.list({ limit: 1 }, options)).data[0]],
    ];
    for (const [schema, object] of samples) {
      expect(object, schema).toBeTypeOf('object');
      const keys = Object.keys(object as object);
      expect(required(schema).filter((field) => !keys.includes(field)), schema).toEqual([]);
      expect((object as { object: string }).object).toBe(schema);
    }

    const errorTypes = spec.components.schemas.api_errors!.properties.type!.enum!;
    const denied = await fetch(`${fake.url}/v1/charges`, { headers: { Authorization: `Bearer ${fake.keys.withoutCharges}` } });
    const body = (await denied.json()) as { error: { type: string; message: string } };
    expect(denied.status).toBe(403);
    expect(errorTypes).toContain(body.error.type);
    const limited = await rejection(stripe.charges.list({ limit: 500 }));
    expect(errorTypes).toContain((limited.raw as { type: string }).type);
  });
});

describe('fake Stripe: bulk seed', () => {
  it('builds 100k charges in seconds and serves deep pages quickly', async () => {
    const started = performance.now();
    const fake = await startFakeStripe({ seed: bulkSeed({ charges: 100_000 }) });
    const buildMs = performance.now() - started;
    try {
      expect(fake.state.platform.charges.size).toBe(100_000);
      expect(fake.state.platform.refunds.size).toBe(5_000);
      expect(fake.state.platform.disputes.size).toBe(500);
      const stripe = client(fake, fake.keys.restricted);
      const middle = fake.state.platform.charges.newestFirst()[60_000]!;
      const pageStarted = performance.now();
      const page = await stripe.charges.list({ limit: 100, starting_after: middle.id });
      const pageMs = performance.now() - pageStarted;
      expect(page.data.map((c) => c.id)).toEqual(
        fake.state.platform.charges
          .newestFirst()
          .slice(60_001, 60_101)
          .map((c) => c.id),
      );
      console.log(`bulkSeed 100k charges: built in ${Math.round(buildMs)} ms; one deep page in ${Math.round(pageMs)} ms`);
      // Generous bounds for a loaded 2-core CI box: they catch a quadratic build or a scan per page.
      expect(buildMs).toBeLessThan(30_000);
      expect(pageMs).toBeLessThan(2_000);
    } finally {
      await fake.close();
    }
  }, 60_000);
});

describe('fake Stripe: endpoints a server lacks or serves slowly', () => {
  it('answers a lacking endpoint as Stripe answers an unrecognized URL, list and retrieve, until restored', async () => {
    const { fake } = await startDefault();
    try {
      const lacking = await startFakeStripe({ seed: 'default', lacking: ['invoice_payments'] });
      try {
        const raw = await fetch(`${lacking.url}/v1/invoice_payments?limit=1`, { headers: { Authorization: `Bearer ${lacking.keys.restricted}` } });
        expect(raw.status).toBe(404);
        expect(await raw.json()).toEqual({
          error: {
            type: 'invalid_request_error',
            message: 'Unrecognized request URL (GET: /v1/invoice_payments). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.',
          },
        });
      } finally {
        await lacking.close();
      }
      const stripe = client(fake, fake.keys.restricted);
      const id = fake.state.platform.invoicePayments.newestFirst()[0]!.id;
      fake.state.endpoints.remove('invoice_payments');
      const listed = await rejection(stripe.invoicePayments.list({ limit: 1 }));
      expect(listed).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect([listed.statusCode, listed.code]).toEqual([404, undefined]);
      expect((await rejection(stripe.invoicePayments.retrieve(id))).message).toContain(`Unrecognized request URL (GET: /v1/invoice_payments/${id})`);
      expect((await stripe.invoices.list({ limit: 1 })).data).toHaveLength(1);
      fake.state.endpoints.restore('invoice_payments');
      expect((await stripe.invoicePayments.retrieve(id)).id).toBe(id);
    } finally {
      await fake.close();
    }
  });

  it('holds a slow endpoint past a client timeout while others answer at once', async () => {
    const { fake } = await startDefault();
    try {
      fake.state.endpoints.delay('disputes', 1_000);
      const stripe = new Stripe(fake.keys.restricted, { host: '127.0.0.1', port: fake.port, protocol: 'http', apiVersion: Stripe.API_VERSION, maxNetworkRetries: 0, timeout: 200 });
      const slow = await rejection(stripe.disputes.list({ limit: 1 }));
      expect(slow).toBeInstanceOf(Stripe.errors.StripeConnectionError);
      expect(slow.message).toContain('timeout');
      expect((await stripe.charges.list({ limit: 1 })).data).toHaveLength(1);
      fake.state.endpoints.delay('disputes', 0);
      expect((await stripe.disputes.list({ limit: 1 })).data).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });
});
