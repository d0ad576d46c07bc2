import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STRIPE_WEBHOOK_EVENT_TYPES, STRIPE_WEBHOOK_PATH, systemClock } from '@revtrail/shared';
import { startLocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import type pino from 'pino';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CoreEvents } from '../api';
import { createCore } from '../core';
import { buildWorld, memorySecrets, must, TOKEN, type World } from '../privacy/testing';
import { htmlPage, redirectorError, startProxy } from '../redirector/testing/proxy';
import { createStripeClient } from '../stripe/client';
import { LOCAL_WEBHOOK_SECRET } from './handlers';

// Stripe's webhooks through the real parts: the fake Stripe makes the change and delivers its events signed to a
// started local redirector (or a test signs one with the official client's test header: an event Stripe would
// not send, such as one naming an id it does not have), and the core reads them back.
const dir = mkdtempSync(join(tmpdir(), 'revtrail-webhooks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
let w: World;
let n = 0;

beforeEach(async () => {
  w = await buildWorld(join(dir, `w${++n}`));
  must(await w.core.call('sync.stripe', {}));
  expect(must(await w.core.call('webhook.connect', { secrets: [SECRET] })).outcome).toBe('applied');
}, 60_000);
afterEach(async () => {
  await w.close();
});

/** An event signed as Stripe signs a delivery (the stripe package's test header), POSTed to the redirector. */
async function deliver(event: Record<string, unknown>, secret = SECRET): Promise<Response> {
  const payload = JSON.stringify(event);
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret });
  return fetch(`${w.r.url}${STRIPE_WEBHOOK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
}

const requests = () => w.fake.state.log.entries.map((e) => `${e.method} ${e.path}${e.query}`);
const channels = async () => must(await w.core.call('reports.channels', {})).totals;
const forged = (object: Record<string, unknown>, over: Record<string, unknown> = {}) => ({
  id: `evt_1Forged${randomBytes(8).toString('hex')}`,
  object: 'event',
  type: 'charge.updated',
  created: Math.floor(Date.now() / 1000),
  livemode: false,
  api_version: '2026-10-28.endive',
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  data: { object },
  ...over,
});

describe('sync.webhookHints', () => {
  it('a refund made in Stripe reaches the report through a signed webhook and reads by id only, without a full pull', async () => {
    const before = await channels();
    const changed: CoreEvents['sync.changed'][] = [];
    w.core.on('sync.changed', (e) => void changed.push(e));
    // The endpoint added in Stripe as a user adds it; the fake then delivers each event itself, signed.
    const stripe = createStripeClient(w.fake.keys.secret, { apiBase: w.fake.url });
    const endpoint = await stripe.webhookEndpoints.create({ url: `${w.r.url}${STRIPE_WEBHOOK_PATH}`, enabled_events: [...STRIPE_WEBHOOK_EVENT_TYPES] });
    expect(must(await w.core.call('webhook.connect', { secrets: [endpoint.secret!] })).outcome).toBe('applied');
    const charge = w.seed.charges.kwd.id;
    const refund = w.fake.state.refund(charge, 1_500);
    await w.fake.state.webhooks.idle();
    expect(w.fake.state.webhooks.deliveries.map((d) => [d.eventType, d.status]).sort()).toEqual([
      ['charge.refunded', 200],
      ['refund.created', 200],
    ]);

    w.fake.state.log.clear();
    const r = must(await w.core.call('sync.webhookHints', {}));
    expect(r).toMatchObject({ ran: true, feed: { received: 2, kept: 2 }, skipped: [] });
    expect(r.counts.refunds.added).toBe(1);
    // Only reads by id of what the events named (and the permission probes of a first read, limit=1 each).
    const reads = requests().filter((p) => !p.endsWith('?limit=1') && !p.includes('limit=1&'));
    expect(reads.sort()).toEqual([`GET /v1/charges/${charge}?expand[0]=balance_transaction`, `GET /v1/refunds/${refund.id}`].sort());
    expect(requests().filter((p) => p.startsWith('GET /v1/events'))).toEqual(['GET /v1/events?limit=1']);
    const after = await channels();
    expect(after.refundsMinor - before.refundsMinor).toBeGreaterThan(0);
    expect(changed).toEqual([{ workspaceId: w.workspaceId, source: 'webhook' }]);

    // Read once: the same feed again brings nothing and asks Stripe nothing.
    w.fake.state.log.clear();
    expect(must(await w.core.call('sync.webhookHints', {}))).toMatchObject({ feed: { received: 0, kept: 0 }, reread: 0 });
    expect(w.fake.state.log.count()).toBe(0);
  });

  it('an empty feed is one request to the redirector and none to Stripe', async () => {
    w.fake.state.log.clear();
    const r = must(await w.core.call('sync.webhookHints', {}));
    expect(r).toMatchObject({ ran: true, feed: { received: 0, kept: 0 }, reread: 0 });
    expect(w.fake.state.log.count()).toBe(0);
  });

  it('a hint of an id Stripe does not have costs one read, writes nothing, and is dropped', async () => {
    // A first hint primes the permission check, so the read below is the only request.
    await deliver(forged({ id: w.seed.charges.kwd.id, object: 'charge' }));
    must(await w.core.call('sync.webhookHints', {}));
    const charges = must(await w.core.call('status.get', {})).workspaces[0]!.counts.charges;
    expect((await deliver(forged({ id: 'ch_1NoSuchChargeAnywhere00', object: 'charge' }))).status).toBe(200);
    w.fake.state.log.clear();
    const r = must(await w.core.call('sync.webhookHints', {}));
    expect(r).toMatchObject({ feed: { kept: 1 }, reread: 0 });
    expect(requests()).toEqual(['GET /v1/charges/ch_1NoSuchChargeAnywhere00?expand[0]=balance_transaction']);
    expect(must(await w.core.call('status.get', {})).workspaces[0]!.counts.charges).toBe(charges);
    expect(must(await w.core.call('webhook.status', {})).waiting).toBe(0);
  });

  it('ignores a live-mode event in a test-mode workspace, and an event of another Connect account, without asking Stripe', async () => {
    await deliver(forged({ id: w.seed.charges.kwd.id, object: 'charge' }, { livemode: true }));
    await deliver(forged({ id: w.seed.charges.kwd.id, object: 'charge' }, { account: 'acct_1SomeoneElse000' }));
    w.fake.state.log.clear();
    const r = must(await w.core.call('sync.webhookHints', {}));
    expect(r.feed).toMatchObject({ received: 2, kept: 0, ignored: { otherMode: 1, otherAccount: 1 } });
    expect(w.fake.state.log.count()).toBe(0);
  });

  it('waits for a full Stripe pull of the workspace running at the same time: no read of its runs alongside', async () => {
    // A charge no event names: only the webhook path reads it by id.
    const jpy = w.seed.charges.jpy.id;
    await deliver(forged({ id: jpy, object: 'charge' }));
    // The pull's last list is slow: without waiting, the webhook's read would come while it runs.
    w.fake.state.endpoints.delay('invoice_payments', 1500);
    w.fake.state.log.clear();
    const full = w.core.call('sync.stripe', {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    const hints = w.core.call('sync.webhookHints', {});
    must(await full);
    expect(must(await hints).feed.kept).toBe(1);
    w.fake.state.endpoints.delay('invoice_payments', 0);
    const log = w.fake.state.log.entries;
    const lastList = log.findLastIndex((e) => e.query.includes('created'));
    const webhookRead = log.findIndex((e) => e.path === `/v1/charges/${jpy}`);
    expect(lastList).toBeGreaterThan(0);
    expect(webhookRead).toBeGreaterThan(lastList);
  });

  it('waits for a first full Stripe pull: before it, neither the webhook read nor the redirector sync takes hints', async () => {
    await deliver(forged({ id: w.seed.charges.kwd.id, object: 'charge' }));
    const secrets = memorySecrets();
    const core = createCore({ dataDir: join(dir, `fresh-${n}`), clock: systemClock, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, secrets, stripeApiBase: w.fake.url });
    try {
      must(await core.call('workspaces.add', { name: 'Shop' }));
      must(await core.call('redirector.connect', { url: w.r.url, token: TOKEN }));
      must(await core.call('stripe.connect', { key: w.fake.keys.restricted }));
      w.fake.state.log.clear();
      expect(must(await core.call('sync.webhookHints', {}))).toMatchObject({ ran: false, reason: expect.stringContaining('first full pull') });
      expect(must(await core.call('sync.redirector', {})).stripeHints).toBe(0);
      expect(w.fake.state.log.count()).toBe(0);
      // The feed's cursor did not move: after the first pull it starts from the hint delivered before (an event
      // that recent, within the margin Stripe's event list may lag by, is read again).
      must(await core.call('sync.stripe', {}));
      expect(must(await core.call('sync.webhookHints', {})).feed).toMatchObject({ received: 1, kept: 1 });
    } finally {
      core.close();
    }
  });

  it('a redirector older than the hint feed: no failure every 15 s, and status names the feed to update', async () => {
    const proxy = await startProxy(w.r.url);
    proxy.rules.push((_m, path) => (path.startsWith('/api/v1/stripe-hints') ? redirectorError(404, 'not_found', 'Nothing here.') : undefined));
    const core = createCore({ dataDir: join(dir, `old-${n}`), clock: systemClock, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, secrets: memorySecrets(), stripeApiBase: w.fake.url });
    try {
      must(await core.call('workspaces.add', { name: 'Shop' }));
      must(await core.call('redirector.connect', { url: proxy.url, token: TOKEN }));
      must(await core.call('stripe.connect', { key: w.fake.keys.restricted }));
      must(await core.call('sync.stripe', {}));
      expect(must(await core.call('sync.webhookHints', {}))).toMatchObject({ ran: false, reason: expect.stringContaining('older than this Revtrail') });
      const status = must(await core.call('status.get', {})).workspaces[0]!;
      expect(status.resources.find((r) => r.resource === 'stripe-hints')).toMatchObject({ error: { code: 'not_found' } });
    } finally {
      core.close();
      await proxy.close();
    }
  });

  it('the redirector sync reads the hint feed too', async () => {
    await deliver(forged({ id: w.seed.charges.kwd.id, object: 'charge' }));
    const pulled = must(await w.core.call('sync.redirector', {}));
    expect(pulled.stripeHints).toBe(1);
    expect(must(await w.core.call('webhook.status', {})).waiting).toBe(1);
    const status = must(await w.core.call('status.get', {})).workspaces[0]!;
    expect(status.resources.find((r) => r.resource === 'stripe-hints')).toMatchObject({ source: 'redirector', error: null });
  });
});

describe('webhook.status and webhook.connect', () => {
  it('shows the endpoint, the events to select, the last arrival and refusals by reason in words', async () => {
    await deliver(forged({ id: w.seed.charges.kwd.id, object: 'charge' }));
    expect((await deliver(forged({ id: w.seed.charges.kwd.id, object: 'charge' }), `whsec_${randomBytes(32).toString('base64')}`)).status).toBe(400);
    const s = must(await w.core.call('webhook.status', {}));
    expect(s).toMatchObject({ url: `${w.r.url}${STRIPE_WEBHOOK_PATH}`, local: true, mode: 'test', problem: null });
    expect(s.eventTypes).toEqual(STRIPE_WEBHOOK_EVENT_TYPES);
    expect(s.endpoint).toMatchObject({ secrets: 1, settable: true, received: 1 });
    expect(s.endpoint!.lastReceivedAt).toEqual(expect.any(Number));
    expect(s.refused).toEqual([{ reason: 'bad_signature', count: 1, meaning: expect.stringContaining('connect again with the new one') }]);
    expect(s.lastRefused).toMatchObject({ reason: 'bad_signature' });
    expect(JSON.stringify(s)).not.toContain(SECRET);
  });

  it('refuses what is not a signing secret in the terms of the setup, never repeating it', async () => {
    const key = w.fake.keys.restricted;
    for (const [secrets, words] of [
      [[key], 'API key, not a webhook signing secret'],
      [['whsec_short'], 'does not look like a webhook signing secret'],
      [[], 'Give the endpoint\'s signing secret'],
      [[SECRET, SECRET], 'the same'],
      [[SECRET, SECRET, SECRET], 'two during a rotation'],
    ] as const) {
      const r = await w.core.call('webhook.connect', { secrets: [...secrets] });
      expect(r).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringContaining(words) } });
      const message = r.ok ? '' : r.error.message;
      expect(message).not.toContain(key);
      expect(message).not.toContain(SECRET);
      expect(message).not.toMatch(/\b(GET|PUT|POST)\b|\/api\//);
    }
  });

  it('takes two secrets during a rotation: events signed with either are accepted', async () => {
    const next = `whsec_${randomBytes(32).toString('base64')}`;
    const r = must(await w.core.call('webhook.connect', { secrets: [next, SECRET] }));
    expect(r).toMatchObject({ outcome: 'applied', secrets: 2 });
    expect((await deliver(forged({ id: w.seed.charges.kwd.id, object: 'charge' }), next)).status).toBe(200);
    expect((await deliver(forged({ id: w.seed.charges.kwd.id, object: 'charge' }), SECRET)).status).toBe(200);
    expect(must(await w.core.call('webhook.status', {})).endpoint).toMatchObject({ secrets: 2, received: 2 });
  });

  it('saves the secret for the local redirector when it is not running, to take effect when Revtrail starts it', async () => {
    const secrets = memorySecrets();
    const core = createCore({ dataDir: join(dir, `down-${n}`), clock: systemClock, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, secrets });
    const down = await startLocalRedirector({ dataDir: join(dir, `down-r-${n}`), port: 0, log: silentLogger as pino.Logger, settings: { REVTRAIL_SYNC_TOKEN: TOKEN } });
    try {
      must(await core.call('workspaces.add', { name: 'Shop' }));
      must(await core.call('redirector.connect', { url: down.url, token: TOKEN }));
      await down.close();
      const r = must(await core.call('webhook.connect', { secrets: [SECRET] }));
      expect(r).toMatchObject({ outcome: 'saved_for_local', message: expect.stringContaining('takes effect when Revtrail starts') });
      expect(await secrets.get(LOCAL_WEBHOOK_SECRET)).toBe(SECRET);
      const s = must(await core.call('webhook.status', {}));
      expect(s).toMatchObject({ savedForLocalRedirector: true, endpoint: null, problem: expect.stringContaining('did not answer') });
    } finally {
      core.close();
    }
  });

  it('a redirector whose secret comes from its settings says where to set it, and checks its endpoint answers', async () => {
    const secrets = memorySecrets();
    const core = createCore({ dataDir: join(dir, `set-${n}`), clock: systemClock, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, secrets });
    const fixed = await startLocalRedirector({
      dataDir: join(dir, `set-r-${n}`),
      port: 0,
      log: silentLogger as pino.Logger,
      settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_STRIPE_WEBHOOK_SECRET: SECRET },
    });
    // In front of it, on its public address, a proxy that (later) answers the webhook path with its own page.
    const proxy = await startProxy(fixed.url);
    fixed.config.publicUrl = proxy.url;
    try {
      must(await core.call('workspaces.add', { name: 'Shop' }));
      must(await core.call('redirector.connect', { url: proxy.url, token: TOKEN }));
      const given = `whsec_${randomBytes(32).toString('base64')}`;
      const r = must(await core.call('webhook.connect', { secrets: [given] }));
      expect(r.url).toBe(`${proxy.url}${STRIPE_WEBHOOK_PATH}`);
      expect(r).toMatchObject({ outcome: 'deploy', endpointCheck: { ok: true, status: 400 }, message: expect.stringContaining('REVTRAIL_STRIPE_WEBHOOK_SECRET') });
      // The secret never left this computer: the endpoint was checked with an unsigned, empty event only.
      expect(proxy.seen.filter((s) => s.includes('secrets'))).toEqual([]);
      expect(must(await core.call('webhook.status', {})).endpoint).toMatchObject({ secrets: 1, settable: false });
      proxy.rules.push((method, path) => (method === 'POST' && path === STRIPE_WEBHOOK_PATH ? htmlPage(404, 'Not Found') : undefined));
      const blocked = must(await core.call('webhook.connect', { secrets: [given] }));
      expect(blocked.endpointCheck).toMatchObject({ ok: false, status: 404, message: expect.stringContaining('not as the redirector') });
    } finally {
      core.close();
      await proxy.close();
      await fixed.close();
    }
  });
});

describe('messages in the app', () => {
  it('name the screen, not a command', async () => {
    const core = createCore({ dataDir: join(dir, `app-${n}`), clock: systemClock, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, secrets: memorySecrets(), surface: 'app' });
    try {
      must(await core.call('workspaces.add', { name: 'Shop' }));
      const refusals = [
        await core.call('sync.webhookHints', {}),
        await core.call('webhook.status', {}),
        await core.call('webhook.connect', { secrets: [SECRET] }),
        await core.call('webhook.connect', { secrets: ['whsec_oops'] }),
      ].map((r) => (r.ok ? 'answered' : r.error.message));
      expect(refusals[0]).toBe('Workspace "Shop" has no redirector yet: connect one first on the Set up screen; Stripe\'s webhooks go to it.');
      expect(refusals.filter((m) => /revtrail [a-z]|`|--[a-z]|\b(GET|PUT|POST)\b/.test(m))).toEqual([]);
    } finally {
      core.close();
    }
  });
});

describe('privacy.erase', () => {
  it('asks the redirector to forget the webhook hints naming an erased customer and her payments', async () => {
    const alice = w.seed.customers.alice.id;
    const charges = w.fake.state.platform.charges.newestFirst();
    const hers = charges.find((c) => c.customer === alice)!;
    const someoneElses = charges.find((c) => c.customer !== null && c.customer !== alice)!;
    await deliver(forged({ id: alice, object: 'customer' }, { type: 'customer.updated' }));
    await deliver(forged({ id: hers.id, object: 'charge' }));
    await deliver(forged({ id: someoneElses.id, object: 'charge' }));
    const erased = must(await w.core.call('privacy.erase', { customer: alice }));
    expect(erased.cloud).toMatchObject({ reached: true, counts: { stripeHints: 2 } });
    // The whole feed from its start names nothing of hers any more; the other customer's hint stays.
    const feed = (await w.api('GET', '/api/v1/stripe-hints?limit=1000')) as { items: { objectId: string }[] };
    expect(feed.items.map((h) => h.objectId)).toEqual([someoneElses.id]);
  });
});

