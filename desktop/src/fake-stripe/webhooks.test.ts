import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeStripe, type FakeStripe, type FakeStripeOptions } from './server';
import type { FakeInfoAnswer, FakePurchaseAnswer, FakeRefundAnswer } from './controls';
import { CONNECTED_ACCOUNT } from './seed';
import { client, rejection } from './testing';
import { startReceiver, type Receiver } from './webhook-receiver';
import { signatureHeader, WEBHOOK_USER_AGENT, type DeliveryAttempt } from './webhooks';

/** Every fake and receiver a test starts, closed after it. */
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function fakeWith(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const fake = await startFakeStripe({ seed: 'default', webhooks: { retryDelaysMs: [20, 40, 80], timeoutMs: 2_000 }, ...options });
  open.push(fake);
  return fake;
}

async function receiver(port?: number): Promise<Receiver> {
  const r = await startReceiver(port);
  open.push(r);
  return r;
}

/** A request to the fake's test controls with its secret key (or `key`). */
async function control<T = unknown>(fake: FakeStripe, method: string, path: string, body?: unknown, key = fake.keys.secret) {
  const response = await fetch(`${fake.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as T & { error: { message: string; param?: string; code?: string } } };
}

const purchase = (fake: FakeStripe, body: unknown, key?: string) => control<FakePurchaseAnswer>(fake, 'POST', '/_fake/purchases', body, key);
const refund = (fake: FakeStripe, body: unknown) => control<FakeRefundAnswer>(fake, 'POST', '/_fake/refunds', body);

const purchaseOf = (email: string, amount = 4_900, currency = 'usd') => ({ email, amount, currency });
const typesOf = (r: Receiver) => r.received.map((x) => (JSON.parse(x.body) as Stripe.Event).type);

describe('fake Stripe webhooks: endpoints over the official client', () => {
  it('creates an endpoint answering its whsec_ secret once; lists, retrieves, updates and deletes it', async () => {
    const fake = await fakeWith();
    const stripe = client(fake, fake.keys.secret);
    const created = await stripe.webhookEndpoints.create({
      url: 'http://127.0.0.1:9/webhooks/stripe',
      enabled_events: ['charge.succeeded', 'charge.refunded'],
      description: 'local redirector',
      metadata: { env: 'test' },
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9]{32,}$/);
    expect(created).toMatchObject({ object: 'webhook_endpoint', status: 'enabled', livemode: false, api_version: null, application: null });
    expect(created.id).toMatch(/^we_/);
    expect(fake.state.webhooks.secretOf(created.id)).toBe(created.secret);

    const retrieved = await stripe.webhookEndpoints.retrieve(created.id);
    expect(retrieved.secret).toBeUndefined();
    expect(retrieved.enabled_events).toEqual(['charge.succeeded', 'charge.refunded']);
    expect((await stripe.webhookEndpoints.list()).data.map((e) => e.id)).toEqual([created.id]);

    const updated = await stripe.webhookEndpoints.update(created.id, { disabled: true, enabled_events: ['*'], description: '', metadata: { env: '' } });
    expect(updated).toMatchObject({ status: 'disabled', enabled_events: ['*'], description: null, metadata: {} });
    expect(updated.secret).toBeUndefined();

    expect(await stripe.webhookEndpoints.del(created.id)).toMatchObject({ id: created.id, object: 'webhook_endpoint', deleted: true });
    const gone = await rejection(stripe.webhookEndpoints.retrieve(created.id));
    expect([gone.statusCode, gone.code, gone.message]).toEqual([404, 'resource_missing', `No such webhook endpoint: '${created.id}'`]);
    expect(fake.state.webhooks.secretOf(created.id)).toBeUndefined();
  });

  it('refuses a missing url, an unknown parameter and an event type that is not one, changing nothing', async () => {
    const fake = await fakeWith();
    const stripe = client(fake, fake.keys.secret);
    const missing = await rejection(stripe.webhookEndpoints.create({ enabled_events: ['*'] } as Stripe.WebhookEndpointCreateParams));
    expect([missing.statusCode, missing.code, missing.param]).toEqual([400, 'parameter_missing', 'url']);
    const wildcard = await rejection(stripe.webhookEndpoints.create({ url: 'https://example.com/h', enabled_events: ['charge.*' as '*'] }));
    expect([wildcard.statusCode, wildcard.param]).toEqual([400, 'enabled_events[0]']);
    const notHttp = await rejection(stripe.webhookEndpoints.create({ url: 'ftp://example.com/h', enabled_events: ['*'] }));
    expect(notHttp.param).toBe('url');
    const endpoint = await stripe.webhookEndpoints.create({ url: 'https://example.com/h', enabled_events: ['*'] });
    const unknown = await rejection(stripe.webhookEndpoints.update(endpoint.id, { url: 'https://example.com/other', colour: 'blue' } as Stripe.WebhookEndpointUpdateParams));
    expect(unknown.param).toBe('colour');
    expect((await stripe.webhookEndpoints.retrieve(endpoint.id)).url).toBe('https://example.com/h');
  });

  it('needs rak_webhook_write to create and rak_webhook_read to list; the desktop’s read-only key has neither', async () => {
    const fake = await fakeWith();
    const params = { url: 'https://example.com/h', enabled_events: ['*' as const] };
    const desktop = client(fake, fake.keys.restricted);
    const denied = await rejection(desktop.webhookEndpoints.create(params));
    expect(denied).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(denied.message).toMatch(/'rak_webhook_write'/);
    expect((await rejection(desktop.webhookEndpoints.list())).message).toMatch(/'rak_webhook_read'/);

    const reader = client(fake, fake.state.addRestrictedKey(['rak_webhook_read']));
    expect((await reader.webhookEndpoints.list()).data).toEqual([]);
    expect((await rejection(reader.webhookEndpoints.create(params))).message).toMatch(/'rak_webhook_write'/);

    const writer = client(fake, fake.state.addRestrictedKey(['rak_webhook_write']));
    const made = await writer.webhookEndpoints.create(params);
    expect((await writer.webhookEndpoints.list()).data.map((e) => e.id)).toEqual([made.id]);
  });

  const specUrl = new URL('../../../../shared/stripe-openapi/spec3.json', import.meta.url);
  const fixturesUrl = new URL('../../../../shared/stripe-openapi/fixtures3.current.json', import.meta.url);
  // The snapshot lives beside the repository; a checkout without it cannot run this check.
  it.skipIf(!existsSync(fileURLToPath(specUrl)))('has the spec’s webhook_endpoint and deleted_webhook_endpoint shapes and the fixture’s fields', async () => {
    const spec = JSON.parse(readFileSync(specUrl, 'utf8')) as {
      components: { schemas: Record<string, { required?: string[]; properties: Record<string, unknown> }> };
    };
    const fixture = (JSON.parse(readFileSync(fixturesUrl, 'utf8')) as { resources: Record<string, Record<string, unknown>> }).resources.webhook_endpoint!;
    const fake = await fakeWith();
    const stripe = client(fake, fake.keys.secret);
    const created = await stripe.webhookEndpoints.create({ url: 'https://example.com/h', enabled_events: ['charge.failed', 'charge.succeeded'] });
    const retrieved = await stripe.webhookEndpoints.retrieve(created.id);
    const schema = spec.components.schemas.webhook_endpoint!;
    for (const object of [created, retrieved]) {
      expect(schema.required!.filter((field) => !(field in object))).toEqual([]);
      expect(Object.keys(object).filter((field) => !(field in schema.properties))).toEqual([]);
    }
    // The spec's `secret` is "Only returned at creation": the fixture (a retrieve) has every other field.
    expect(Object.keys(retrieved).sort()).toEqual(Object.keys(fixture).sort());
    const deleted = await stripe.webhookEndpoints.del(created.id);
    expect(spec.components.schemas.deleted_webhook_endpoint!.required!.filter((f) => !(f in deleted))).toEqual([]);
  });
});

describe('fake Stripe webhooks: delivery', () => {
  it('signs each delivery so the official stripe package verifies it, and a tampered body is refused', async () => {
    const fake = await fakeWith();
    const rx = await receiver();
    const endpoint = await client(fake, fake.keys.secret).webhookEndpoints.create({ url: rx.url, enabled_events: ['*'] });
    const bought = await purchase(fake, purchaseOf('new.buyer@example.com'));
    expect(bought.json.webhook_endpoints).toEqual([endpoint.id]);
    await fake.state.webhooks.idle();

    expect(typesOf(rx)).toEqual(['customer.created', 'charge.succeeded']);
    const stripe = client(fake, fake.keys.restricted);
    for (const [i, r] of rx.received.entries()) {
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.headers['user-agent']).toBe(WEBHOOK_USER_AGENT);
      const header = String(r.headers['stripe-signature']);
      const event = stripe.webhooks.constructEvent(r.body, header, endpoint.secret!);
      expect(event.id).toBe(bought.json.events[i]!.id);
      const t = Number(/^t=(\d+),v1=[0-9a-f]{64}$/.exec(header)![1]);
      expect(stripe.webhooks.generateTestHeaderString({ payload: r.body, secret: endpoint.secret!, timestamp: t })).toBe(header);
      // The body is the event as the API renders it (pending_webhooks counted down since).
      const listed = await stripe.events.retrieve(event.id);
      expect({ ...JSON.parse(r.body), pending_webhooks: 0 }).toEqual(JSON.parse(JSON.stringify(listed)));
      expect(JSON.parse(r.body).pending_webhooks).toBe(1);
      expect(listed.pending_webhooks).toBe(0);

      const tampered = r.body.replace('"amount": 4900', '"amount": 1');
      expect(() => stripe.webhooks.constructEvent(tampered === r.body ? `${r.body} ` : tampered, header, endpoint.secret!)).toThrow(
        Stripe.errors.StripeSignatureVerificationError,
      );
      expect(() => stripe.webhooks.constructEvent(r.body, header, 'whsec_someoneelse000000')).toThrow(Stripe.errors.StripeSignatureVerificationError);
    }
    expect(fake.state.webhooks.deliveries.map((d) => [d.eventType, d.attempt, d.status, d.ok])).toEqual([
      ['customer.created', 1, 200, true],
      ['charge.succeeded', 1, 200, true],
    ]);
  });

  it('retries a failing receiver with backoff until a 2xx, then stops: same event id and body, a fresh signature each time', async () => {
    const fake = await fakeWith({ webhooks: { retryDelaysMs: [30, 60, 120, 240], timeoutMs: 2_000 } });
    const rx = await receiver();
    rx.answers = [500, 503, 302];
    // Each failure moves the fake's clock, so each attempt's timestamp differs.
    rx.onRequest = () => fake.state.advanceClock(5_000);
    const { secret } = fake.state.addWebhookEndpoint({ url: rx.url, enabledEvents: ['charge.succeeded'] });
    const { charge } = fake.state.addCharge({ amount: 2_500, currency: 'eur' });
    await fake.state.webhooks.idle();

    expect(rx.received).toHaveLength(4);
    const events = rx.received.map((r) => new Stripe('sk_test_x').webhooks.constructEvent(r.body, String(r.headers['stripe-signature']), secret, 3_600));
    expect(new Set(events.map((e) => e.id)).size).toBe(1);
    expect((events[0]!.data.object as Stripe.Charge).id).toBe(charge.id);
    expect(new Set(rx.received.map((r) => r.body)).size).toBe(1);
    const stamps = rx.received.map((r) => Number(/t=(\d+)/.exec(String(r.headers['stripe-signature']))![1]));
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! - stamps[i - 1]!).toBeGreaterThanOrEqual(5);
    const log = fake.state.webhooks.deliveries;
    expect(log.map((d) => [d.attempt, d.status, d.ok])).toEqual([[1, 500, false], [2, 503, false], [3, 302, false], [4, 200, true]]);
    expect(log.map((d) => Math.floor(d.at / 1000))).toEqual(stamps);
    expect(log.map((d) => d.nextAttemptAt === null)).toEqual([false, false, false, true]);
    // The waits grow: each gap is at least its scheduled delay.
    const gaps = rx.received.slice(1).map((r, i) => r.receivedAt - rx.received[i]!.receivedAt);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual([30, 60, 120][i]! - 2));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(rx.received).toHaveLength(4);
    expect(fake.state.platform.events.get(events[0]!.id)!.pending_webhooks).toBe(0);
  });

  it('gives up after the last scheduled retry, and counts a timeout as a failure', async () => {
    const fake = await fakeWith({ webhooks: { retryDelaysMs: [10, 10], timeoutMs: 150 } });
    const rx = await receiver();
    let release: () => void = () => undefined;
    // The first request hangs past the timeout; the retries get 500.
    rx.onRequest = (r) => (rx.received.indexOf(r) === 0 ? new Promise<void>((resolve) => (release = resolve)) : undefined);
    rx.answers = [200, 500, 500];
    fake.state.addWebhookEndpoint({ url: rx.url, enabledEvents: ['charge.succeeded'] });
    const { charge } = fake.state.addCharge({ amount: 990, currency: 'usd' });
    await fake.state.webhooks.idle();
    release();
    const log = fake.state.webhooks.deliveries;
    expect(log.map((d) => [d.attempt, d.status, d.error])).toEqual([[1, null, 'timed out after 150 ms'], [2, 500, null], [3, 500, null]]);
    expect(log[2]!.nextAttemptAt).toBeNull();
    const event = fake.state.platform.events.get(log[0]!.eventId)!;
    expect((event.data.object as Stripe.Charge).id).toBe(charge.id);
    expect(event.pending_webhooks).toBe(1);
  });

  it('sends each endpoint only the event types it enabled, nothing to a disabled one, and Connect events only to connect endpoints', async () => {
    const fake = await fakeWith();
    const [refunds, all, disabled, connect] = [await receiver(), await receiver(), await receiver(), await receiver()];
    const stripe = client(fake, fake.keys.secret);
    await stripe.webhookEndpoints.create({ url: refunds.url, enabled_events: ['charge.refunded'] });
    await stripe.webhookEndpoints.create({ url: all.url, enabled_events: ['*'] });
    const off = await stripe.webhookEndpoints.create({ url: disabled.url, enabled_events: ['*'] });
    await stripe.webhookEndpoints.update(off.id, { disabled: true });
    await stripe.webhookEndpoints.create({ url: connect.url, enabled_events: ['*'], connect: true });

    const bought = await purchase(fake, purchaseOf('alice@example.com', 1_200));
    await refund(fake, { charge: bought.json.charge.id, amount: 200 });
    const elsewhere = fake.state.account(CONNECTED_ACCOUNT).charges.newestFirst()[0]!;
    fake.state.refund(elsewhere.id, 100, { account: CONNECTED_ACCOUNT });
    await fake.state.webhooks.idle();

    expect(typesOf(refunds)).toEqual(['charge.refunded']);
    expect(typesOf(all)).toEqual(['charge.succeeded', 'refund.created', 'charge.refunded']);
    expect(disabled.received).toEqual([]);
    expect(typesOf(connect)).toEqual(['refund.created', 'charge.refunded']);
    expect(connect.received.map((r) => (JSON.parse(r.body) as Stripe.Event).account)).toEqual([CONNECTED_ACCOUNT, CONNECTED_ACCOUNT]);
  });

  it('renders events in the API version an endpoint pins', async () => {
    const fake = await fakeWith();
    const [pinned, current] = [await receiver(), await receiver()];
    fake.state.addWebhookEndpoint({ url: pinned.url, enabledEvents: ['charge.succeeded'], apiVersion: '2024-06-20' });
    fake.state.addWebhookEndpoint({ url: current.url, enabledEvents: ['charge.succeeded'] });
    fake.state.addCharge({ amount: 700, currency: 'usd' });
    await fake.state.webhooks.idle();
    const [old, now] = [JSON.parse(pinned.received[0]!.body), JSON.parse(current.received[0]!.body)];
    expect(old.api_version).toBe('2024-06-20');
    expect(old.data.object).toHaveProperty('invoice', null);
    expect(now.api_version).toBe(fake.state.platform.defaultApiVersion);
    expect(now.data.object).not.toHaveProperty('invoice');
  });

  it('stops delivering to a deleted or disabled endpoint, pending retries included', async () => {
    // Retries wait long enough for the delete and the update to land first, even on a loaded machine.
    const fake = await fakeWith({ webhooks: { retryDelaysMs: [500, 500, 500], timeoutMs: 2_000 } });
    const [deleted, disabled] = [await receiver(), await receiver()];
    deleted.answers = [500, 500, 500, 500];
    disabled.answers = [500, 500, 500, 500];
    const stripe = client(fake, fake.keys.secret);
    const toDelete = await stripe.webhookEndpoints.create({ url: deleted.url, enabled_events: ['charge.succeeded'] });
    const toDisable = await stripe.webhookEndpoints.create({ url: disabled.url, enabled_events: ['charge.succeeded'] });
    fake.state.addCharge({ amount: 1_000, currency: 'usd' });
    await vi.waitFor(() => expect(fake.state.webhooks.deliveries).toHaveLength(2));
    await stripe.webhookEndpoints.del(toDelete.id);
    await stripe.webhookEndpoints.update(toDisable.id, { disabled: true });
    await fake.state.webhooks.idle();
    fake.state.addCharge({ amount: 1_100, currency: 'usd' });
    await fake.state.webhooks.idle();
    expect([deleted.received.length, disabled.received.length]).toEqual([1, 1]);
    expect(fake.state.webhooks.deliveries).toHaveLength(2);
  });

  it('delivers to a receiver that was down when the event happened, once it is back up', async () => {
    const fake = await fakeWith({ webhooks: { retryDelaysMs: [100, 200, 400, 800], timeoutMs: 2_000 } });
    const first = await receiver();
    const port = first.port;
    await first.close();
    const { secret } = fake.state.addWebhookEndpoint({ url: `http://127.0.0.1:${port}/webhooks/stripe`, enabledEvents: ['charge.refunded'] });
    const charge = fake.state.platform.charges.newestFirst().find((c) => c.amount_refunded === 0 && c.status === 'succeeded')!;
    fake.state.refund(charge.id, 100);
    await vi.waitFor(() => expect(fake.state.webhooks.deliveries).toHaveLength(1));
    expect(fake.state.webhooks.deliveries[0]).toMatchObject({ status: null, ok: false });
    expect(fake.state.webhooks.deliveries[0]!.error).toMatch(/ECONNREFUSED/);

    const back = await receiver(port);
    await fake.state.webhooks.idle();
    expect(back.received).toHaveLength(1);
    const event = new Stripe('sk_test_x').webhooks.constructEvent(back.received[0]!.body, String(back.received[0]!.headers['stripe-signature']), secret);
    expect(event.type).toBe('charge.refunded');
    expect((event.data.object as Stripe.Charge).id).toBe(charge.id);
    expect(fake.state.webhooks.deliveries.at(-1)).toMatchObject({ eventId: event.id, ok: true, status: 200 });
  });

  it('answers the API call that caused an event without waiting for the receiver', async () => {
    const fake = await fakeWith();
    const rx = await receiver();
    let release: () => void = () => undefined;
    rx.onRequest = () => new Promise<void>((resolve) => (release = resolve));
    fake.state.addWebhookEndpoint({ url: rx.url, enabledEvents: ['charge.succeeded'] });
    const bought = await purchase(fake, purchaseOf('alice@example.com'));
    expect(bought.status).toBe(200);
    await vi.waitFor(() => expect(rx.received).toHaveLength(1));
    // The purchase was answered while the receiver still holds its delivery unanswered.
    expect(fake.state.webhooks.deliveries).toHaveLength(0);
    release();
    await fake.state.webhooks.idle();
    expect(fake.state.webhooks.deliveries.map((d) => d.ok)).toEqual([true]);
  });

  it('signs as Stripe documents: HMAC-SHA256 of "t.body" keyed with the whole secret, hex', () => {
    // An independent vector: the stripe package's own test-header generator with the same inputs.
    const body = '{\n  "id": "evt_1"\n}';
    const header = signatureHeader('whsec_test_secret', 1_700_000_000, body);
    expect(header).toBe(new Stripe('sk_test_x').webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_test_secret', timestamp: 1_700_000_000 }));
  });
});

describe('fake Stripe test controls', () => {
  it('a purchase creates a customer and a succeeded charge, read back through the official client; the same email reuses the customer', async () => {
    const fake = await fakeWith();
    const stripe = client(fake, fake.keys.restricted);
    const first = await purchase(fake, {
      ...purchaseOf('dana@example.com', 4_900, 'USD'),
      name: 'Dana Lee',
      description: 'Pro plan',
      metadata: { revtrail_vid: 'vQ3x9Lk2PzR7mW4tB8nC1d' },
    });
    expect(first.status).toBe(200);
    expect(first.json.customer_created).toBe(true);
    expect(first.json.events.map((e: { type: string }) => e.type)).toEqual(['customer.created', 'charge.succeeded']);

    const charge = await stripe.charges.retrieve(first.json.charge.id, { expand: ['balance_transaction'] });
    expect(charge).toMatchObject({ amount: 4_900, currency: 'usd', status: 'succeeded', paid: true, customer: first.json.customer.id, description: 'Pro plan' });
    expect(charge.billing_details.email).toBe('dana@example.com');
    expect(charge.metadata).toEqual({ revtrail_vid: 'vQ3x9Lk2PzR7mW4tB8nC1d' });
    expect((charge.balance_transaction as Stripe.BalanceTransaction).amount).toBe(4_900);
    const pi = await stripe.paymentIntents.retrieve(String(charge.payment_intent));
    expect([pi.status, pi.latest_charge]).toEqual(['succeeded', charge.id]);
    const customers = await stripe.customers.list({ email: 'dana@example.com' });
    expect(customers.data.map((c) => [c.id, c.name])).toEqual([[first.json.customer.id, 'Dana Lee']]);
    const events = await stripe.events.list({ limit: 2 });
    expect(events.data.map((e) => e.id).reverse()).toEqual(first.json.events.map((e: { id: string }) => e.id));

    const again = await purchase(fake, purchaseOf('dana@example.com', 1_000, 'jpy'));
    expect([again.json.customer_created, again.json.customer.id]).toEqual([false, first.json.customer.id]);
    expect(again.json.events.map((e: { type: string }) => e.type)).toEqual(['charge.succeeded']);
    expect((await stripe.charges.retrieve(again.json.charge.id)).amount).toBe(1_000);
    expect((await stripe.customers.list({ email: 'dana@example.com' })).data).toHaveLength(1);
  });

  it('a refund through the control refunds the charge as the state’s refund does, and refuses what Stripe refuses', async () => {
    const fake = await fakeWith();
    const stripe = client(fake, fake.keys.restricted);
    const bought = await purchase(fake, purchaseOf('erin@example.com', 3_000));
    const chargeId: string = bought.json.charge.id;
    const partial = await refund(fake, { charge: chargeId, amount: 1_000, reason: 'duplicate' });
    expect(partial.status).toBe(200);
    expect(partial.json.events.map((e: { type: string }) => e.type)).toEqual(['refund.created', 'charge.refunded']);
    expect(await stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 1_000, refunded: false });
    const refunds = await stripe.refunds.list({ charge: chargeId });
    expect(refunds.data.map((r) => [r.id, r.amount, r.reason, r.status])).toEqual([[partial.json.refund.id, 1_000, 'duplicate', 'succeeded']]);

    const tooMuch = await refund(fake, { charge: chargeId, amount: 2_001 });
    expect([tooMuch.status, tooMuch.json.error.param]).toEqual([400, 'amount']);
    expect(tooMuch.json.error.message).toBe('Refund amount (20.01 USD) is greater than unrefunded amount on charge (20.00 USD).');
    const rest = await refund(fake, { charge: chargeId });
    expect(rest.json.refund.amount).toBe(2_000);
    expect(await stripe.charges.retrieve(chargeId)).toMatchObject({ amount_refunded: 3_000, refunded: true });
    const twice = await refund(fake, { charge: chargeId });
    expect([twice.status, twice.json.error.code]).toEqual([400, 'charge_already_refunded']);
    const unknown = await refund(fake, { charge: 'ch_nope' });
    expect([unknown.status, unknown.json.error.message]).toEqual([404, "No such charge: 'ch_nope'"]);
    expect((await stripe.refunds.list({ charge: chargeId })).data).toHaveLength(2);
  });

  it('lists delivery attempts over HTTP, filtered by event', async () => {
    const fake = await fakeWith();
    const rx = await receiver();
    rx.answers = [500];
    fake.state.addWebhookEndpoint({ url: rx.url, enabledEvents: ['*'] });
    const bought = await purchase(fake, purchaseOf('finn@example.com'));
    await fake.state.webhooks.idle();
    const all = await control<{ data: DeliveryAttempt[] }>(fake, 'GET', '/_fake/webhook_deliveries');
    expect(all.json.data).toHaveLength(3);
    const charged = bought.json.events[1]!.id;
    const one = await control<{ data: DeliveryAttempt[] }>(fake, 'GET', `/_fake/webhook_deliveries?event=${charged}`);
    expect(one.json.data.map((d) => [d.eventId, d.attempt])).toEqual([[charged, 1]]);
    expect(fake.state.log.count()).toBe(0);
  });

  it('take a key of this fake that is not revoked, say what the fake is, and answer bad input with a clear 4xx', async () => {
    const fake = await fakeWith();
    // The app's restricted key reaches them (its test mode's "simulate a purchase"); no other key does.
    const about = await control<FakeInfoAnswer>(fake, 'GET', '/_fake/info', undefined, fake.keys.restricted);
    expect(about.json).toMatchObject({ object: 'fake_info', livemode: false, settlement_currency: 'usd', controls: expect.arrayContaining(['POST /_fake/purchases']) });
    expect(about.json.currencies).toEqual(expect.arrayContaining(['usd', 'eur', 'jpy']));
    expect((await control(fake, 'GET', '/_fake/info', undefined, 'rk_test_unknown')).status).toBe(401);
    const restricted = await purchase(fake, purchaseOf('rk@b.co'), fake.keys.restricted);
    expect(restricted.status).toBe(200);
    expect((await purchase(fake, purchaseOf('a@b.co'), 'sk_test_unknown')).status).toBe(401);
    expect((await purchase(fake, purchaseOf('a@b.co'), fake.keys.revoked)).status).toBe(401);
    const bad: [unknown, string][] = [
      [purchaseOf('not-an-email'), 'email'],
      [purchaseOf('a@b.co', 0), 'amount'],
      [purchaseOf('a@b.co', 12.5), 'amount'],
      [purchaseOf('a@b.co', 100, 'xyz'), 'currency'],
      [purchaseOf('a@b.co', 100, 'dollars'), 'currency'],
      [{ ...purchaseOf('a@b.co'), colour: 'blue' }, 'colour'],
      [{ ...purchaseOf('a@b.co'), metadata: { k: 1 } }, 'metadata'],
    ];
    for (const [body, param] of bad) {
      const answer = await purchase(fake, body);
      expect([answer.status, answer.json.error.param], JSON.stringify(body)).toEqual([400, param]);
    }
    expect((await purchase(fake, '{"email":')).json.error.message).toMatch(/JSON object/);
    expect((await control(fake, 'GET', '/_fake/purchases')).status).toBe(405);
    expect((await control(fake, 'POST', '/_fake/teleport', {})).status).toBe(404);
    expect(fake.state.platform.customers.newestFirst().some((c) => c.email === 'a@b.co')).toBe(false);
  });
});
