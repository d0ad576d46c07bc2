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
import { stripeCounts } from './repo';
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
    await expect(cut).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(stripeCounts(db).charges).toBe(6);
    const checkpoint = db.prepare(`SELECT pass_after FROM stripe_checkpoints WHERE object_type = 'charges'`).get() as { pass_after: string };
    expect(checkpoint.pass_after).toBe(fake.state.platform.charges.newestFirst()[5]!.id);

    fake.state.log.clear();
    const resumed = await pull();
    expect(fake.state.log.entries.find((e) => e.path === '/v1/charges' && e.query.includes('starting_after'))?.query).toContain(checkpoint.pass_after);
    expect(resumed.counts.charges.added).toBe(fake.state.platform.charges.size - 6);
    expect(stripeCounts(db).charges).toBe(fake.state.platform.charges.size);
    expect(stripeCounts(db).refunds).toBe(fake.state.platform.refunds.size);
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

describe('core: stripe.connect', () => {
  it('refuses secret keys, needs the redirector first, keeps the key only in the secret store', async () => {
    const secrets = new Map<string, string>();
    const store: SecretStore = {
      description: 'memory',
      get: async (k) => secrets.get(k) ?? null,
      set: async (k, v) => void secrets.set(k, v),
      delete: async (k) => void secrets.delete(k),
    };
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const core = createCore({ dataDir: join(dir, 'core'), clock: systemClock, log, secrets: store, stripeApiBase: fake.url });
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
