import { describe, expect, it } from 'vitest';
import type { Db } from '../db/open';
import { upsertDisputes } from '../stripe/repo';
import { rebuildAttribution } from './ledger';
import { getSettings } from './settings-repo';
import { addCharge, addClick, addCustomer, addDispute, addInvoice, addPageview, addRefund, addSubscription, factsDb, t } from './testing/facts';
import { fixedRates } from './testing/fx';

const fx = fixedRates({ EUR: 1.1, GBP: 1.25 });
const clockAt = (s: string) => ({ now: () => t(s) });

interface Row {
  model: string;
  kind: string;
  at: number;
  source_id: string;
  touchpoint_id: string | null;
  channel: string;
  slug: string | null;
  weight: number;
  amount_minor: number;
  currency: string;
  converted_minor: number | null;
  unconverted: number;
  renewal: number;
  conversion: number;
  fee_minor: number | null;
  fee_converted_minor: number | null;
}
const rows = (db: Db, where = 'true', params: unknown[] = []) =>
  db.prepare(`SELECT * FROM attribution_ledger WHERE ${where} ORDER BY charge_id, at, id`).all(...params) as Row[];
const brief = (r: Row) => [r.kind, r.touchpoint_id, r.channel, r.amount_minor];

/** The journey of the first worked example: four touchpoints, one outside the 30-day window. */
function multiTouch() {
  const db = factsDb();
  addCustomer(db, 'cus_1', 'hash-1');
  addClick(db, { id: 'c1', at: t('2025-03-01T09:00'), visitorId: 'v1', slug: 'fb-ad', channel: 'Paid social' });
  addClick(db, { id: 'c2', at: t('2025-03-10T09:00'), visitorId: 'v1', slug: 'news', channel: 'Newsletter', campaign: 'march' });
  addPageview(db, { id: 'p1', at: t('2025-03-20T09:00'), visitorId: 'v1', utm: { utm_source: 'google', utm_medium: 'organic' } });
  addClick(db, { id: 'c3', at: t('2025-04-01T09:00'), visitorId: 'v1', slug: 'bio', channel: 'Direct' });
  addCharge(db, { id: 'ch_1', createdAt: t('2025-04-04T12:00'), amountMinor: 10000, currency: 'USD', customerId: 'cus_1', visitorId: 'v1', feeMinor: 320, settlementCurrency: 'USD' });
  return db;
}

describe('rebuildAttribution: worked examples', () => {
  it('credits a multi-touch journey under each model (window 30 days: c2, p1, c3 count; c1 is too old)', () => {
    const db = multiTouch();
    const r = rebuildAttribution(db, fx, undefined, { clock: clockAt('2025-05-01') });
    expect(r).toMatchObject({ charges: 1, conversions: 1, renewals: 0, unconvertedEvents: 0, rows: 6 });
    const of = (model: string) => rows(db, `model IN (?, 'all')`, [model]).map(brief);
    expect(of('last_click')).toEqual([['charge', 'c3', 'Direct', 10000]]);
    expect(of('first_click')).toEqual([['charge', 'c2', 'Newsletter', 10000]]);
    expect(of('linear')).toEqual([
      ['charge', 'c2', 'Newsletter', 3334],
      ['charge', 'p1', 'Organic search', 3333],
      ['charge', 'c3', 'Direct', 3333],
    ]);
    expect(of('last_non_direct')).toEqual([['charge', 'p1', 'Organic search', 10000]]);
    // The fee splits like the money, and every part sums back to the whole.
    expect(rows(db, `model IN ('linear', 'all')`).map((x) => x.fee_minor)).toEqual([107, 107, 106]);
    expect(rows(db, `model IN ('linear', 'all')`).every((x) => x.conversion === 1 && x.converted_minor === x.amount_minor)).toBe(true);
  });

  it('follows the window setting: 60 days brings the oldest click in', () => {
    const db = multiTouch();
    rebuildAttribution(db, fx, { ...getSettings(db), windowDays: 60 }, { clock: clockAt('2025-05-01') });
    expect(rows(db, `model IN ('first_click', 'all')`).map(brief)).toEqual([['charge', 'c1', 'Paid social', 10000]]);
  });

  it('credits Direct without a touchpoint in the window', () => {
    const db = factsDb();
    addCharge(db, { id: 'ch_1', createdAt: t('2025-04-04'), amountMinor: 500, currency: 'USD', customerId: 'cus_9' });
    rebuildAttribution(db, fx);
    // Every model agrees, so the rows are written once for all of them.
    expect(rows(db).map((r) => [r.model, r.touchpoint_id, r.channel, r.weight])).toEqual([['all', null, 'Direct', 1]]);
  });

  it('credits a renewal 90 days later to the first payment’s click, not to Direct', () => {
    const db = factsDb();
    addCustomer(db, 'cus_1');
    addClick(db, { id: 'cA', at: t('2025-01-05T10:00'), visitorId: 'v1', slug: 'aff', channel: 'Partner', partnerId: 'ann' });
    addSubscription(db, 'sub_1', 'cus_1', t('2025-01-10T10:00'));
    addInvoice(db, { id: 'in_1', createdAt: t('2025-01-10T10:00'), subscriptionId: 'sub_1', billingReason: 'subscription_create', amountPaidMinor: 2000, currency: 'USD' });
    addInvoice(db, { id: 'in_2', createdAt: t('2025-04-10T10:00'), subscriptionId: 'sub_1', billingReason: 'subscription_cycle', amountPaidMinor: 2000, currency: 'USD' });
    addInvoice(db, { id: 'in_3', createdAt: t('2025-04-20T10:00'), subscriptionId: 'sub_1', billingReason: 'subscription_update', amountPaidMinor: 1500, currency: 'USD' });
    addCharge(db, { id: 'ch_1', createdAt: t('2025-01-10T10:00'), amountMinor: 2000, currency: 'USD', customerId: 'cus_1', visitorId: 'v1', invoiceId: 'in_1' });
    addCharge(db, { id: 'ch_2', createdAt: t('2025-04-10T11:00'), amountMinor: 2000, currency: 'USD', customerId: 'cus_1', invoiceId: 'in_2' });
    addCharge(db, { id: 'ch_3', createdAt: t('2025-04-20T11:00'), amountMinor: 1500, currency: 'USD', customerId: 'cus_1', invoiceId: 'in_3' });
    // A one-off purchase the same day as the renewal: nothing in its window, so Direct.
    addCharge(db, { id: 'ch_4', createdAt: t('2025-04-10T12:00'), amountMinor: 700, currency: 'USD', customerId: 'cus_1' });
    const r = rebuildAttribution(db, fx);
    expect(r).toMatchObject({ charges: 4, conversions: 2, renewals: 2 });
    expect(rows(db, `model IN ('last_click', 'all')`).map((x) => [x.source_id, x.touchpoint_id, x.channel, x.amount_minor, x.renewal, x.conversion])).toEqual([
      ['ch_1', 'cA', 'Partner', 2000, 0, 1],
      ['ch_2', 'cA', 'Partner', 2000, 1, 0],
      ['ch_3', 'cA', 'Partner', 1500, 1, 0],
      ['ch_4', null, 'Direct', 700, 0, 1],
    ]);
  });

  it('takes a partial refund back on its own date, split like the charge', () => {
    const db = multiTouch();
    addRefund(db, { id: 're_1', createdAt: t('2025-04-20T08:00'), chargeId: 'ch_1', amountMinor: 2500, currency: 'USD' });
    // A failed refund moved nothing.
    addRefund(db, { id: 're_2', createdAt: t('2025-04-21T08:00'), chargeId: 'ch_1', amountMinor: 9999, currency: 'USD', status: 'failed' });
    rebuildAttribution(db, fx);
    const linear = rows(db, `model IN ('linear', 'all') AND kind = 'refund'`);
    expect(linear.map((x) => [x.source_id, x.at, x.touchpoint_id, x.amount_minor, x.conversion])).toEqual([
      ['re_1', t('2025-04-20T08:00'), 'c2', -834, 0],
      ['re_1', t('2025-04-20T08:00'), 'p1', -833, 0],
      ['re_1', t('2025-04-20T08:00'), 'c3', -833, 0],
    ]);
    const net = db.prepare(`SELECT sum(amount_minor) AS n FROM attribution_ledger WHERE model IN ('last_click', 'all')`).get() as { n: number };
    expect(net.n).toBe(7500);
  });

  it('reverses an opened dispute provisionally, reinstates it when won on the day a sync saw that, and keeps a lost one final', () => {
    const db = multiTouch();
    addCharge(db, { id: 'ch_2', createdAt: t('2025-04-05T12:00'), amountMinor: 4000, currency: 'USD', customerId: 'cus_1' });
    addCharge(db, { id: 'ch_3', createdAt: t('2025-04-05T13:00'), amountMinor: 3000, currency: 'USD', customerId: 'cus_1' });
    addDispute(db, { id: 'dp_won', createdAt: t('2025-04-10T00:00'), chargeId: 'ch_1', amountMinor: 10000, currency: 'USD', status: 'needs_response' });
    addDispute(db, { id: 'dp_lost', createdAt: t('2025-04-11T00:00'), chargeId: 'ch_2', amountMinor: 4000, currency: 'USD', status: 'lost' });
    addDispute(db, { id: 'dp_inq', createdAt: t('2025-04-12T00:00'), chargeId: 'ch_3', amountMinor: 3000, currency: 'USD', status: 'warning_needs_response' });
    const events = () => rows(db, `model IN ('last_click', 'all') AND kind <> 'charge'`).map((x) => [x.kind, x.source_id, x.at, x.amount_minor]);
    const net = () => (db.prepare(`SELECT sum(amount_minor) AS n FROM attribution_ledger WHERE model IN ('last_click', 'all')`).get() as { n: number }).n;

    rebuildAttribution(db, fx, undefined, { clock: clockAt('2025-04-15') });
    expect(events()).toEqual([
      ['dispute_opened', 'dp_won', t('2025-04-10'), -10000],
      ['dispute_opened', 'dp_lost', t('2025-04-11'), -4000],
      ['dispute_lost', 'dp_lost', t('2025-04-11'), 0],
    ]);
    expect(net()).toBe(10000 + 4000 + 3000 - 10000 - 4000);

    upsertDisputes(db, [{ id: 'dp_won', createdAt: t('2025-04-10T00:00'), chargeId: 'ch_1', amountMinor: 10000, currency: 'USD', status: 'won', reason: null }]);
    rebuildAttribution(db, fx, undefined, { clock: clockAt('2025-05-02') });
    expect(events()).toEqual([
      ['dispute_opened', 'dp_won', t('2025-04-10'), -10000],
      ['dispute_reinstated', 'dp_won', t('2025-05-02'), 10000],
      ['dispute_opened', 'dp_lost', t('2025-04-11'), -4000],
      ['dispute_lost', 'dp_lost', t('2025-04-11'), 0],
    ]);
    expect(net()).toBe(10000 + 4000 + 3000 - 4000);
    // A later rebuild keeps the date the win was first seen.
    rebuildAttribution(db, fx, undefined, { clock: clockAt('2025-06-01') });
    expect(events()[1]).toEqual(['dispute_reinstated', 'dp_won', t('2025-05-02'), 10000]);
  });

  it('flags a currency it cannot convert instead of treating it 1:1, and converts the others', () => {
    const db = factsDb();
    addCharge(db, { id: 'ch_aed', createdAt: t('2025-04-04'), amountMinor: 36700, currency: 'AED', customerId: 'cus_1' });
    addCharge(db, { id: 'ch_eur', createdAt: t('2025-04-04'), amountMinor: 1000, currency: 'EUR', customerId: 'cus_2' });
    const r = rebuildAttribution(db, fx);
    expect(r.unconvertedEvents).toBe(1);
    expect(rows(db, `model IN ('last_click', 'all')`).map((x) => [x.source_id, x.amount_minor, x.currency, x.converted_minor, x.unconverted])).toEqual([
      ['ch_aed', 36700, 'AED', null, 1],
      ['ch_eur', 1000, 'EUR', 1100, 0],
    ]);
  });

  it('gives identical rows for identical facts, and replaces the ledger instead of adding to it', () => {
    const db = multiTouch();
    addRefund(db, { id: 're_1', createdAt: t('2025-04-20T08:00'), chargeId: 'ch_1', amountMinor: 2500, currency: 'USD' });
    const snapshot = () => JSON.stringify(rows(db));
    rebuildAttribution(db, fx, undefined, { clock: clockAt('2025-05-01') });
    const first = snapshot();
    rebuildAttribution(db, fx, undefined, { clock: clockAt('2025-05-01') });
    expect(snapshot()).toBe(first);
  });
});

describe('rebuildAttribution: read a page of charges at a time', () => {
  /**
   * Charges that cross page boundaries in every way that matters: three at the same instant (the page key is
   * (created_at, id)), renewals pages after the first payment they inherit from, a subscription whose cycle
   * charge comes before its create charge, refunds and disputes on charges of later pages, a linear split.
   */
  function spread(): Db {
    const db = factsDb();
    addCustomer(db, 'cus_1');
    addCustomer(db, 'cus_2');
    addClick(db, { id: 'c1', at: t('2025-01-02T09:00'), visitorId: 'v1', slug: 'news', channel: 'Newsletter' });
    addClick(db, { id: 'c2', at: t('2025-01-04T09:00'), visitorId: 'v1', slug: 'fb-ad', channel: 'Paid social' });
    addClick(db, { id: 'c3', at: t('2025-01-08T09:00'), visitorId: 'v1', slug: 'pod', channel: 'Podcast' });
    addSubscription(db, 'sub_1', 'cus_1', t('2025-01-10T10:00'));
    addSubscription(db, 'sub_2', 'cus_2', t('2025-01-05T10:00'));
    const invoice = (id: string, at: string, sub: string, reason: string) =>
      addInvoice(db, { id, createdAt: t(at), subscriptionId: sub, billingReason: reason, amountPaidMinor: 3000, currency: 'USD' });
    invoice('in_s1', '2025-01-10T10:00', 'sub_1', 'subscription_create');
    invoice('in_s2', '2025-02-10T10:00', 'sub_1', 'subscription_cycle');
    invoice('in_s3', '2025-03-10T10:00', 'sub_1', 'subscription_cycle');
    invoice('in_t0', '2025-01-05T10:00', 'sub_2', 'subscription_cycle');
    invoice('in_t1', '2025-01-06T10:00', 'sub_2', 'subscription_create');
    invoice('in_t2', '2025-02-06T10:00', 'sub_2', 'subscription_cycle');
    const charge = (id: string, at: string, customerId: string, extra: Partial<Parameters<typeof addCharge>[1]> = {}) =>
      addCharge(db, { id, createdAt: t(at), amountMinor: 3000, currency: 'USD', customerId, ...extra });
    charge('ch_s1', '2025-01-10T10:00', 'cus_1', { visitorId: 'v1', invoiceId: 'in_s1', feeMinor: 100, settlementCurrency: 'USD' });
    charge('ch_s2', '2025-02-10T10:00', 'cus_1', { invoiceId: 'in_s2' });
    charge('ch_s3', '2025-03-10T10:00', 'cus_1', { invoiceId: 'in_s3', currency: 'EUR' });
    charge('ch_t0', '2025-01-05T10:00', 'cus_2', { invoiceId: 'in_t0' });
    charge('ch_t1', '2025-01-06T10:00', 'cus_2', { invoiceId: 'in_t1' });
    charge('ch_t2', '2025-02-06T10:00', 'cus_2', { invoiceId: 'in_t2' });
    for (const id of ['ch_x3', 'ch_x1', 'ch_x2']) charge(id, '2025-02-01T00:00', `cus_${id}`);
    charge('ch_failed', '2025-02-02T00:00', 'cus_2', { status: 'failed', amountCapturedMinor: 0 });
    addRefund(db, { id: 're_1', createdAt: t('2025-02-12T08:00'), chargeId: 'ch_s2', amountMinor: 1000, currency: 'USD' });
    addRefund(db, { id: 're_2', createdAt: t('2025-03-12T08:00'), chargeId: 'ch_s3', amountMinor: 3000, currency: 'EUR' });
    addRefund(db, { id: 're_3', createdAt: t('2025-02-03T08:00'), chargeId: 'ch_x2', amountMinor: 500, currency: 'USD', status: 'failed' });
    addDispute(db, { id: 'dp_1', createdAt: t('2025-02-05T00:00'), chargeId: 'ch_x2', amountMinor: 3000, currency: 'USD', status: 'lost' });
    addDispute(db, { id: 'dp_2', createdAt: t('2025-02-07T00:00'), chargeId: 'ch_t2', amountMinor: 3000, currency: 'USD', status: 'needs_response' });
    return db;
  }
  const ledger = (db: Db) => JSON.stringify(db.prepare(`SELECT * FROM attribution_ledger ORDER BY id`).all());

  it('writes the same rows, in the same order, whatever the page size', () => {
    const db = spread();
    const whole = rebuildAttribution(db, fx, undefined, { clock: clockAt('2025-04-01'), pageSize: 1000 });
    const expected = ledger(db);
    expect(whole).toMatchObject({ charges: 9, conversions: 6, renewals: 3, unconvertedEvents: 0 });
    for (const pageSize of [1, 2, 3, 4]) {
      const r = rebuildAttribution(db, fx, undefined, { clock: clockAt('2025-04-01'), pageSize });
      expect({ ...r, tookMs: 0 }).toEqual({ ...whole, tookMs: 0 });
      expect(ledger(db)).toBe(expected);
    }
  });

  it('keeps a renewal on the credits of its first payment pages earlier, and orders charges of one instant by id', () => {
    const db = spread();
    rebuildAttribution(db, fx, undefined, { clock: clockAt('2025-04-01'), pageSize: 1 });
    const linear = (source: string) =>
      rows(db, `model IN ('linear', 'all') AND source_id = ?`, [source]).map((x) => [x.touchpoint_id, x.amount_minor, x.renewal, x.conversion]);
    expect(linear('ch_s1')).toEqual([['c1', 1000, 0, 1], ['c2', 1000, 0, 1], ['c3', 1000, 0, 1]]);
    expect(linear('ch_s3')).toEqual([['c1', 1000, 1, 0], ['c2', 1000, 1, 0], ['c3', 1000, 1, 0]]);
    expect(linear('re_2')).toEqual([['c1', -1000, 1, 0], ['c2', -1000, 1, 0], ['c3', -1000, 1, 0]]);
    // sub_2's cycle charge comes before its create charge: it cannot inherit credits not made yet.
    expect(linear('ch_t0')).toEqual([[null, 3000, 0, 1]]);
    expect(linear('ch_t2')).toEqual([[null, 3000, 1, 0]]);
    const tied = db.prepare(`SELECT DISTINCT charge_id FROM attribution_ledger WHERE charge_id LIKE 'ch_x%' ORDER BY id`).pluck().all();
    expect(tied).toEqual(['ch_x1', 'ch_x2', 'ch_x3']);
    expect(rows(db, `source_id IN ('re_3', 'ch_failed')`)).toEqual([]);
  });
});
