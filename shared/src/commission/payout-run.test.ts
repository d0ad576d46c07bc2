import { describe, expect, it } from 'vitest';
import { formatMinor } from '../money';
import { planPayouts, type PartnerBalance, type PayoutMethod } from './payout-run';
import { seededRandom } from '../random';

const base: Omit<PartnerBalance, 'partnerId'> = { currency: 'USD', method: 'paypal', commissionMinor: 0, clawbackMinor: 0, commissionCount: 0, minimumMinor: 5000, blocked: null };

describe('payout run arithmetic', () => {
  it('pays at or over the minimum, nets clawbacks, carries the rest forward with the reason', () => {
    const plan = planPayouts(
      [
        { ...base, partnerId: 'b', commissionMinor: 5000, commissionCount: 2 },
        { ...base, partnerId: 'a', commissionMinor: 9000, clawbackMinor: -1500, commissionCount: 3 },
        { ...base, partnerId: 'c', commissionMinor: 4999, commissionCount: 1 },
        { ...base, partnerId: 'd', commissionMinor: 1000, clawbackMinor: -3000, commissionCount: 1 },
        { ...base, partnerId: 'e', commissionMinor: 8000, commissionCount: 1, blocked: 'the partner is paused' },
        { ...base, partnerId: 'f', commissionMinor: 700, clawbackMinor: -700, commissionCount: 1 },
        { ...base, partnerId: 'g', currency: 'JPY', minimumMinor: 0, commissionMinor: 700, commissionCount: 1 },
        { ...base, partnerId: 'h', method: 'wise', commissionMinor: 6000, commissionCount: 1 },
      ],
      formatMinor,
    );
    expect(plan.batches).toEqual([
      { method: 'paypal', currency: 'JPY', totalMinor: 700, items: [{ partnerId: 'g', amountMinor: 700, commissionMinor: 700, clawbackMinor: 0, commissionCount: 1 }] },
      {
        method: 'paypal',
        currency: 'USD',
        totalMinor: 12500,
        items: [
          { partnerId: 'a', amountMinor: 7500, commissionMinor: 9000, clawbackMinor: -1500, commissionCount: 3 },
          { partnerId: 'b', amountMinor: 5000, commissionMinor: 5000, clawbackMinor: 0, commissionCount: 2 },
        ],
      },
      { method: 'wise', currency: 'USD', totalMinor: 6000, items: [{ partnerId: 'h', amountMinor: 6000, commissionMinor: 6000, clawbackMinor: 0, commissionCount: 1 }] },
    ]);
    expect(plan.carried.map((c) => [c.partnerId, c.reason, c.balanceMinor])).toEqual([
      ['c', 'under_minimum', 4999],
      ['d', 'negative_balance', -2000],
      ['e', 'blocked', 8000],
      ['f', 'nothing_owed', 0],
    ]);
    expect(plan.carried[0]!.message).toBe('balance 49.99 USD is under the minimum payout of 50.00 USD');
    expect(plan.carried[2]!.message).toBe('80.00 USD carried forward: the partner is paused');
  });

  it('property: every balance is paid or carried, once; batch totals are the sums of their items; nothing paid is under its minimum', () => {
    const rand = seededRandom(99);
    const methods: PayoutMethod[] = ['paypal', 'wise', 'manual'];
    for (let run = 0; run < 300; run++) {
      const balances: PartnerBalance[] = Array.from({ length: 1 + Math.floor(rand() * 40) }, (_, i) => ({
        partnerId: `p${i}`,
        currency: rand() < 0.7 ? 'USD' : 'EUR',
        method: methods[Math.floor(rand() * 3)]!,
        commissionMinor: Math.floor(rand() * 20000),
        clawbackMinor: rand() < 0.3 ? -Math.floor(rand() * 10000) : 0,
        commissionCount: Math.floor(rand() * 5),
        minimumMinor: Math.floor(rand() * 8000),
        blocked: rand() < 0.1 ? 'paused' : null,
      }));
      const plan = planPayouts(balances, formatMinor);
      const paid = plan.batches.flatMap((b) => b.items.map((i) => ({ ...i, method: b.method, currency: b.currency })));
      const ids = [...paid.map((p) => p.partnerId), ...plan.carried.map((c) => c.partnerId)];
      expect(ids.sort()).toEqual(balances.map((b) => b.partnerId).sort());
      for (const b of plan.batches) expect(b.totalMinor).toBe(b.items.reduce((s, i) => s + i.amountMinor, 0));
      const total = balances.reduce((s, b) => s + b.commissionMinor + b.clawbackMinor, 0);
      expect(paid.reduce((s, p) => s + p.amountMinor, 0) + plan.carried.reduce((s, c) => s + c.balanceMinor, 0)).toBe(total);
      for (const p of paid) {
        const b = balances.find((x) => x.partnerId === p.partnerId)!;
        expect(p.amountMinor).toBeGreaterThan(0);
        expect(p.amountMinor).toBeGreaterThanOrEqual(b.minimumMinor);
        expect([b.method, b.currency, b.blocked]).toEqual([p.method, p.currency, null]);
      }
    }
  });
});
