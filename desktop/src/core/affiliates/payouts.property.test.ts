import { afterEach, describe, expect, it } from 'vitest';
import { DAY_MS, seededRandom } from '@revtrail/shared';
import { addCharge, addClick, addDispute, addRefund, t } from '../attribution/testing/facts';
import { affiliateWorld, value, type AffiliateWorld } from './testing';

// Random histories of sales, refunds, disputes, payout runs and payments: whatever happens, no line is
// paid twice, no batch pays what its lines do not add up to, and no commission is taken back beyond itself.

let w: AffiliateWorld;
afterEach(() => w?.close());

const MONTHS = ['2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06'];

async function randomHistory(seed: number) {
  const rand = seededRandom(seed);
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  w = affiliateWorld(t('2025-12-01'));
  value(await w.call('programs.add', { name: 'P', rateBasisPoints: 1500, minimums: { USD: 3000 }, holdingDays: 20 }));
  const partners = ['ann', 'ben', 'cat', 'dan'];
  for (const id of partners) value(await w.call('partners.add', { id, name: id, email: `${id}@example.com`, paypalEmail: `${id}@example.com`, ...(id === 'dan' ? { method: 'manual' as const } : {}) }));
  let charges: { id: string; amount: number; at: number }[] = [];
  let n = 0;
  const unpaid: string[] = [];
  for (const month of MONTHS) {
    const start = t(`${month}-01`);
    for (let i = 0; i < 8; i++) {
      n += 1;
      const at = start + Math.floor(rand() * 27 * DAY_MS);
      const customer = rand() < 0.3 && n > 2 ? `cus_${Math.floor(rand() * (n - 1)) + 1}` : `cus_${n}`;
      addClick(w.db, { id: `click_${n}`, at: at - DAY_MS, visitorId: `v_${customer}`, partnerId: pick(partners), channel: 'P' });
      const amount = 1000 + Math.floor(rand() * 40000);
      addCharge(w.db, { id: `ch_${n}`, createdAt: at, amountMinor: amount, currency: rand() < 0.85 ? 'USD' : 'EUR', customerId: customer, visitorId: `v_${customer}` });
      charges.push({ id: `ch_${n}`, amount, at });
    }
    for (const c of charges) {
      const r = rand();
      if (r < 0.08) addRefund(w.db, { id: `re_${c.id}_${month}`, createdAt: start + DAY_MS, chargeId: c.id, amountMinor: Math.ceil(c.amount * rand() * 0.6), currency: 'USD' });
      else if (r < 0.11) addDispute(w.db, { id: `dp_${c.id}`, createdAt: c.at + DAY_MS, chargeId: c.id, amountMinor: c.amount, currency: 'USD', status: pick(['needs_response', 'won', 'lost', 'under_review', 'lost']) });
    }
    charges = charges.filter(() => rand() < 0.8);
    w.clock.at = start + 27 * DAY_MS;
    await w.sync();
    const created = value(await w.call('payouts.create', { period: month }));
    unpaid.push(...created.batches.map((b) => b.id));
    // Pay some batches now, some a month later; never all at once.
    for (const id of [...unpaid]) {
      if (rand() < 0.6) {
        value(await w.call('payouts.markPaid', { batch: id, reference: `REF-${id}` }));
        unpaid.splice(unpaid.indexOf(id), 1);
      }
    }
  }
}

describe('payout invariants over random histories', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`seed ${seed}: nothing paid twice, batches add up, take-backs never exceed commissions`, async () => {
      await randomHistory(seed);
      const db = w.db;
      const one = <T,>(sql: string) => db.prepare(sql).get() as T;
      expect(one<{ n: number }>(`SELECT count(*) AS n FROM affiliate_batches`).n).toBeGreaterThan(3);
      expect(one<{ n: number }>(`SELECT count(*) AS n FROM affiliate_lines WHERE kind = 'clawback'`).n + one<{ n: number }>(`SELECT count(*) AS n FROM affiliate_lines WHERE kind = 'reversal'`).n).toBeGreaterThan(0);
      expect(one<{ n: number }>(`SELECT count(*) AS n FROM (SELECT line_id FROM affiliate_transitions WHERE event = 'pay' GROUP BY line_id HAVING count(*) > 1)`).n).toBe(0);
      // Every batch: items sum to the total, member lines of each partner sum to its item.
      const mismatched = db
        .prepare(
          `SELECT b.id FROM affiliate_batches b WHERE b.total_minor <> (SELECT sum(amount_minor) FROM affiliate_batch_items i WHERE i.batch_id = b.id)
           UNION ALL
           SELECT i.batch_id FROM affiliate_batch_items i WHERE i.amount_minor <> (SELECT sum(l.amount_minor) FROM affiliate_batch_lines m JOIN affiliate_lines l ON l.id = m.line_id WHERE m.batch_id = i.batch_id AND m.partner_id = i.partner_id)
           UNION ALL
           SELECT m.batch_id FROM affiliate_batch_lines m JOIN affiliate_lines l ON l.id = m.line_id WHERE m.amount_minor <> l.amount_minor`,
        )
        .all();
      expect(mismatched).toEqual([]);
      // Nothing flagged, held, pending or reversed was ever put in a batch; a paid batch's lines are all paid.
      const memberStates = db
        .prepare(
          `SELECT DISTINCT s.state, b.paid_at IS NOT NULL AS paid FROM affiliate_batch_lines m JOIN affiliate_lines l ON l.id = m.line_id
           JOIN affiliate_line_states s ON s.line_id = l.id JOIN affiliate_batches b ON b.id = m.batch_id ORDER BY 1, 2`,
        )
        .all() as { state: string; paid: number }[];
      expect(memberStates).toContainEqual({ state: 'paid', paid: 1 });
      for (const r of memberStates) expect(r.state).toBe(r.paid ? 'paid' : 'approved');
      // Per commission: what is taken back is never more than it, and all of it when the charge was lost in full.
      const over = db.prepare(`SELECT c.id FROM affiliate_lines c WHERE c.kind = 'commission' AND -(SELECT coalesce(sum(amount_minor), 0) FROM affiliate_lines x WHERE x.commission_id = c.id) > c.amount_minor`).all();
      expect(over).toEqual([]);
      // The state rows: a reversal is always in its commission's state, and the copied columns match the lines.
      expect(db.prepare(`SELECT r.id FROM affiliate_lines r JOIN affiliate_line_states rs ON rs.line_id = r.id JOIN affiliate_line_states cs ON cs.line_id = r.commission_id WHERE r.kind = 'reversal' AND rs.state <> cs.state`).all()).toEqual([]);
      expect(db.prepare(`SELECT l.id FROM affiliate_lines l LEFT JOIN affiliate_line_states s ON s.line_id = l.id
        WHERE s.line_id IS NULL OR s.partner_id <> l.partner_id OR s.currency <> l.currency OR s.kind <> l.kind OR s.amount_minor <> l.amount_minor OR s.available_at <> l.available_at`).all()).toEqual([]);
      // What paid batches paid is exactly the lines in state paid.
      const paid = one<{ batches: number; lines: number }>(
        `SELECT (SELECT sum(total_minor) FROM affiliate_batches WHERE paid_at IS NOT NULL) AS batches,
                (SELECT sum(l.amount_minor) FROM affiliate_lines l JOIN affiliate_line_states s ON s.line_id = l.id WHERE s.state = 'paid') AS lines`,
      );
      expect(paid.lines).toBe(paid.batches);
    });
  }

  it('a line cannot be put in two batches (UNIQUE)', async () => {
    await randomHistory(9);
    const m = w.db.prepare(`SELECT line_id, batch_id, partner_id, amount_minor FROM affiliate_batch_lines LIMIT 1`).get() as { line_id: string; batch_id: string; partner_id: string; amount_minor: number };
    const insert = w.db.prepare(`INSERT INTO affiliate_batch_lines (line_id, batch_id, partner_id, amount_minor) VALUES (?, ?, ?, ?)`);
    expect(() => insert.run(m.line_id, m.batch_id, m.partner_id, m.amount_minor)).toThrow(/UNIQUE constraint failed: affiliate_batch_lines.line_id/);
  });
});
