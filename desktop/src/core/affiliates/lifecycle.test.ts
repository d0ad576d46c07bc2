import { afterEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '@revtrail/shared';
import { addCharge, addClick, addCustomer, addDispute, addIdentity, addRefund, t } from '../attribution/testing/facts';
import { listLines } from './repo';
import { affiliateWorld, emailHash, value, type AffiliateWorld } from './testing';

// The commission lifecycle on a real on-disk workspace, through the handlers and the post-sync ledger run:
// hold, approve, pay; refunds before and after payout; disputes won and lost; self-referral; minimums
// carried forward; a negative balance.

let w: AffiliateWorld;
afterEach(() => w?.close());

const MAR1 = t('2026-03-01T12:00');

async function world(program: Record<string, unknown> = {}, partner: Record<string, unknown> = {}) {
  w = affiliateWorld(t('2026-02-01'));
  value(await w.call('programs.add', { name: 'Partners', rateBasisPoints: 2000, minimums: { USD: 5000 }, ...program }));
  value(await w.call('partners.add', { id: 'alice', name: 'Alice', email: 'alice@example.com', paypalEmail: 'alice.pp@example.com', ...partner }));
  return w;
}

/** A click on Alice's link by `visitor`, then a charge of `amountMinor` by `customer` carrying that visitor id. */
function sale(o: { charge: string; customer: string; visitor: string; at: number; amountMinor: number; clickAt?: number; partner?: string | null }) {
  addClick(w.db, { id: `click_${o.charge}`, at: o.clickAt ?? o.at - DAY_MS, visitorId: o.visitor, partnerId: o.partner === undefined ? 'alice' : o.partner, channel: 'Partners' });
  addCharge(w.db, { id: o.charge, createdAt: o.at, amountMinor: o.amountMinor, currency: 'USD', customerId: o.customer, visitorId: o.visitor });
}

const lines = () => listLines(w.db).map((l) => ({ kind: l.kind, charge: l.chargeId, amount: l.amountMinor, state: l.state, batch: l.batchId }));
const at = (s: string) => (w.clock.at = t(s));

describe('commission lifecycle', () => {
  it('holds a commission through its holding period, approves it, pays it once', async () => {
    await world();
    sale({ charge: 'ch_1', customer: 'cus_1', visitor: 'v1', at: MAR1, amountMinor: 30000 });
    at('2026-03-02');
    expect(await w.sync()).toMatchObject({ bound: 1, commissions: 1, approved: 0 });
    expect(lines()).toEqual([{ kind: 'commission', charge: 'ch_1', amount: 6000, state: 'pending', batch: null }]);
    const [line] = listLines(w.db);
    expect(line).toMatchObject({ touchpointId: 'click_ch_1', programId: 'prg_partners', availableAt: MAR1 + 30 * DAY_MS });
    expect(line!.terms.rate).toEqual({ kind: 'percent', basisPoints: 2000 });
    expect(value(await w.call('payouts.preview', { period: '2026-03' })).batches).toEqual([]);

    at('2026-04-01');
    const created = value(await w.call('payouts.create', { period: '2026-03' }));
    expect(created.batches.map((b) => [b.id, b.method, b.currency, b.totalMinor, b.itemCount])).toEqual([['po_2026-03_paypal_USD', 'paypal', 'USD', 6000, 1]]);
    expect(lines()).toEqual([{ kind: 'commission', charge: 'ch_1', amount: 6000, state: 'approved', batch: 'po_2026-03_paypal_USD' }]);
    expect(value(await w.call('payouts.create', { period: '2026-03' })).batches).toEqual([]);

    const paid = value(await w.call('payouts.markPaid', { batch: 'po_2026-03_paypal_USD', reference: 'PP-123' }));
    expect(paid).toMatchObject({ reference: 'PP-123', paidAt: t('2026-04-01') });
    expect(lines()[0]!.state).toBe('paid');
    expect(value(await w.call('payouts.markPaid', { batch: 'po_2026-03_paypal_USD', reference: 'PP-123' })).paidAt).toBe(t('2026-04-01'));
    const again = await w.call('payouts.markPaid', { batch: 'po_2026-03_paypal_USD', reference: 'PP-999' });
    expect(!again.ok && again.error.code).toBe('conflict');
    expect(w.db.prepare(`SELECT event, from_state, to_state FROM affiliate_transitions ORDER BY id`).all()).toEqual([
      { event: 'approve', from_state: 'pending', to_state: 'approved' },
      { event: 'pay', from_state: 'approved', to_state: 'paid' },
    ]);
    expect(await w.sync()).toMatchObject({ bound: 0, commissions: 0, approved: 0 });
  });

  it('is idempotent: syncing again writes nothing, and money rows refuse edits', async () => {
    await world();
    sale({ charge: 'ch_1', customer: 'cus_1', visitor: 'v1', at: MAR1, amountMinor: 10000 });
    addRefund(w.db, { id: 're_1', createdAt: MAR1 + DAY_MS, chargeId: 'ch_1', amountMinor: 2500, currency: 'USD' });
    at('2026-03-05');
    await w.sync();
    const before = lines();
    expect(await w.sync()).toEqual({ bound: 0, commissions: 0, flagged: 0, reversals: 0, clawbacks: 0, held: 0, released: 0, reversed: 0, approved: 0 });
    expect(lines()).toEqual(before);
    expect(() => w.db.prepare(`UPDATE affiliate_lines SET amount_minor = 1`).run()).toThrow(/append-only/);
  });

  it('reverses a partial refund pro rata before payout, and pays the rest', async () => {
    await world({ minimums: {} });
    sale({ charge: 'ch_1', customer: 'cus_1', visitor: 'v1', at: MAR1, amountMinor: 30000 });
    addRefund(w.db, { id: 're_1', createdAt: MAR1 + 3 * DAY_MS, chargeId: 'ch_1', amountMinor: 7500, currency: 'USD' });
    addRefund(w.db, { id: 're_failed', createdAt: MAR1 + 4 * DAY_MS, chargeId: 'ch_1', amountMinor: 7500, currency: 'USD', status: 'failed' });
    at('2026-04-01');
    expect(await w.sync()).toMatchObject({ commissions: 1, reversals: 1, approved: 1 });
    expect(lines()).toEqual([
      { kind: 'commission', charge: 'ch_1', amount: 6000, state: 'approved', batch: null },
      { kind: 'reversal', charge: 'ch_1', amount: -1500, state: 'approved', batch: null },
    ]);
    const [batch] = value(await w.call('payouts.create', { period: '2026-03' })).batches;
    expect(batch!.totalMinor).toBe(4500);
    const csv = value(await w.call('payouts.export', { batch: batch!.id, format: 'csv' })).files[0]!;
    expect('text' in csv && csv.text).toContain(',USD,45.00,1,0.00,');
  });

  it('reverses a commission refunded in full before payout: nothing is paid', async () => {
    await world({ minimums: {} });
    sale({ charge: 'ch_1', customer: 'cus_1', visitor: 'v1', at: MAR1, amountMinor: 30000 });
    addRefund(w.db, { id: 're_a', createdAt: MAR1 + DAY_MS, chargeId: 'ch_1', amountMinor: 10000, currency: 'USD' });
    at('2026-03-03');
    await w.sync();
    addRefund(w.db, { id: 're_b', createdAt: MAR1 + 2 * DAY_MS, chargeId: 'ch_1', amountMinor: 20000, currency: 'USD' });
    at('2026-04-01');
    expect(await w.sync()).toMatchObject({ reversals: 1, reversed: 1, approved: 0 });
    expect(lines().map((l) => [l.kind, l.amount, l.state])).toEqual([
      ['commission', 6000, 'reversed'],
      ['reversal', -2000, 'reversed'],
      ['reversal', -4000, 'reversed'],
    ]);
    expect(value(await w.call('payouts.preview', { period: '2026-03' }))).toMatchObject({ batches: [], carried: [] });
  });

  it('claws back a refund after payout, nets it against the next payout, and holds payouts while the balance is negative', async () => {
    await world({ minimums: {} });
    sale({ charge: 'ch_1', customer: 'cus_1', visitor: 'v1', at: MAR1, amountMinor: 30000 });
    at('2026-04-01');
    await w.sync();
    value(await w.call('payouts.create', { period: '2026-03' }));
    value(await w.call('payouts.markPaid', { batch: 'po_2026-03_paypal_USD', reference: 'PP-1' }));

    addRefund(w.db, { id: 're_1', createdAt: t('2026-04-03'), chargeId: 'ch_1', amountMinor: 30000, currency: 'USD' });
    sale({ charge: 'ch_2', customer: 'cus_2', visitor: 'v2', at: t('2026-03-31T12:00'), amountMinor: 10000 });
    at('2026-05-05');
    expect(await w.sync()).toMatchObject({ commissions: 1, clawbacks: 1, reversals: 0 });
    expect(lines()).toEqual([
      { kind: 'commission', charge: 'ch_1', amount: 6000, state: 'paid', batch: 'po_2026-03_paypal_USD' },
      { kind: 'commission', charge: 'ch_2', amount: 2000, state: 'approved', batch: null },
      { kind: 'clawback', charge: 'ch_1', amount: -6000, state: 'approved', batch: null },
    ]);
    const preview = value(await w.call('payouts.preview', { period: '2026-04' }));
    expect(preview.batches).toEqual([]);
    expect(preview.carried).toEqual([
      { partnerId: 'alice', name: 'Alice', currency: 'USD', balanceMinor: -4000, reason: 'negative_balance', message: expect.stringContaining('balance -40.00 USD is negative') },
    ]);
    expect(value(await w.call('payouts.create', { period: '2026-04' })).batches).toEqual([]);

    // Later commissions pay the clawback off first; the payout is the net, the statement shows all three lines.
    sale({ charge: 'ch_3', customer: 'cus_3', visitor: 'v3', at: t('2026-05-01'), amountMinor: 50000 });
    at('2026-06-02');
    await w.sync();
    const [batch] = value(await w.call('payouts.create', { period: '2026-05' })).batches;
    expect(batch).toMatchObject({ id: 'po_2026-05_paypal_USD', totalMinor: 6000 });
    const html = value(await w.call('payouts.export', { batch: batch!.id, format: 'statement-html' })).files;
    expect(html).toHaveLength(1);
    const text = 'text' in html[0]! ? html[0]!.text : '';
    expect(text).toContain('Clawback: refund re_1 of charge ch_1, paid out before');
    expect(text.match(/<td>commission<\/td>/g)).toHaveLength(2);
    expect(text).toContain('<td class="n">USD 60.00</td></tr></tfoot>');
  });

  it('holds a commission during an open dispute and releases it when the dispute is won', async () => {
    await world({ minimums: {} });
    sale({ charge: 'ch_1', customer: 'cus_1', visitor: 'v1', at: MAR1, amountMinor: 30000 });
    addDispute(w.db, { id: 'dp_1', createdAt: MAR1 + 5 * DAY_MS, chargeId: 'ch_1', amountMinor: 30000, currency: 'USD', status: 'needs_response' });
    at('2026-04-01');
    expect(await w.sync()).toMatchObject({ held: 1, approved: 0 });
    expect(lines()[0]!.state).toBe('held');
    expect(value(await w.call('payouts.preview', { period: '2026-03' })).batches).toEqual([]);

    addDispute(w.db, { id: 'dp_1', createdAt: MAR1 + 5 * DAY_MS, chargeId: 'ch_1', amountMinor: 30000, currency: 'USD', status: 'won' });
    at('2026-04-10');
    expect(await w.sync()).toMatchObject({ held: 0, released: 1, approved: 1 });
    expect(lines()[0]!.state).toBe('approved');
    expect(await w.sync()).toMatchObject({ held: 0, released: 0 });
    expect(value(await w.call('payouts.create', { period: '2026-04' })).batches[0]!.totalMinor).toBe(6000);
  });

  it('reverses a commission whose dispute is lost, and claws back one lost after payout', async () => {
    await world({ minimums: {} });
    sale({ charge: 'ch_1', customer: 'cus_1', visitor: 'v1', at: MAR1, amountMinor: 30000 });
    sale({ charge: 'ch_2', customer: 'cus_2', visitor: 'v2', at: MAR1, amountMinor: 10000 });
    addDispute(w.db, { id: 'dp_1', createdAt: MAR1 + DAY_MS, chargeId: 'ch_1', amountMinor: 30000, currency: 'USD', status: 'under_review' });
    at('2026-03-10');
    await w.sync();
    addDispute(w.db, { id: 'dp_1', createdAt: MAR1 + DAY_MS, chargeId: 'ch_1', amountMinor: 30000, currency: 'USD', status: 'lost' });
    at('2026-04-01');
    expect(await w.sync()).toMatchObject({ reversals: 1, reversed: 1, approved: 1 });
    value(await w.call('payouts.create', { period: '2026-03' }));
    value(await w.call('payouts.markPaid', { batch: 'po_2026-03_paypal_USD', reference: 'PP-1' }));

    // ch_2 was paid; its dispute, opened and lost after payout, claws back (an open one holds nothing now).
    addDispute(w.db, { id: 'dp_2', createdAt: t('2026-04-05'), chargeId: 'ch_2', amountMinor: 10000, currency: 'USD', status: 'needs_response' });
    at('2026-04-06');
    expect(await w.sync()).toMatchObject({ held: 0 });
    addDispute(w.db, { id: 'dp_2', createdAt: t('2026-04-05'), chargeId: 'ch_2', amountMinor: 10000, currency: 'USD', status: 'lost' });
    at('2026-04-20');
    expect(await w.sync()).toMatchObject({ clawbacks: 1 });
    expect(lines()).toEqual([
      { kind: 'commission', charge: 'ch_1', amount: 6000, state: 'reversed', batch: null },
      { kind: 'commission', charge: 'ch_2', amount: 2000, state: 'paid', batch: 'po_2026-03_paypal_USD' },
      { kind: 'reversal', charge: 'ch_1', amount: -6000, state: 'reversed', batch: null },
      { kind: 'clawback', charge: 'ch_2', amount: -2000, state: 'approved', batch: null },
    ]);
  });

  it('flags self-referrals by the partner email or visitor id, and never pays them', async () => {
    await world({ minimums: {} }, { ownVisitorIds: ['alice-laptop'] });
    const aliceHash = await emailHash('Alice@Example.com');
    sale({ charge: 'ch_own_email', customer: 'cus_a', visitor: 'v1', at: MAR1, amountMinor: 10000 });
    addCustomer(w.db, 'cus_a', aliceHash);
    sale({ charge: 'ch_own_browser', customer: 'cus_b', visitor: 'alice-laptop', at: MAR1, amountMinor: 10000 });
    // A visitor the pixel identified with Alice's PayPal email is hers too.
    addIdentity(w.db, { id: 'id_1', visitorId: 'v-identified', emailHash: await emailHash('alice.pp@example.com') });
    sale({ charge: 'ch_identified', customer: 'cus_c', visitor: 'v-identified', at: MAR1, amountMinor: 10000 });
    sale({ charge: 'ch_fair', customer: 'cus_d', visitor: 'v4', at: MAR1, amountMinor: 10000 });
    at('2026-04-02');
    expect(await w.sync()).toMatchObject({ commissions: 1, flagged: 3, approved: 1 });
    const flagged = listLines(w.db).filter((l) => l.selfReferral !== null).sort((a, b) => a.chargeId.localeCompare(b.chargeId));
    expect(flagged.map((l) => [l.chargeId, l.state, l.selfReferral])).toEqual([
      ['ch_identified', 'flagged', "the buyer's browser (visitor id) is the partner's own"],
      ['ch_own_browser', 'flagged', "the buyer's browser (visitor id) is the partner's own"],
      ['ch_own_email', 'flagged', "the buyer's email is the partner's own"],
    ]);
    const [batch] = value(await w.call('payouts.create', { period: '2026-03' })).batches;
    expect(batch!.totalMinor).toBe(2000);
    expect(value(await w.call('commissions.list', { state: 'flagged' }))).toHaveLength(3);
  });

  it('carries a balance under the minimum forward, and pays it with the next month once over', async () => {
    await world();
    sale({ charge: 'ch_1', customer: 'cus_1', visitor: 'v1', at: MAR1, amountMinor: 10000 });
    at('2026-04-01');
    await w.sync();
    const march = value(await w.call('payouts.create', { period: '2026-03' }));
    expect(march.batches).toEqual([]);
    expect(march.carried).toEqual([
      { partnerId: 'alice', name: 'Alice', currency: 'USD', balanceMinor: 2000, reason: 'under_minimum', message: 'balance 20.00 USD is under the minimum payout of 50.00 USD' },
    ]);
    sale({ charge: 'ch_2', customer: 'cus_2', visitor: 'v2', at: t('2026-03-25'), amountMinor: 15000 });
    at('2026-05-02');
    await w.sync();
    const april = value(await w.call('payouts.create', { period: '2026-04' }));
    expect(april.batches.map((b) => [b.totalMinor, b.itemCount])).toEqual([[5000, 1]]);
    expect(lines().map((l) => l.batch)).toEqual(['po_2026-04_paypal_USD', 'po_2026-04_paypal_USD']);
  });

  it('a partner override of the minimum wins over the program', async () => {
    await world({}, { override: { minimums: { USD: 1000 }, rateBasisPoints: 3000 } });
    sale({ charge: 'ch_1', customer: 'cus_1', visitor: 'v1', at: MAR1, amountMinor: 10000 });
    at('2026-04-01');
    await w.sync();
    expect(value(await w.call('payouts.create', { period: '2026-03' })).batches[0]!.totalMinor).toBe(3000);
  });
});

describe('binding customers to partners', () => {
  async function twoPartners(binding: 'first_click' | 'last_click') {
    await world({ minimums: {}, binding, cookieDays: 30, duration: 'one_time' });
    value(await w.call('partners.add', { id: 'bob', name: 'Bob', email: 'bob@example.com', paypalEmail: 'bob@example.com' }));
    addClick(w.db, { id: 'c_old', at: MAR1 - 40 * DAY_MS, visitorId: 'v1', partnerId: 'carol', channel: 'Partners' });
    addClick(w.db, { id: 'c_alice', at: MAR1 - 20 * DAY_MS, visitorId: 'v1', partnerId: 'alice', channel: 'Partners' });
    addClick(w.db, { id: 'c_bob', at: MAR1 - 2 * DAY_MS, visitorId: 'v1', partnerId: 'bob', channel: 'Partners' });
    addClick(w.db, { id: 'c_plain', at: MAR1 - DAY_MS, visitorId: 'v1', channel: 'Newsletter' });
    addCharge(w.db, { id: 'ch_1', createdAt: MAR1, amountMinor: 10000, currency: 'USD', customerId: 'cus_1', visitorId: 'v1' });
    at('2026-03-02');
    await w.sync();
  }

  it('first click wins by default, within the cookie window, for good', async () => {
    await twoPartners('first_click');
    expect(listLines(w.db).map((l) => [l.partnerId, l.touchpointId])).toEqual([['alice', 'c_alice']]);
    // A later click by another partner and a renewal: the customer stays Alice's; one-time pays only the first charge.
    addClick(w.db, { id: 'c_bob2', at: MAR1 + DAY_MS, visitorId: 'v1', partnerId: 'bob', channel: 'Partners' });
    addCharge(w.db, { id: 'ch_2', createdAt: MAR1 + 30 * DAY_MS, amountMinor: 10000, currency: 'USD', customerId: 'cus_1' });
    at('2026-04-02');
    expect(await w.sync()).toMatchObject({ bound: 0, commissions: 0 });
    expect(value(await w.call('partners.show', { partner: 'alice' })).customers).toBe(1);
  });

  it('binds once the click arrives in a later redirector sync', async () => {
    await world({ minimums: {} });
    addCharge(w.db, { id: 'ch_1', createdAt: MAR1, amountMinor: 10000, currency: 'USD', customerId: 'cus_1', visitorId: 'v1' });
    at('2026-03-02');
    expect(await w.sync()).toMatchObject({ bound: 0, commissions: 0 });
    addClick(w.db, { id: 'late', at: MAR1 - 3 * DAY_MS, visitorId: 'v1', partnerId: 'alice', channel: 'Partners' });
    expect(await w.sync()).toMatchObject({ bound: 1, commissions: 1 });
  });

  it('last click when the program says so', async () => {
    await twoPartners('last_click');
    expect(listLines(w.db).map((l) => [l.partnerId, l.touchpointId])).toEqual([['bob', 'c_bob']]);
  });

  it('credits renewals by the duration: three charges, then nothing', async () => {
    await world({ minimums: {}, duration: 'charges', durationCount: 3 });
    sale({ charge: 'ch_0', customer: 'cus_1', visitor: 'v1', at: MAR1, amountMinor: 1000 });
    for (let i = 1; i < 5; i++) addCharge(w.db, { id: `ch_${i}`, createdAt: MAR1 + i * 30 * DAY_MS, amountMinor: 1000, currency: 'USD', customerId: 'cus_1' });
    at('2026-09-01');
    await w.sync();
    expect(listLines(w.db).map((l) => l.chargeId)).toEqual(['ch_0', 'ch_1', 'ch_2']);
  });

  it('pays nothing for charges before the program started or partners that are closed', async () => {
    w = affiliateWorld(t('2026-02-01'));
    value(await w.call('programs.add', { name: 'Late', rateBasisPoints: 1000, startsAt: t('2026-03-15') }));
    value(await w.call('partners.add', { id: 'alice', name: 'Alice', email: 'alice@example.com' }));
    value(await w.call('partners.add', { id: 'zed', name: 'Zed', email: 'zed@example.com', status: 'closed' }));
    sale({ charge: 'ch_early', customer: 'cus_1', visitor: 'v1', at: MAR1, amountMinor: 1000 });
    addCharge(w.db, { id: 'ch_later', createdAt: t('2026-03-20'), amountMinor: 1000, currency: 'USD', customerId: 'cus_1' });
    sale({ charge: 'ch_zed', customer: 'cus_2', visitor: 'v2', at: MAR1, amountMinor: 1000, partner: 'zed' });
    at('2026-03-21');
    expect(await w.sync()).toMatchObject({ bound: 1, commissions: 1 });
    expect(listLines(w.db).map((l) => l.chargeId)).toEqual(['ch_later']);
  });
});
