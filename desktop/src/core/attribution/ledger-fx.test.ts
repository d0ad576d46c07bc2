import { describe, expect, it } from 'vitest';
import { createFxConverter } from '../fx/rates';
import { rebuildAttribution } from './ledger';
import { addCharge, factsDb, t } from './testing/facts';

// The ledger with the real converter over the bundled ECB history.
describe('rebuildAttribution with ECB rates', () => {
  it('converts a JPY charge made on a Sunday at Friday’s rate, final; one after the newest rate provisionally; falls back to Stripe’s rate', () => {
    const db = factsDb();
    // Sunday 2025-04-06: the ECB last published on Friday the 4th (USD 1.1057, JPY 160.56 per EUR).
    addCharge(db, { id: 'ch_jpy', createdAt: t('2025-04-06T15:00'), amountMinor: 10000, currency: 'JPY', customerId: 'cus_1' });
    // Far past the bundled history: converted with its newest rate, marked for converting again.
    addCharge(db, { id: 'ch_late', createdAt: t('2099-01-05T12:00'), amountMinor: 1000, currency: 'EUR', customerId: 'cus_2' });
    // No ECB rate for AED: Stripe's balance transaction settled it in USD at 0.2723.
    addCharge(db, { id: 'ch_aed', createdAt: t('2025-04-07T12:00'), amountMinor: 36700, currency: 'AED', customerId: 'cus_3', exchangeRate: 0.2723, settlementCurrency: 'USD' });
    addCharge(db, { id: 'ch_xaf', createdAt: t('2025-04-07T12:00'), amountMinor: 5000, currency: 'XAF', customerId: 'cus_4' });
    const r = rebuildAttribution(db, createFxConverter(db));
    expect(r.unconvertedEvents).toBe(1);
    const rows = db
      .prepare(`SELECT charge_id, amount_minor, currency, converted_minor, rate_date, rate_source, provisional, unconverted FROM attribution_ledger WHERE model IN ('last_click', 'all') ORDER BY charge_id`)
      .all();
    expect(rows).toEqual([
      // 36,700 AED minor units at Stripe's 0.2723.
      { charge_id: 'ch_aed', amount_minor: 36700, currency: 'AED', converted_minor: 9993, rate_date: '2025-04-07', rate_source: 'stripe', provisional: 0, unconverted: 0 },
      // 10,000 JPY * 1.1057 / 160.56 = 68.865 USD.
      { charge_id: 'ch_jpy', amount_minor: 10000, currency: 'JPY', converted_minor: 6887, rate_date: '2025-04-04', rate_source: 'ecb', provisional: 0, unconverted: 0 },
      expect.objectContaining({ charge_id: 'ch_late', rate_source: 'ecb', provisional: 1, unconverted: 0 }),
      { charge_id: 'ch_xaf', amount_minor: 5000, currency: 'XAF', converted_minor: null, rate_date: null, rate_source: null, provisional: 0, unconverted: 1 },
    ]);
  });
});
