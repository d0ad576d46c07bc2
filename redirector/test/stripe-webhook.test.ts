import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type pino from 'pino';
import { DAY_MS, STRIPE_WEBHOOK_EVENT_TYPES, type StripeHint, type StripeWebhookStatus } from '@revtrail/shared';
import { buildApp } from '../src/app';
import { silentLogger } from '../src/log';
import { DynamoStore } from '../src/store/dynamo';
import type { Store } from '../src/store/types';
import { closeSharedDynamo, makeTestApp, ManualClock, MemorySpill, sharedDynamo, testConfig, type TestApp } from './support';
import { body, charge, deliveryHeaders, OTHER_SECRET, signature, stripeEvent, WEBHOOK_SECRET } from './stripe-events';

afterAll(closeSharedDynamo);

const PATH = '/webhooks/stripe';

function deliver(t: TestApp, payload: string, headers: Record<string, string>, remoteAddress = '3.18.12.63') {
  return t.app.inject({ method: 'POST', url: PATH, headers, payload, remoteAddress });
}

/** A signed delivery of `event`, made now on the test's clock. */
const send = (t: TestApp, event: Record<string, unknown>, secret = WEBHOOK_SECRET) => {
  const payload = body(event);
  return deliver(t, payload, deliveryHeaders(payload, t.clock.now(), { secret }));
};

async function hints(t: TestApp): Promise<StripeHint[]> {
  t.clock.advance(1);
  const res = await t.app.inject({ url: '/api/v1/stripe-hints?limit=1000', headers: t.auth });
  expect(res.statusCode).toBe(200);
  return res.json().items as StripeHint[];
}

async function status(t: TestApp): Promise<StripeWebhookStatus> {
  const res = await t.app.inject({ url: '/api/v1/webhooks/stripe', headers: t.auth });
  expect(res.statusCode).toBe(200);
  expect(res.headers['cache-control']).toBe('no-store');
  return res.json() as StripeWebhookStatus;
}

async function scan(t: TestApp): Promise<Record<string, unknown>[]> {
  const out = await (await sharedDynamo()).client().send(new ScanCommand({ TableName: t.config.tableName }));
  return (out.Items ?? []).map((i) => unmarshall(i));
}

/**
 * An app over the test's table through a client that runs `first` before the first write of a hints-feed item
 * (its partition key starts H#): to fail it as a crash would, or to slow it.
 */
async function appOnFirstHintWrite(t: TestApp, first: () => Promise<void>) {
  const client = new DynamoDBClient({ endpoint: (await sharedDynamo()).endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  let seen = false;
  client.middlewareStack.add(
    (next) => async (args) => {
      const pk = (args as { input: { Item?: { pk?: unknown } } }).input.Item?.pk;
      if (!seen && /^H#/.test(typeof pk === 'string' ? pk : String((pk as { S?: string } | undefined)?.S))) {
        seen = true;
        await first();
      }
      return next(args);
    },
    { step: 'initialize' },
  );
  const store = new DynamoStore({ tableName: t.config.tableName, retentionDays: 90, client, clock: t.clock });
  return buildApp({ store, config: t.config, log: silentLogger as pino.Logger, clock: t.clock, events: { mode: 'inline', spill: new MemorySpill() } });
}

const withSecret = (secrets = WEBHOOK_SECRET, more: Record<string, string> = {}) =>
  makeTestApp({ settings: { REVTRAIL_STRIPE_WEBHOOK_SECRET: secrets, REVTRAIL_PUBLIC_URL: 'https://go.brand.com', ...more } });

describe('Stripe webhook: verified events become hints', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await withSecret();
  });

  it('keeps a verified event as a hint naming its object, without any of the payload, and acknowledges with 200', async () => {
    const event = stripeEvent({ id: 'evt_1Pgc76B7WZ01zgkWwyRHS12y', type: 'charge.refunded', object: charge('ch_1PgafuB7WZ01zgkWXYmPNZs8'), account: 'acct_1Nv0FGQ9RKHgCVdK' });
    const res = await send(t, event);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true, duplicate: false });
    expect(res.headers['cache-control']).toBe('no-store');

    const [hint, ...rest] = await hints(t);
    expect(rest).toEqual([]);
    expect(hint).toEqual({
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      at: t.clock.now() - 1,
      eventId: 'evt_1Pgc76B7WZ01zgkWwyRHS12y',
      eventType: 'charge.refunded',
      objectType: 'charge',
      objectId: 'ch_1PgafuB7WZ01zgkWXYmPNZs8',
      createdAt: 1795521600_000,
      livemode: false,
      account: 'acct_1Nv0FGQ9RKHgCVdK',
    });
    // Nothing of the payload reaches the table: no email, name, phone, address, amount, metadata or customer.
    const table = JSON.stringify(await scan(t));
    for (const personal of ['jenny.rosen', 'Jenny Rosen', '+33612345678', 'Mercière', 'cus_QXg1o8vcGmoR32', '1042', 'pi_']) expect(table).not.toContain(personal);
  });

  it('acknowledges a redelivery of the same event id once more and keeps it once', async () => {
    const event = stripeEvent();
    expect((await send(t, event)).json()).toEqual({ received: true, duplicate: false });
    t.clock.advance(60_000); // Stripe's retry: the same event, signed anew
    for (let i = 0; i < 3; i++) {
      const again = await send(t, event);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ received: true, duplicate: true });
    }
    expect((await hints(t)).map((h) => h.eventId)).toEqual([event.id]);
    expect(await status(t)).toMatchObject({ received: 1, duplicates: 3, ignored: 0 });
  });

  it('keeps an event type it does not list when its object is one the sync reads, and drops the others with 200', async () => {
    const unlisted = stripeEvent({ type: 'charge.expired', object: charge('ch_unlistedType0001') });
    const price = stripeEvent({ type: 'price.created', object: { id: 'price_1PgafmB7WZ01zgkW6dKueIc5', object: 'price', unit_amount: 2000 } });
    const balance = stripeEvent({ type: 'balance.available', object: { object: 'balance', available: [] } });
    expect(STRIPE_WEBHOOK_EVENT_TYPES).not.toContain('charge.expired');
    expect((await send(t, unlisted)).json()).toEqual({ received: true, duplicate: false });
    for (const e of [price, balance]) {
      const res = await send(t, e);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ received: true, ignored: true });
    }
    expect((await hints(t)).map((h) => [h.eventType, h.objectId])).toEqual([['charge.expired', 'ch_unlistedType0001']]);
    expect(await status(t)).toMatchObject({ received: 1, ignored: 2 });
  });

  it('accepts either of two secrets while one is rolled, and Stripe\'s header carrying both signatures', async () => {
    t = await withSecret(`${OTHER_SECRET}, ${WEBHOOK_SECRET}`);
    const a = stripeEvent();
    const b = stripeEvent();
    expect((await send(t, a, WEBHOOK_SECRET)).statusCode).toBe(200);
    expect((await send(t, b, OTHER_SECRET)).statusCode).toBe(200);
    // During a roll Stripe signs with the old and the new secret: t=...,v1=<new>,v1=<old>.
    const c = stripeEvent();
    const payload = body(c);
    const [newSig, oldSig] = [signature(payload, t.clock.now(), 'whsec_unknownNewSecret0123456789abcdef'), signature(payload, t.clock.now(), WEBHOOK_SECRET)];
    const both = `${newSig},v1=${oldSig.split('v1=')[1]}`;
    expect((await deliver(t, payload, deliveryHeaders(payload, t.clock.now(), { sig: both }))).statusCode).toBe(200);
    // One millisecond on the test's clock: their order within it is not defined.
    expect((await hints(t)).map((h) => h.eventId).sort()).toEqual([a.id as string, b.id as string, c.id as string].sort());
    expect((await status(t)).secrets).toBe(2);
  });

  it('pages the hints feed with a cursor and holds back what is younger than the settle time, like every feed', async () => {
    const s = await withSecret(WEBHOOK_SECRET, { REVTRAIL_FEED_SETTLE_MS: '5000' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const e = stripeEvent();
      ids.push(e.id as string);
      expect((await send(s, e)).statusCode).toBe(200);
      s.clock.advance(10);
    }
    const early = await s.app.inject({ url: '/api/v1/stripe-hints', headers: s.auth });
    expect(early.json()).toMatchObject({ items: [], hasMore: false });
    s.clock.advance(5000);
    const seen: string[] = [];
    let cursor = early.json().cursor as string;
    for (let page = 0; page < 5; page++) {
      const res = await s.app.inject({ url: `/api/v1/stripe-hints?limit=2&cursor=${cursor}`, headers: s.auth });
      seen.push(...(res.json().items as StripeHint[]).map((h) => h.eventId));
      cursor = res.json().cursor;
      if (!res.json().hasMore) break;
    }
    expect(seen).toEqual(ids);
    const bad = await s.app.inject({ url: '/api/v1/stripe-hints?cursor=evt_1', headers: s.auth });
    expect(bad.statusCode).toBe(400);
    expect((await s.app.inject({ url: '/api/v1/stripe-hints' })).statusCode).toBe(401);
  });
});

describe('Stripe webhook: refused deliveries', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await withSecret();
  });

  const refusedCases: [string, number, string, RegExp, (t: TestApp) => Promise<{ statusCode: number; json: () => { error: { reason: string; message: string } }; headers: Record<string, unknown> }>][] = [
    [
      'a wrong secret',
      400,
      'bad_signature',
      /does not match this endpoint's signing secret.*revtrail connect webhook/,
      (t) => send(t, stripeEvent(), OTHER_SECRET),
    ],
    [
      'a body changed after signing',
      400,
      'bad_signature',
      /body was changed/,
      (t) => {
        const payload = body(stripeEvent({ type: 'charge.refunded' }));
        return deliver(t, payload.replace('charge.refunded', 'charge.captured'), deliveryHeaders(payload, t.clock.now()));
      },
    ],
    [
      'a timestamp outside the 300 s tolerance',
      400,
      'stale',
      /more than 5 minutes/,
      (t) => {
        const payload = body(stripeEvent());
        return deliver(t, payload, deliveryHeaders(payload, t.clock.now() - 301_000));
      },
    ],
    [
      'no Stripe-Signature header',
      400,
      'unsigned',
      /No Stripe-Signature header/,
      (t) => {
        const payload = body(stripeEvent());
        return deliver(t, payload, deliveryHeaders(payload, t.clock.now(), { sig: null }));
      },
    ],
    [
      'a header that is not Stripe\'s',
      400,
      'bad_signature',
      /does not match/,
      (t) => {
        const payload = body(stripeEvent());
        return deliver(t, payload, deliveryHeaders(payload, t.clock.now(), { sig: 'sha256=0123abcd' }));
      },
    ],
    [
      'a 10 MB body',
      413,
      'too_large',
      /over 1 MiB/,
      (t) => {
        const payload = JSON.stringify({ ...stripeEvent(), padding: 'x'.repeat(10 * 1024 * 1024) });
        return deliver(t, payload, deliveryHeaders(payload, t.clock.now()));
      },
    ],
    [
      'signed JSON that is not an event',
      400,
      'not_an_event',
      /not a Stripe event: .*created.*livemode.*data\.object/,
      (t) => {
        const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'charge.succeeded', data: {} });
        return deliver(t, payload, deliveryHeaders(payload, t.clock.now()));
      },
    ],
    [
      'a signed body that is not JSON',
      400,
      'not_an_event',
      /not JSON/,
      (t) => deliver(t, 'id=evt_1&type=charge.succeeded', deliveryHeaders('id=evt_1&type=charge.succeeded', t.clock.now())),
    ],
    [
      'a signed event of a kept object without its id',
      400,
      'not_an_event',
      /data\.object\.id: must be the refund's id/,
      (t) => send(t, stripeEvent({ object: { object: 'refund', amount: 100 } })),
    ],
  ];

  it.each(refusedCases)('refuses %s with %i %s, stores nothing and counts it', async (_name, code, reason, message, make) => {
    const at = t.clock.now();
    const res = await make(t);
    expect(res.statusCode).toBe(code);
    expect(res.json().error.reason).toBe(reason);
    expect(res.json().error.message).toMatch(message);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await hints(t)).toEqual([]);
    expect((await scan(t)).filter((i) => /^[HW]#/.test(String(i.pk)))).toEqual([]);
    const s = await status(t);
    expect(s.refused[reason as keyof typeof s.refused]).toBe(1);
    expect(s.lastRefused).toEqual({ at, reason });
    expect(s.received).toBe(0);
  });

  it('answers 503 while no secret is set, so that Stripe retries until one is, and says what to do', async () => {
    t = await makeTestApp();
    const res = await send(t, stripeEvent());
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatchObject({ code: 'unavailable', reason: 'no_secret' });
    expect(res.json().error.message).toMatch(/No signing secret is set.*Developers > Webhooks.*revtrail connect webhook.*Stripe sends this event again/);
    expect((await status(t)).refused.no_secret).toBe(1);
  });

  it('on AWS, answers 503 with the command that sets the SST secret while it holds its placeholder', async () => {
    const clock = new ManualClock();
    const config = { ...testConfig({ REVTRAIL_STRIPE_WEBHOOK_SECRET: 'unset', REVTRAIL_STAGE: 'prod' }), stripeWebhookSecretSource: 'sst' as const };
    expect(config).toMatchObject({ stripeWebhookSecrets: [], stripeWebhookSecretProblem: null, stage: 'prod' });
    const store = new DynamoStore({ tableName: config.tableName, retentionDays: 90, client: (await sharedDynamo()).client(), clock });
    await store.ensureTable(clock.now());
    const app = await buildApp({ store, config, log: silentLogger as pino.Logger, clock, events: { mode: 'inline', spill: new MemorySpill() } });
    const payload = body(stripeEvent());
    const res = await app.inject({ method: 'POST', url: PATH, payload, headers: deliveryHeaders(payload, clock.now()) });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toContain(
      'on the machine that deploys the redirector, run printf %s "whsec_..." | npm run -s sst -w redirector -- secret set StripeWebhookSecret --stage prod && npm run deploy -- --stage prod',
    );
    await app.close();
  });

  it('sets aside a mistyped secret without stopping the redirector, never quoting it', async () => {
    t = await makeTestApp({ settings: { REVTRAIL_STRIPE_WEBHOOK_SECRET: 'sk_live_notAWebhookSecret1234567890' } });
    const s = await status(t);
    expect(s.secrets).toBe(0);
    expect(s.secretProblem).toMatch(/REVTRAIL_STRIPE_WEBHOOK_SECRET must hold Stripe signing secrets, which start with whsec_/);
    const res = await send(t, stripeEvent());
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toMatch(/set aside \(REVTRAIL_STRIPE_WEBHOOK_SECRET must hold/);
    expect(JSON.stringify([s, res.json()])).not.toContain('notAWebhookSecret');
    // Redirects are unaffected.
    await t.putLink('spring', { destination: 'https://brand.com/', channel: 'X' });
    expect((await t.app.inject({ url: '/spring' })).statusCode).toBe(302);
  });

  it('counts a flood of refusals exactly with at most one counter write a second, and rate-limits it per client address', async () => {
    let writes = 0;
    const base = await sharedDynamo();
    const clock = new ManualClock();
    const config = testConfig({ REVTRAIL_STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
    const real = new DynamoStore({ tableName: config.tableName, retentionDays: 90, client: base.client(), clock });
    await real.ensureTable(clock.now());
    // The real store, with its counter writes counted.
    const store = new Proxy(real, {
      get(target, prop) {
        if (prop === 'addWebhookCounts') return (...a: Parameters<Store['addWebhookCounts']>) => ((writes += 1), target.addWebhookCounts(...a));
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const app = await buildApp({ store, config, log: silentLogger as pino.Logger, clock, events: { mode: 'inline', spill: new MemorySpill() } });
    const payload = body(stripeEvent());
    const post = (ip: string) => app.inject({ method: 'POST', url: PATH, payload, headers: deliveryHeaders(payload, clock.now(), { sig: null }), remoteAddress: ip });
    let last = 0;
    for (let i = 0; i < 6001; i++) last = (await post('198.51.100.7')).statusCode;
    expect(last).toBe(429);
    expect((await post('198.51.100.8')).statusCode).toBe(400);
    expect(writes).toBeLessThanOrEqual(2);
    const s = (await app.inject({ url: '/api/v1/webhooks/stripe', headers: { authorization: `Bearer ${config.syncToken}` } })).json() as StripeWebhookStatus;
    expect(s.refused.unsigned).toBe(6001);
  });
});

describe('Stripe webhook: durability', () => {
  it('answers 503 and keeps nothing when the table cannot be written, so that Stripe sends the event again', async () => {
    const clock = new ManualClock();
    const config = testConfig({ REVTRAIL_STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
    const down = new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
    const store = new DynamoStore({ tableName: config.tableName, retentionDays: 90, client: down, clock });
    const app = await buildApp({ store, config, log: silentLogger as pino.Logger, clock, events: { mode: 'inline', spill: new MemorySpill() } });
    const payload = body(stripeEvent());
    const res = await app.inject({ method: 'POST', url: PATH, payload, headers: deliveryHeaders(payload, clock.now()) });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toMatch(/could not store this event just now: Stripe sends it again later/);
    await app.close();
  });

  it('writes the feed item on redelivery when the first delivery stopped between its two writes, after every cursor handed out', async () => {
    const t = await withSecret();
    // The same dynalite through a client whose first write of a hints-feed item fails, as a crash would leave it.
    let failed = 0;
    const app = await appOnFirstHintWrite(t, async () => {
      failed += 1;
      throw Object.assign(new Error('connection reset'), { name: 'TimeoutError' });
    });
    const event = stripeEvent();
    const payload = body(event);
    const first = await app.inject({ method: 'POST', url: PATH, payload, headers: deliveryHeaders(payload, t.clock.now()) });
    expect(first.statusCode).toBe(503);
    expect(failed).toBe(1);
    // The desktop reads meanwhile: its cursor passes the moment of the first delivery.
    t.clock.advance(3_600_000);
    const before = await t.app.inject({ url: '/api/v1/stripe-hints', headers: t.auth });
    expect(before.json().items).toEqual([]);
    t.clock.advance(10);
    const retry = await app.inject({ method: 'POST', url: PATH, payload, headers: deliveryHeaders(payload, t.clock.now()) });
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toEqual({ received: true, duplicate: false });
    t.clock.advance(1);
    const after = await t.app.inject({ url: `/api/v1/stripe-hints?cursor=${before.json().cursor}`, headers: t.auth });
    expect((after.json().items as StripeHint[]).map((h) => h.eventId)).toEqual([event.id]);
    // And once more: a duplicate, still one hint.
    expect((await app.inject({ method: 'POST', url: PATH, payload, headers: deliveryHeaders(payload, t.clock.now()) })).json()).toEqual({ received: true, duplicate: true });
    expect((await hints(t)).map((h) => h.eventId)).toEqual([event.id]);
    await app.close();
  });

  it('keeps an event delivered several times at once once, even while the first delivery\'s feed write is slow', async () => {
    const t = await withSecret();
    // The same dynalite through a client whose first write of a hints-feed item waits 300 ms.
    let delayed = 0;
    const app = await appOnFirstHintWrite(t, async () => {
      delayed += 1;
      await new Promise((r) => setTimeout(r, 300));
    });
    const event = stripeEvent();
    const payload = body(event);
    const post = () => app.inject({ method: 'POST', url: PATH, payload, headers: deliveryHeaders(payload, t.clock.now()) });
    const first = post();
    await new Promise((r) => setTimeout(r, 100));
    const answers = await Promise.all([first, post(), post()]);
    expect(delayed).toBe(1);
    expect(answers.map((a) => a.json())).toEqual([
      { received: true, duplicate: false },
      { received: true, duplicate: true },
      { received: true, duplicate: true },
    ]);
    expect((await hints(t)).map((h) => h.eventId)).toEqual([event.id]);
    await app.close();
  });

  it('expires hints with the retention window and keeps the event known for Stripe\'s redeliveries; none comes back', async () => {
    const t = await withSecret(WEBHOOK_SECRET, { REVTRAIL_RETENTION_DAYS: '2' });
    const event = stripeEvent({ created: Math.floor(t.clock.now() / 1000) });
    expect((await send(t, event)).statusCode).toBe(200);
    const item = (await scan(t)).find((i) => String(i.pk).startsWith('H#'));
    expect(item?.expiresAt).toBe(Math.floor((t.clock.now() + 2 * DAY_MS) / 1000));
    t.clock.advance(3 * DAY_MS);
    await t.store.purgeExpired(t.clock.now());
    expect(await hints(t)).toEqual([]);
    // Stripe's dashboard can still send it (it keeps events 30 days): acknowledged, not stored again.
    expect((await send(t, event)).json()).toEqual({ received: true, duplicate: true });
    expect(await hints(t)).toEqual([]);
    // A month and more later the event's own item is purged too.
    t.clock.advance(32 * DAY_MS);
    await t.store.purgeExpired(t.clock.now());
    expect((await scan(t)).filter((i) => /^[HW]#/.test(String(i.pk)))).toEqual([]);
  });
});

describe('Stripe hints: erasure', () => {
  it('deletes the hints naming the objects, keeps nothing of them, and a redelivery brings none back', async () => {
    const t = await withSecret();
    const customer = stripeEvent({ type: 'customer.updated', object: { id: 'cus_ErasedCustomer01', object: 'customer', email: 'jenny.rosen@example.com' } });
    const theirCharge = stripeEvent({ object: charge('ch_ErasedCustomersCharge') });
    const other = stripeEvent({ object: charge('ch_SomeoneElsesCharge01') });
    for (const e of [customer, theirCharge, other]) expect((await send(t, e)).statusCode).toBe(200);
    expect((await send(t, customer)).json().duplicate).toBe(true);

    const erase = await t.app.inject({ method: 'POST', url: '/api/v1/stripe-hints/erase', headers: t.auth, payload: { objectIds: ['cus_ErasedCustomer01', 'ch_ErasedCustomersCharge', 'cus_NeverSeen000001'] } });
    expect(erase.statusCode).toBe(200);
    expect(erase.json()).toEqual({ deleted: 2 });
    expect((await hints(t)).map((h) => h.objectId)).toEqual(['ch_SomeoneElsesCharge01']);
    const table = JSON.stringify(await scan(t));
    expect(table).not.toContain('ErasedCustomer');
    // Their events are still known: a redelivery is acknowledged and adds nothing.
    for (const e of [customer, theirCharge]) expect((await send(t, e)).json()).toEqual({ received: true, duplicate: true });
    expect((await hints(t)).map((h) => h.objectId)).toEqual(['ch_SomeoneElsesCharge01']);
    expect(JSON.stringify(await scan(t))).not.toContain('ErasedCustomer');
  });

  it.each([
    ['no ids', { objectIds: [] }, /1 to 1000/],
    ['1001 ids', { objectIds: Array.from({ length: 1001 }, (_, i) => `ch_${i}`) }, /1 to 1000/],
    ['an id of no Stripe shape', { objectIds: ['cus_ok', 'jenny@example.com'] }, /objectIds\[1\]: must be a Stripe object id/],
    ['another field', { objectIds: ['cus_ok'], email: 'x' }, /email: unknown field/],
  ])('refuses %s with a 400', async (_name, payload, message) => {
    const t = await withSecret();
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/stripe-hints/erase', headers: t.auth, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(message);
  });

  it('takes 1000 ids in one call', async () => {
    const t = await withSecret();
    const e = stripeEvent({ object: charge('ch_LastOfAThousand') });
    expect((await send(t, e)).statusCode).toBe(200);
    const objectIds = [...Array.from({ length: 999 }, (_, i) => `ch_${String(i).padStart(24, '0')}`), 'ch_LastOfAThousand'];
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/stripe-hints/erase', headers: t.auth, payload: { objectIds } });
    expect(res.json()).toEqual({ deleted: 1 });
  });
});

describe('Stripe webhook: status and secrets API', () => {
  it('describes the endpoint: its URL, the event types to select, and how many secrets, never one of them', async () => {
    const t = await withSecret();
    const s = await status(t);
    expect(s).toMatchObject({
      url: 'https://go.brand.com/webhooks/stripe',
      path: '/webhooks/stripe',
      secrets: 1,
      secretProblem: null,
      settable: false,
      setCommand: null,
      received: 0,
      lastReceivedAt: null,
      lastRefused: null,
    });
    expect(s.eventTypes).toEqual([...STRIPE_WEBHOOK_EVENT_TYPES]);
    expect(JSON.stringify(s)).not.toContain('whsec_');
    expect((await t.app.inject({ url: '/api/v1/webhooks/stripe' })).statusCode).toBe(401);
  });

  it('lists in docs/deploy.md exactly the event types to select in Stripe\'s dashboard', () => {
    const deploy = readFileSync(fileURLToPath(new URL('../docs/deploy.md', import.meta.url)), 'utf8');
    const section = deploy.slice(deploy.indexOf("## 6. Stripe's webhook"), deploy.indexOf('Other types are acknowledged'));
    expect([...section.matchAll(/`([a-z_]+(?:\.[a-z_]+)+)`/g)].map((m) => m[1])).toEqual([...STRIPE_WEBHOOK_EVENT_TYPES]);
  });

  it('refuses to change secrets that come from the settings, saying where to change them', async () => {
    const t = await withSecret();
    const res = await t.app.inject({ method: 'PUT', url: '/api/v1/webhooks/stripe/secrets', headers: t.auth, payload: { secrets: [OTHER_SECRET] } });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.message).toMatch(/REVTRAIL_STRIPE_WEBHOOK_SECRET setting: change the setting and restart/);
  });
});
