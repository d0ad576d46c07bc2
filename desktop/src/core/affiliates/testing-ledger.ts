import { DAY_MS, newSortKey, seededRandom } from '@revtrail/shared';
import type { ProgramRules } from '@revtrail/shared/commission/index';
import type { Db } from '../db/open';
import { insertLine, insertPartner, insertProgram, type NewLine } from './repo';

// The payout benchmark's ledger (bench/payouts.ts), also seeded small by payouts.golden.test.ts: the same
// partners and lines whatever the size, so the test's golden runs are the bench's at small scale.

/** The period the bench pays, when it runs, and the first day of its year of sales. */
export const PAYOUT_PERIOD = '2026-03';
export const PAYOUT_NOW = Date.parse('2026-04-01T06:00:00Z');
export const YEAR_START = Date.parse('2025-04-01T00:00:00Z');
/** The eleven months before the period, paid by runs of their own in the month-end case. */
export const PAYOUT_HISTORY = ['2025-04', '2025-05', '2025-06', '2025-07', '2025-08', '2025-09', '2025-10', '2025-11', '2025-12', '2026-01', '2026-02'];

/**
 * One program, `partners` partners (PayPal 70%, Wise 20%, by hand 10%; 2% paused) and `lines` ledger lines
 * over the year to the period's end: commissions in USD and EUR (1% self-referrals; those of March's last
 * 30 days still in their holding period), and reversals (4%) and clawbacks (2%) against earlier ones.
 */
export function seedPayoutLedger(db: Db, partners: number, lines: number, lineId: (at: number, n: number) => string = (at) => newSortKey(at)): { commissions: number; reversals: number; clawbacks: number } {
  const rand = seededRandom(20260401);
  const rules: ProgramRules = { rate: { kind: 'percent', basisPoints: 2000 }, basis: 'net', duration: { kind: 'lifetime', count: null }, holdingDays: 30, minimums: { USD: 5000, EUR: 5000 }, cookieDays: 30, binding: 'first_click' };
  insertProgram(db, { id: 'prg_bench', name: 'Bench', rules, startsAt: 0, createdAt: 0 });
  db.transaction(() => {
    for (let i = 0; i < partners; i++) {
      const r = rand();
      const method = r < 0.7 ? 'paypal' : r < 0.9 ? 'wise' : 'manual';
      const id = `p${String(i).padStart(5, '0')}`;
      insertPartner(db, {
        id,
        programId: 'prg_bench',
        name: `Partner ${i}`,
        email: `${id}@example.com`,
        paypalEmail: method === 'paypal' ? `${id}@example.com` : null,
        wise: method === 'wise' ? { email: `${id}@example.com`, name: null, receiverType: 'PERSON', currency: null } : null,
        payoutMethod: method,
        country: 'DE',
        status: rand() < 0.02 ? 'paused' : 'active',
        ownVisitorIds: [],
        override: null,
        createdAt: 0,
        updatedAt: 0,
      });
    }
  })();
  const counts = { commissions: 0, reversals: 0, clawbacks: 0 };
  const earlier = new Map<number, { id: string; currency: string; amount: number; base: number; availableAt: number }[]>();
  const periodEnd = Date.parse('2026-04-01T00:00:00Z');
  const span = periodEnd - YEAR_START;
  const CHUNK = 50_000;
  for (let done = 0; done < lines; done += CHUNK) {
    db.transaction(() => {
      for (let n = done; n < Math.min(lines, done + CHUNK); n++) {
        const p = Math.floor(rand() * partners);
        const partnerId = `p${String(p).padStart(5, '0')}`;
        // When the line becomes payable: a charge 30 days before, for a commission.
        const at = YEAR_START + 30 * DAY_MS + Math.floor(rand() * (span - 30 * DAY_MS));
        const previous = earlier.get(p);
        const r = rand();
        const base: Omit<NewLine, 'id' | 'kind' | 'cause' | 'dedupeKey' | 'sourceId' | 'commissionId' | 'baseMinor' | 'amountMinor' | 'currency' | 'occurredAt' | 'availableAt'> = {
          partnerId,
          programId: 'prg_bench',
          customerKey: `cus_${n}`,
          chargeId: `ch_${n}`,
          touchpointId: `click_${n}`,
          terms: rules,
          selfReferral: null,
          createdAt: at,
        };
        if (previous && r < 0.06) {
          const c = previous[Math.floor(rand() * previous.length)]!;
          const clawback = r < 0.02;
          const lost = Math.max(1, Math.floor(c.base * rand() * 0.5));
          insertLine(db, {
            ...base,
            id: lineId(at, n),
            kind: clawback ? 'clawback' : 'reversal',
            cause: 'refund',
            dedupeKey: `takeback:re_${n}`,
            chargeId: `ch_of_${c.id}`,
            sourceId: `re_${n}`,
            commissionId: c.id,
            baseMinor: lost,
            amountMinor: -Math.min(c.amount, Math.round((c.amount * lost) / c.base)),
            currency: c.currency,
            occurredAt: at,
            availableAt: clawback ? at : c.availableAt,
          });
          counts[clawback ? 'clawbacks' : 'reversals'] += 1;
          continue;
        }
        const amount = 1000 + Math.floor(rand() * 20000);
        const id = lineId(at, n);
        const currency = rand() < 0.8 ? 'USD' : 'EUR';
        insertLine(db, {
          ...base,
          id,
          kind: 'commission',
          cause: 'charge',
          dedupeKey: `commission:ch_${n}`,
          sourceId: `ch_${n}`,
          commissionId: null,
          baseMinor: amount * 5,
          amountMinor: amount,
          currency,
          occurredAt: at - 30 * DAY_MS,
          availableAt: at,
          selfReferral: rand() < 0.01 ? "the buyer's email is the partner's own" : null,
        });
        counts.commissions += 1;
        const entry = { id, currency, amount, base: amount * 5, availableAt: at };
        if (!previous) earlier.set(p, [entry]);
        else if (previous.length < 8) previous.push(entry);
      }
    })();
  }
  return counts;
}
