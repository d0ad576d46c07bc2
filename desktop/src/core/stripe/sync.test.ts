import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmail, normalizeEmail, systemClock } from '@revtrail/shared';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCore } from '../core';
import { openDatabase, type Db } from '../db/open';
import type { SecretStore } from '../secrets/types';
import { startFakeStripe, type FakeStripe } from '../../fake-stripe/server';
import { seedDefault, SEED_VISITOR_ID, type DefaultSeed } from '../../fake-stripe/seed';
import { createStripeClient, STRIPE_API_VERSION } from './client';
import { classifyStripeKey } from './keys';
import { checkPermissions } from './permissions';
import { listResourceStates } from '../sync-state/repo';
import { READ_PERMISSIONS } from '../../fake-stripe/permissions';
import { stripeFailure } from './failures';
import { lastStripePullAt, stripeCounts, type StripeObjectType } from './repo';
import { pullStripe } from './sync';

const EMAIL_KEY = 'test-email-hash-key-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'revtrail-stripe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fake: FakeStripe;
let seed: DefaultSeed;
let db: Db;
let dbPath: string;
let n = 0;

beforeEach(async () => {
  fake = await startFakeStripe({ seed: (state) => void (seed = seedDefault(state)) });
  dbPath = join(dir, `ws-${++n}.sqlite`);
  db = openDatabase(dbPath);
});
afterEach(async () => {
  db.close();
  await fake.close();
});

const client = (key = fake.keys.restricted) => createStripeClient(key, { apiBase: fake.url });
const pull = (key?: string) => pullStripe(db, client(key), { emailHashKey: EMAIL_KEY, clock: systemClock, pageSize: 3, retryBaseMs: 5 });
const hashOf = async (email: string) => hashEmail(normalizeEmail(email)!, EMAIL_KEY);
const charge = (id: string) => db.prepare(`SELECT * FROM stripe_charges WHERE id = ?`).get(id) as Record<string, unknown>;

describe('Stripe keys', () => {
  it('accepts restricted keys and refuses secret keys with the way to make a restricted one', () => {
    expect(classifyStripeKey('rk_live_51AbcDefGhiJkl')).toEqual({ ok: true, mode: 'live' });
    expect(classifyStripeKey(' rk_test_51AbcDefGhiJkl\n')).toEqual({ ok: true, mode: 'test' });
    const sk = classifyStripeKey('sk_live_51AbcDefGhiJkl');
    expect(sk.ok).toBe(false);
    expect(!sk.ok && sk.message).toMatch(/never asks for a full secret key/);
    expect(!sk.ok && sk.message).toContain('Create restricted key');
    expect(!sk.ok && sk.message).toContain('Charges and Refunds, Customers, PaymentIntents, Subscriptions, Invoices, Disputes, Events, Balance');
    expect(!sk.ok && sk.message).not.toContain('51AbcDefGhiJkl');
    for (const bad of ['pk_live_51AbcDefGhiJkl', 'whsec_123', '', 'rk_prod_51AbcDefGhiJkl']) expect(classifyStripeKey(bad).ok).toBe(false);
  });
});

describe('Stripe permissions', () => {
  it('names the rak_ permission a key lacks', async () => {
    const all = await checkPermissions(client());
    expect(Object.values(all).every((c) => c.ok)).toBe(true);
    const noBalance = await checkPermissions(client(fake.keys.withoutBalance));
    expect(noBalance.balance).toEqual({ label: 'Balance', permission: 'rak_balance_read', ok: false });
    expect(Object.values(noBalance).filter((c) => !c.ok)).toHaveLength(1);
    const noCharges = await checkPermissions(client(fake.keys.withoutCharges));
    expect(noCharges.charges).toEqual({ label: 'Charges', permission: 'rak_charge_read', ok: false });
    expect(noCharges.customers.ok).toBe(true);
  });
});

describe('pullStripe', () => {
  it('pulls everything the fake holds, with fees, hashes and visitor ids; a second pull adds nothing', async () => {
    const first = await pull();
    const p = fake.state.platform;
    expect(stripeCounts(db)).toEqual({
      customers: p.customers.size,
      charges: p.charges.size,
      refunds: p.refunds.size,
      disputes: p.disputes.size,
      subscriptions: p.subscriptions.size,
      invoices: p.invoices.size,
      invoice_payments: p.invoicePayments.size,
    });
    expect(first.counts.charges.added).toBe(p.charges.size);
    expect(first.missing).toEqual([]);
    expect(first.apiVersion).toBe(STRIPE_API_VERSION);
    expect(p.subscriptions.newestFirst().some((s) => s.status === 'canceled')).toBe(true);

    const eur = charge(seed.charges.eurPartialRefund.id);
    expect(eur).toMatchObject({ currency: 'EUR', amount_minor: 10_000, amount_refunded_minor: 2_500, refunded: 0, created_at: seed.charges.eurPartialRefund.created * 1000 });
    expect(eur.fee_minor).toEqual(expect.any(Number));
    expect(eur.net_minor).toEqual(expect.any(Number));
    expect(charge(seed.charges.gbpFullRefund.id)).toMatchObject({ refunded: 1 });
    expect(charge(seed.charges.disputeLost.id)).toMatchObject({ disputed: 1 });
    expect(charge(seed.charges.visitor.id)).toMatchObject({ visitor_id: SEED_VISITOR_ID, email_hash: await hashOf('alice@example.com') });
    // Kenji's customer has no email: the receipt address is the last resort.
    expect(charge(seed.charges.jpy.id)).toMatchObject({ currency: 'JPY', email_hash: await hashOf('kenji@example.jp') });
    const invoices = db.prepare(`SELECT billing_reason, subscription_id FROM stripe_invoices`).all() as { billing_reason: string; subscription_id: string | null }[];
    expect(invoices.filter((i) => i.billing_reason === 'subscription_create').map((i) => i.subscription_id).sort()).toEqual(
      [seed.subscriptions.alice.id, seed.subscriptions.bruno.id, seed.subscriptions.chloe.id].sort(),
    );
    expect(invoices.filter((i) => i.billing_reason === 'subscription_cycle').length).toBe(3);

    const second = await pull();
    expect(Object.values(second.counts)).toEqual(Array(7).fill({ added: 0, updated: 0 }));
    expect(stripeCounts(db).charges).toBe(p.charges.size);
  });

  it('sees a refund of an already-pulled charge on the next pull (re-read window)', async () => {
    await pull();
    const refund = fake.state.refund(seed.charges.kwd.id, 2_345);
    const next = await pull();
    expect(next.counts.refunds.added).toBe(1);
    expect(next.counts.charges).toEqual({ added: 0, updated: 1 });
    expect(charge(seed.charges.kwd.id)).toMatchObject({ amount_refunded_minor: 2_345, refunded: 0, currency: 'KWD' });
    // A refund can fail after it was read: the window reads it again.
    fake.state.failRefund(refund.id);
    await pull();
    expect(db.prepare(`SELECT status FROM stripe_refunds WHERE id = ?`).get(refund.id)).toEqual({ status: 'failed' });
  });

  it('links charges to their invoices through invoice payments (charges no longer name them since basil)', async () => {
    await pull();
    const payments = fake.state.platform.invoicePayments.newestFirst().filter((ip) => ip.status === 'paid');
    expect(payments.length).toBeGreaterThanOrEqual(7);
    for (const ip of payments) {
      const row = db.prepare(`SELECT invoice_id FROM stripe_charges WHERE payment_intent_id = ?`).get(ip.payment.payment_intent as string);
      expect(row).toEqual({ invoice_id: ip.invoice });
    }
  });

  it('reads again what events name: a refund and a closed dispute on old charges, a canceled subscription', async () => {
    const hinted = () => pullStripe(db, client(), { emailHashKey: EMAIL_KEY, clock: systemClock, pageSize: 50, reReadMs: 60_000 });
    const first = await hinted();
    expect(first).toMatchObject({ eventsCovered: true, hints: { events: 0 } });
    const dispute = fake.state.openDispute(seed.charges.gbpFullRefund.id, {});
    await hinted();
    fake.state.refund(seed.charges.disputeWon.id, 900);
    fake.state.closeDispute(dispute.id, 'won');
    fake.state.cancelSubscription(seed.subscriptions.alice.id);
    fake.state.log.clear();
    const next = await hinted();
    expect(next.eventsCovered).toBe(true);
    expect(next.hints.events).toBeGreaterThanOrEqual(3);
    // Each by id, once: the old charge (for its refunded amount), the dispute, the subscription.
    expect(fake.state.requestCount(`/v1/charges/${seed.charges.disputeWon.id}`)).toBe(1);
    expect(fake.state.requestCount(`/v1/disputes/${dispute.id}`)).toBe(1);
    expect(fake.state.requestCount(`/v1/subscriptions/${seed.subscriptions.alice.id}`)).toBe(1);
    expect(charge(seed.charges.disputeWon.id)).toMatchObject({ amount_refunded_minor: 900 });
    expect(db.prepare(`SELECT status FROM stripe_disputes WHERE id = ?`).get(dispute.id)).toEqual({ status: 'won' });
    expect(db.prepare(`SELECT status FROM stripe_subscriptions WHERE id = ?`).get(seed.subscriptions.alice.id)).toEqual({ status: 'canceled' });
    expect(db.prepare(`SELECT count(*) AS n FROM stripe_hints`).get()).toEqual({ n: 0 });
    // Nothing new: no hint, no by-id read.
    fake.state.log.clear();
    const quiet = await hinted();
    expect(quiet.hints).toEqual({ events: 0, reread: 0 });
  });

  it('without events, re-reads whatever may still change and says events did not cover the gap', async () => {
    const noEvents = () => pullStripe(db, client(fake.keys.withoutEvents), { emailHashKey: EMAIL_KEY, clock: systemClock, pageSize: 50 });
    const first = await noEvents();
    expect(first.missing.map((m) => m.permission)).toEqual(['rak_event_read']);
    fake.state.cancelSubscription(seed.subscriptions.chloe.id);
    const next = await noEvents();
    expect(next.eventsCovered).toBe(false);
    expect(next.hints.reread).toBeGreaterThan(0);
    expect(db.prepare(`SELECT status FROM stripe_subscriptions WHERE id = ?`).get(seed.subscriptions.chloe.id)).toEqual({ status: 'canceled' });
  });

  it('after more than 30 days away, events no longer cover the gap and the re-scan window widens', async () => {
    let now = Date.now();
    const clock = { now: () => now };
    await pullStripe(db, client(), { emailHashKey: EMAIL_KEY, clock, pageSize: 50 });
    now += 40 * 86_400_000;
    fake.state.log.clear();
    const away = await pullStripe(db, client(), { emailHashKey: EMAIL_KEY, clock, pageSize: 50 });
    expect(away.eventsCovered).toBe(false);
    // Charges are listed from 30 days before the last pull, not 30 days before now.
    const listed = fake.state.log.entries.find((e) => e.path === '/v1/charges' && e.query.includes('created'));
    const gte = Number(new URLSearchParams(listed!.query).get('created[gte]'));
    expect(gte).toBeLessThanOrEqual(Math.floor((now - 70 * 86_400_000) / 1000) + 1);
  });

  it('backs off on a 429 without Stripe-Should-Retry and carries on', async () => {
    fake.state.failNext(2, 429, { path: '/v1/charges', shouldRetry: false });
    const before = fake.state.requestCount('/v1/charges');
    await pull();
    expect(stripeCounts(db).charges).toBe(fake.state.platform.charges.size);
    // 1 permission probe + ceil(11 / 3) pages + the 2 answered 429.
    expect(fake.state.requestCount('/v1/charges') - before).toBe(1 + Math.ceil(fake.state.platform.charges.size / 3) + 2);
  });

  it('stops at the first request when the key is revoked', async () => {
    const before = fake.state.requestCount();
    await expect(pull(fake.keys.revoked)).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(fake.state.requestCount() - before).toBe(1);
    expect(stripeCounts(db).charges).toBe(0);
    expect(listResourceStates(db, 'stripe')).toEqual([]);
    expect(lastStripePullAt(db)).toBeNull();
  });

  it('without Balance it pulls charges, leaves fee and net empty and says why', async () => {
    const r = await pull(fake.keys.withoutBalance);
    expect(r.missing.map((m) => m.permission)).toEqual(['rak_balance_read']);
    expect(r.missing[0]!.effect).toContain('fee');
    expect(charge(seed.charges.eurPartialRefund.id)).toMatchObject({ fee_minor: null, net_minor: null, amount_minor: 10_000 });
  });

  it('resumes a pass cut short after its last committed page, losing and doubling nothing', async () => {
    const cut = pullStripe(db, client(), {
      emailHashKey: EMAIL_KEY,
      clock: systemClock,
      pageSize: 3,
      retries: 0,
      onProgress: (p) => {
        if (p.feed === 'charges' && p.received === 6) fake.state.failNext(1, 500, { path: '/v1/charges' });
      },
    });
    // Charges wait for the next pull; everything else is read.
    const cutShort = await cut;
    expect(cutShort.skipped.map((f) => [f.resource, f.code])).toEqual([['charges', 'unavailable']]);
    expect(cutShort.counts.refunds.added).toBe(fake.state.platform.refunds.size);
    expect(stripeCounts(db).charges).toBe(6);
    const checkpoint = db.prepare(`SELECT pass_after FROM stripe_checkpoints WHERE object_type = 'charges'`).get() as { pass_after: string };
    expect(checkpoint.pass_after).toBe(fake.state.platform.charges.newestFirst()[5]!.id);

    fake.state.log.clear();
    const resumed = await pull();
    expect(fake.state.log.entries.find((e) => e.path === '/v1/charges' && e.query.includes('starting_after'))?.query).toContain(checkpoint.pass_after);
    expect(resumed.counts.charges.added).toBe(fake.state.platform.charges.size - 6);
    expect(stripeCounts(db).charges).toBe(fake.state.platform.charges.size);
    expect(stripeCounts(db).refunds).toBe(fake.state.platform.refunds.size);
    expect(resumed.skipped).toEqual([]);
    expect(listResourceStates(db, 'stripe').find((s) => s.resource === 'charges')).toMatchObject({ lastPullAt: expect.any(Number), error: null });
  });

  it('keeps emails only as hashes in the database file', async () => {
    await pull();
    db.close();
    const files = readdirSync(dir).filter((f) => f.startsWith(`ws-${n}.sqlite`));
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(dir, f))));
    for (const email of ['alice@example.com', 'kenji@example.jp', 'guest@example.org', 'bruno@example.de']) expect(bytes.includes(email)).toBe(false);
    expect(bytes.includes(await hashOf('alice@example.com'))).toBe(true);
    db = openDatabase(dbPath);
  });
});

describe('pullStripe: each resource on its own', () => {
  const LISTS: StripeObjectType[] = ['customers', 'charges', 'refunds', 'disputes', 'subscriptions', 'invoices', 'invoice_payments'];
  const stateOf = (resource: string) => listResourceStates(db, 'stripe').find((s) => s.resource === resource);

  it('finishes against a server lacking /v1/invoice_payments, says which, and fills it in once the endpoint is back', async () => {
    let now = Date.now();
    const clock = { now: () => now };
    const at = () => pullStripe(db, client(), { emailHashKey: EMAIL_KEY, clock, pageSize: 3, retryBaseMs: 5 });
    fake.state.endpoints.remove('invoice_payments');
    const p = fake.state.platform;
    const lacking = await at();
    expect(lacking.skipped).toEqual([
      {
        source: 'stripe',
        resource: 'invoice_payments',
        code: 'not_found',
        message: expect.stringContaining('GET /v1/invoice_payments answered 404'),
      },
    ]);
    expect(lacking.skipped[0]!.message).toContain('counts as a new sale');
    expect(lacking.pulled).toEqual(['events', ...LISTS.filter((t) => t !== 'invoice_payments')]);
    for (const type of ['customers', 'charges', 'refunds', 'disputes', 'subscriptions', 'invoices'] as const) expect(lacking.counts[type].added, type).toBe(p[type].size);
    expect(stripeCounts(db).invoice_payments).toBe(0);
    expect(stateOf('invoice_payments')).toEqual({
      source: 'stripe',
      resource: 'invoice_payments',
      lastPullAt: null,
      lastAttemptAt: now,
      error: { code: 'not_found', message: lacking.skipped[0]!.message },
    });
    for (const resource of ['events', ...LISTS.filter((t) => t !== 'invoice_payments')]) expect(stateOf(resource), resource).toMatchObject({ lastPullAt: now, error: null });
    const paid = p.invoicePayments.newestFirst().filter((ip) => ip.status === 'paid');
    const invoiceOf = (ip: (typeof paid)[number]) => db.prepare(`SELECT invoice_id FROM stripe_charges WHERE payment_intent_id = ?`).get(ip.payment.payment_intent as string);
    // Basil charges do not name their invoice: unlinked until invoice payments are read.
    expect(paid.map(invoiceOf)).toEqual(paid.map(() => ({ invoice_id: null })));

    fake.state.endpoints.restore('invoice_payments');
    now += 60_000;
    const back = await at();
    expect(back.skipped).toEqual([]);
    expect(back.counts.invoice_payments.added).toBe(p.invoicePayments.size);
    expect(paid.map(invoiceOf)).toEqual(paid.map((ip) => ({ invoice_id: ip.invoice })));
    expect(stateOf('invoice_payments')).toMatchObject({ lastPullAt: now, error: null });
    expect(lastStripePullAt(db)).toBe(now);
  });

  it('keeps the last pull time of a resource that fails later, so a failed pull moves nothing', async () => {
    let now = Date.now();
    const clock = { now: () => now };
    const at = () => pullStripe(db, client(), { emailHashKey: EMAIL_KEY, clock, pageSize: 50, retryBaseMs: 5 });
    const firstAt = now;
    await at();
    fake.state.endpoints.remove('invoice_payments');
    fake.state.refund(seed.charges.kwd.id, 1_000);
    now += 3_600_000;
    const second = await at();
    expect(second.skipped.map((f) => f.resource)).toEqual(['invoice_payments']);
    expect(second.counts.refunds.added).toBe(1);
    expect(stateOf('invoice_payments')).toMatchObject({ lastPullAt: firstAt, lastAttemptAt: now, error: { code: 'not_found' } });
    expect(stateOf('charges')).toMatchObject({ lastPullAt: now });
    expect(lastStripePullAt(db)).toBe(firstAt);
    // An invoice payment's event waits as a hint for the pull where the endpoint is back.
    const ip = fake.state.platform.invoicePayments.newestFirst()[0]!;
    db.prepare(`INSERT INTO stripe_hints (object_type, id, since) VALUES ('invoice_payments', ?, ?)`).run(ip.id, now);
    now += 60_000;
    await at();
    expect(db.prepare(`SELECT count(*) AS n FROM stripe_hints WHERE object_type = 'invoice_payments'`).get()).toEqual({ n: 1 });
    fake.state.endpoints.restore('invoice_payments');
    fake.state.log.clear();
    now += 60_000;
    expect((await at()).skipped).toEqual([]);
    expect(fake.state.requestCount(`/v1/invoice_payments/${ip.id}`)).toBe(1);
    expect(lastStripePullAt(db)).toBe(now);
  });

  it('reports a resource the key may not read in the same list, and reads the rest', async () => {
    const noInvoices = fake.state.addRestrictedKey(READ_PERMISSIONS.filter((p) => p !== 'rak_invoice_read'));
    const r = await pull(noInvoices);
    expect(r.missing.map((m) => m.permission)).toEqual(['rak_invoice_read']);
    expect(r.skipped.map((f) => [f.resource, f.code])).toEqual([
      ['invoices', 'permission_missing'],
      ['invoice_payments', 'permission_missing'],
    ]);
    expect(r.skipped[0]!.message).toContain('lacks Read on Invoices (rak_invoice_read)');
    expect(r.skipped[0]!.message).toContain('Developers → API keys');
    expect(r.counts.charges.added).toBe(fake.state.platform.charges.size);
    expect(r.counts.subscriptions.added).toBe(fake.state.platform.subscriptions.size);
    expect(stateOf('invoices')).toMatchObject({ lastPullAt: null, error: { code: 'permission_missing' } });
    expect(stateOf('charges')).toMatchObject({ lastPullAt: expect.any(Number), error: null });
    // Neither the key nor Stripe's masked form of it reaches a message.
    const told = JSON.stringify([r, listResourceStates(db)]);
    expect(told).not.toContain(noInvoices);
    expect(told).not.toMatch(/rk_test_/);
  });

  it('goes on past a resource that times out, and says so', async () => {
    fake.state.endpoints.delay('disputes', 2_000);
    const slow = createStripeClient(fake.keys.restricted, { apiBase: fake.url, timeoutMs: 250 });
    const r = await pullStripe(db, slow, { emailHashKey: EMAIL_KEY, clock: systemClock, pageSize: 50, retries: 1, retryBaseMs: 5 });
    expect(r.skipped.map((f) => [f.resource, f.code])).toEqual([['disputes', 'unavailable']]);
    expect(r.skipped[0]!.message).toContain('did not answer in time while reading disputes (2 tries)');
    expect(stripeCounts(db)).toMatchObject({ charges: fake.state.platform.charges.size, refunds: fake.state.platform.refunds.size, disputes: 0 });
    expect(stateOf('disputes')).toMatchObject({ lastPullAt: null, error: { code: 'unavailable' } });

    fake.state.endpoints.delay('disputes', 0);
    const next = await pull();
    expect(next.skipped).toEqual([]);
    expect(stripeCounts(db).disputes).toBe(fake.state.platform.disputes.size);
  });

  it('never passes a key on in a message, even where Stripe quotes one unmasked', () => {
    const key = 'rk_live_51AbCdEfGhIjKlMnOp';
    const echoed = new Stripe.errors.StripeInvalidRequestError({ message: `Invalid request for ${key}`, statusCode: 400, type: 'invalid_request_error' });
    const failure = stripeFailure('charges', echoed, 1);
    expect(failure.code).toBe('rejected');
    expect(failure.message).toContain('Stripe refused the request for charges (400: Invalid request for [key])');
    expect(failure.message).not.toContain('51AbCdEf');
  });
});

/** A core on the fake Stripe whose secrets are a Map the test reads and writes. */
function coreWithSecretsIn(dataDir: string) {
  const secrets = new Map<string, string>();
  const store: SecretStore = {
    description: 'memory',
    get: async (k) => secrets.get(k) ?? null,
    set: async (k, v) => void secrets.set(k, v),
    delete: async (k) => void secrets.delete(k),
  };
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  return { core: createCore({ dataDir, clock: systemClock, log, secrets: store, stripeApiBase: fake.url }), secrets };
}

describe('core: stripe.connect', () => {
  it('refuses secret keys, needs the redirector first, keeps the key only in the secret store', async () => {
    const { core, secrets } = coreWithSecretsIn(join(dir, 'core'));
    try {
      const ws = await core.call('workspaces.add', { name: 'Shop' });
      expect(ws.ok).toBe(true);
      const sk = await core.call('stripe.connect', { key: fake.keys.secret });
      expect(sk).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
      const early = await core.call('stripe.connect', { key: fake.keys.restricted });
      expect(early).toMatchObject({ ok: false, error: { code: 'not_found' } });
      expect(!early.ok && early.error.message).toContain('connect redirector');

      const id = ws.ok ? ws.value.id : '';
      secrets.set(`ws_${id}.email_hash_key`, EMAIL_KEY);
      const revoked = await core.call('stripe.connect', { key: fake.keys.revoked });
      expect(revoked).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
      expect(secrets.has(`ws_${id}.stripe_key`)).toBe(false);

      const connected = await core.call('stripe.connect', { key: fake.keys.withoutBalance });
      expect(connected.ok && connected.value.checks.filter((c) => !c.ok).map((c) => c.permission)).toEqual(['rak_balance_read']);
      expect(secrets.get(`ws_${id}.stripe_key`)).toBe(fake.keys.withoutBalance);
      const perms = await core.call('stripe.permissions', {});
      expect(perms.ok && perms.value.checks.find((c) => c.label === 'Balance')).toEqual({ label: 'Balance', permission: 'rak_balance_read', ok: false });
      const synced = await core.call('sync.stripe', {});
      expect(synced.ok && synced.value.counts.charges.added).toBe(fake.state.platform.charges.size);
      // The ledger is rebuilt after a sync that brought something, and left alone after one that did not.
      const builtAt = async () => {
        const s = await core.call('settings.get', {});
        return s.ok ? s.value.lastBuild?.builtAt : undefined;
      };
      const first = await builtAt();
      expect(first).toEqual(expect.any(Number));
      await new Promise((r) => setTimeout(r, 5));
      expect((await core.call('sync.stripe', {})).ok).toBe(true);
      expect(await builtAt()).toBe(first);
      fake.state.refund(seed.charges.kwd.id, 1_000);
      await new Promise((r) => setTimeout(r, 5));
      expect((await core.call('sync.stripe', {})).ok).toBe(true);
      expect(await builtAt()).toBeGreaterThan(first!);
      const status = await core.call('status.get', {});
      expect(status.ok && status.value.workspaces[0]).toMatchObject({ stripe: { connected: true }, counts: { charges: fake.state.platform.charges.size } });
      expect(JSON.stringify([connected, synced, status])).not.toContain(fake.keys.withoutBalance);
    } finally {
      core.close();
    }
  });
});

describe('core: sync.stripe', () => {
  it('is a sync that worked when some resources were read, with the skipped ones named; an error when nothing was', async () => {
    const { core, secrets } = coreWithSecretsIn(join(dir, `core-${++n}`));
    try {
      const ws = await core.call('workspaces.add', { name: 'Shop' });
      const id = ws.ok ? ws.value.id : '';
      secrets.set(`ws_${id}.email_hash_key`, EMAIL_KEY);
      expect((await core.call('stripe.connect', { key: fake.keys.restricted })).ok).toBe(true);

      fake.state.endpoints.remove('invoice_payments');
      const partial = await core.call('sync.stripe', {});
      expect(partial.ok).toBe(true);
      if (!partial.ok) return;
      expect(partial.value.skipped.map((f) => [f.resource, f.code])).toEqual([['invoice_payments', 'not_found']]);
      expect(partial.value.skipped[0]!.message).toContain('does not offer invoice payments');
      expect(partial.value.counts.charges.added).toBe(fake.state.platform.charges.size);

      // A key that may read nothing: nothing could be read, one error carrying every resource's message.
      const nothing = fake.state.addRestrictedKey([]);
      secrets.set(`ws_${id}.stripe_key`, nothing);
      const none = await core.call('sync.stripe', {});
      expect(none).toMatchObject({ ok: false, error: { code: 'permission_missing', message: expect.stringMatching(/^Nothing could be read from Stripe\. /) } });
      expect(!none.ok && (none.error.details as { skipped: unknown[] }).skipped).toHaveLength(8);

      secrets.set(`ws_${id}.stripe_key`, fake.keys.revoked);
      const revoked = await core.call('sync.stripe', {});
      // A saved key that stops working was revoked: the error says so, and to connect a new one.
      expect(revoked).toMatchObject({ ok: false, error: { code: 'key_revoked', message: expect.stringMatching(/revoked or rolled.*run `revtrail connect stripe`/) } });
      expect(JSON.stringify([partial, none, revoked])).not.toMatch(/rk_test_/);
    } finally {
      core.close();
    }
  });
});
