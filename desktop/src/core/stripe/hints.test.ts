import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type StripeHint } from '@revtrail/shared';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/open';
import { startFakeStripe, type FakeStripe } from '../../fake-stripe/server';
import { seedDefault, type DefaultSeed } from '../../fake-stripe/seed';
import { createStripeClient } from './client';
import { sortHints } from './hints';
import { addHints, countHints } from './repo';
import { pullStripe, readHintsNow } from './sync';

const EMAIL_KEY = 'test-email-hash-key-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'revtrail-hints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hint = (over: Partial<StripeHint>): StripeHint => ({
  id: '01JHINT0000000000000000000',
  at: 1_700_000_000_000,
  eventId: 'evt_1Fake0000000000000000001',
  eventType: 'charge.refunded',
  objectType: 'charge',
  objectId: 'ch_3MtwBwLkdIwHu7ix28a3tqPa',
  createdAt: 1_700_000_000_000,
  livemode: false,
  account: null,
  ...over,
});

describe('sortHints', () => {
  const test = { mode: 'test' as const, account: null, coveredBefore: null };

  it('keeps hints of the key\'s mode and account, with ids shaped as Stripe makes them for their type', () => {
    const sorted = sortHints(
      [
        hint({}),
        hint({ objectType: 'refund', objectId: 'pyr_1NkQ0a2eZvKYlo2C' }),
        hint({ objectType: 'dispute', objectId: 'du_1Fake0000000000000000001' }),
        hint({ objectType: 'invoice_payment', objectId: 'inpay_1M3USa2eZvKYlo2C' }),
        hint({ livemode: true }),
        hint({ account: 'acct_1Other000000000' }),
        // A customer id where a charge's belongs, a path in an id, an object the sync does not keep.
        hint({ objectId: 'cus_QXg1o8vcGmoR32' }),
        hint({ objectId: 'ch_../../v1/customers' }),
        hint({ objectType: 'payout' as never, objectId: 'po_1Fake000000000' }),
      ],
      test,
    );
    expect(sorted.keep).toEqual([
      { type: 'charges', id: 'ch_3MtwBwLkdIwHu7ix28a3tqPa' },
      { type: 'refunds', id: 'pyr_1NkQ0a2eZvKYlo2C' },
      { type: 'disputes', id: 'du_1Fake0000000000000000001' },
      { type: 'invoice_payments', id: 'inpay_1M3USa2eZvKYlo2C' },
    ]);
    expect(sorted.ignored).toEqual({ otherMode: 1, otherAccount: 1, malformed: 3, covered: 0 });
  });

  it('a test-mode event never makes a live workspace read, nor a live one a test workspace; a Connect workspace reads only its account', () => {
    expect(sortHints([hint({ livemode: false })], { ...test, mode: 'live' }).ignored.otherMode).toBe(1);
    expect(sortHints([hint({ livemode: true })], { ...test, mode: 'live' }).keep).toHaveLength(1);
    const connect = { ...test, account: 'acct_1FakeConnected000' };
    expect(sortHints([hint({})], connect).ignored.otherAccount).toBe(1);
    expect(sortHints([hint({ account: 'acct_1FakeConnected000' })], connect).keep).toHaveLength(1);
  });

  it('drops events the last full pull read already', () => {
    const sorted = sortHints([hint({ createdAt: 999 }), hint({ createdAt: 1000 })], { ...test, coveredBefore: 1000 });
    expect(sorted.keep).toHaveLength(1);
    expect(sorted.ignored.covered).toBe(1);
  });
});

describe('readHintsNow', () => {
  let fake: FakeStripe;
  let seed: DefaultSeed;
  let db: Db;
  let n = 0;
  beforeEach(async () => {
    fake = await startFakeStripe({ seed: (state) => void (seed = seedDefault(state)) });
    db = openDatabase(join(dir, `ws-${++n}.sqlite`));
  });
  afterEach(async () => {
    db.close();
    await fake.close();
  });
  const stripe = () => createStripeClient(fake.keys.restricted, { apiBase: fake.url });
  const paths = () => fake.state.log.entries.map((e) => `${e.method} ${e.path}`);

  it('reads only what the hints name, by id: a refund, then its charge; no events, no lists', async () => {
    await pullStripe(db, stripe(), { emailHashKey: EMAIL_KEY, clock: systemClock });
    const perms = (await readHintsNow(db, stripe(), { emailHashKey: EMAIL_KEY, clock: systemClock })).permissions;
    const refund = fake.state.refund(seed.charges.kwd.id, 1_000);
    fake.state.log.clear();
    addHints(db, [{ type: 'refunds', id: refund.id }], systemClock.now());
    const r = await readHintsNow(db, stripe(), { emailHashKey: EMAIL_KEY, clock: systemClock, permissions: perms });
    expect(r).toMatchObject({ reread: 2, skipped: [] });
    expect(r.counts.refunds).toEqual({ added: 1, updated: 0 });
    expect(r.counts.charges).toEqual({ added: 0, updated: 1 });
    expect(paths()).toEqual([`GET /v1/refunds/${refund.id}`, `GET /v1/charges/${seed.charges.kwd.id}`]);
    expect(db.prepare(`SELECT amount_refunded_minor FROM stripe_charges WHERE id = ?`).get(seed.charges.kwd.id)).toEqual({ amount_refunded_minor: 1_000 });
    expect(countHints(db)).toBe(0);
  });

  it('a hint of an id Stripe does not have costs one read, writes nothing and is dropped', async () => {
    await pullStripe(db, stripe(), { emailHashKey: EMAIL_KEY, clock: systemClock });
    const before = db.prepare(`SELECT count(*) AS n FROM stripe_charges`).get();
    const perms = (await readHintsNow(db, stripe(), { emailHashKey: EMAIL_KEY, clock: systemClock })).permissions;
    fake.state.log.clear();
    addHints(db, [{ type: 'charges', id: 'ch_1NoSuchChargeAnywhere00' }], systemClock.now());
    const r = await readHintsNow(db, stripe(), { emailHashKey: EMAIL_KEY, clock: systemClock, permissions: perms });
    expect(r).toMatchObject({ reread: 0, skipped: [] });
    expect(paths()).toEqual(['GET /v1/charges/ch_1NoSuchChargeAnywhere00']);
    expect(db.prepare(`SELECT count(*) AS n FROM stripe_charges`).get()).toEqual(before);
    expect(countHints(db)).toBe(0);
  });

  it('keeps the hints of a type Stripe does not answer for, and says so', async () => {
    await pullStripe(db, stripe(), { emailHashKey: EMAIL_KEY, clock: systemClock });
    const perms = (await readHintsNow(db, stripe(), { emailHashKey: EMAIL_KEY, clock: systemClock })).permissions;
    addHints(db, [{ type: 'charges', id: seed.charges.kwd.id }], systemClock.now());
    fake.state.failNext(3, 503, { path: `/v1/charges/${seed.charges.kwd.id}` });
    const r = await readHintsNow(db, stripe(), { emailHashKey: EMAIL_KEY, clock: systemClock, permissions: perms, retries: 2, retryBaseMs: 5 });
    expect(r.skipped.map((s) => [s.resource, s.code])).toEqual([['charges', 'unavailable']]);
    expect(countHints(db)).toBe(1);
  });
});
