import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';
import { CUSTOMER_KEY_SQL } from './touchpoints-repo';

// SQL of the ledger rebuild: the money facts read in a few ordered scans, and the derived rows written back.

/** A succeeded charge with what its invoice says about subscriptions. */
export interface ChargeFact {
  id: string;
  created_at: number;
  amount_minor: number;
  currency: string;
  customer_id: string | null;
  customer_key: string;
  invoice_id: string | null;
  subscription_id: string | null;
  billing_reason: string | null;
  fee_minor: number | null;
  settlement_currency: string | null;
  exchange_rate: number | null;
}

export interface RefundFact {
  id: string;
  created_at: number;
  charge_id: string;
  amount_minor: number;
  currency: string;
}

export interface DisputeFact {
  id: string;
  created_at: number;
  charge_id: string;
  amount_minor: number;
  currency: string;
  status: string;
  /** When a sync first saw it in its current status, and first saw it at all. */
  status_seen_at: number | null;
  first_seen_at: number | null;
}

/** One ledger row, in the column order of the insert below. */
export type LedgerRowValues = [
  model: string,
  kind: string,
  at: number,
  chargeId: string,
  sourceId: string,
  customerKey: string,
  customerId: string | null,
  touchpointId: string | null,
  touchpointKind: string | null,
  touchpointAt: number | null,
  channel: string,
  slug: string | null,
  campaign: string | null,
  partnerId: string | null,
  weight: number,
  amountMinor: number,
  currency: string,
  convertedMinor: number | null,
  rate: number | null,
  rateDate: string | null,
  rateSource: string | null,
  provisional: number,
  unconverted: number,
  feeMinor: number | null,
  feeCurrency: string | null,
  feeConvertedMinor: number | null,
  subscriptionId: string | null,
  invoiceId: string | null,
  billingReason: string | null,
  renewal: number,
  conversion: number,
];

const stmts = statementsPerDb((db: Db) => ({
  charges: db.prepare<[], ChargeFact>(
    `SELECT ch.id, ch.created_at, ch.amount_captured_minor AS amount_minor, ch.currency, ch.customer_id,
       ${CUSTOMER_KEY_SQL('ch')} AS customer_key, ch.invoice_id, inv.subscription_id, inv.billing_reason,
       ch.fee_minor, ch.settlement_currency, ch.exchange_rate
     FROM stripe_charges ch LEFT JOIN stripe_invoices inv ON inv.id = ch.invoice_id
     WHERE ch.status = 'succeeded' AND ch.amount_captured_minor > 0
     ORDER BY ch.created_at, ch.id`,
  ),
  // A refund that failed or was canceled moved no money back.
  refunds: db.prepare<[], RefundFact>(
    `SELECT id, created_at, charge_id, amount_minor, currency FROM stripe_refunds
     WHERE charge_id IS NOT NULL AND amount_minor > 0 AND (status IS NULL OR status NOT IN ('failed', 'canceled'))
     ORDER BY created_at, id`,
  ),
  disputes: db.prepare<[], DisputeFact>(
    `SELECT d.id, d.created_at, d.charge_id, d.amount_minor, d.currency, d.status,
       (SELECT seen_at FROM attribution_dispute_seen s WHERE s.dispute_id = d.id AND s.status = d.status) AS status_seen_at,
       (SELECT min(seen_at) FROM attribution_dispute_seen s WHERE s.dispute_id = d.id) AS first_seen_at
     FROM stripe_disputes d ORDER BY d.created_at, d.id`,
  ),
  seeDisputes: db.prepare<[number]>(
    `INSERT INTO attribution_dispute_seen (dispute_id, status, seen_at) SELECT id, status, ? FROM stripe_disputes WHERE true
     ON CONFLICT (dispute_id, status) DO NOTHING`,
  ),
  clear: db.prepare(`DELETE FROM attribution_ledger`),
  insert: db.prepare<LedgerRowValues>(
    `INSERT INTO attribution_ledger (model, kind, at, charge_id, source_id, customer_key, customer_id, touchpoint_id, touchpoint_kind,
       touchpoint_at, channel, slug, campaign, partner_id, weight, amount_minor, currency, converted_minor, rate, rate_date, rate_source,
       provisional, unconverted, fee_minor, fee_currency, fee_converted_minor, subscription_id, invoice_id, billing_reason, renewal, conversion)
     VALUES (${Array(31).fill('?').join(', ')})`,
  ),
  build: db.prepare(
    `INSERT INTO attribution_build (id, built_at, window_days, currency, rows, took_ms) VALUES (1, @builtAt, @windowDays, @currency, @rows, @tookMs)
     ON CONFLICT (id) DO UPDATE SET built_at = excluded.built_at, window_days = excluded.window_days, currency = excluded.currency,
       rows = excluded.rows, took_ms = excluded.took_ms`,
  ),
  lastBuild: db.prepare<[], { built_at: number; window_days: number; currency: string; rows: number; took_ms: number }>(
    `SELECT built_at, window_days, currency, rows, took_ms FROM attribution_build WHERE id = 1`,
  ),
}));

/** Succeeded charges in (created_at, id) order. */
export const chargeFacts = (db: Db): ChargeFact[] => stmts(db).charges.all();
export const refundFacts = (db: Db): RefundFact[] => stmts(db).refunds.all();
export const disputeFacts = (db: Db): DisputeFact[] => stmts(db).disputes.all();

/** Notes, once per dispute and status, when a sync first saw it so (see attribution_dispute_seen). */
export const recordDisputesSeen = (db: Db, at: number): void => void stmts(db).seeDisputes.run(at);

export const clearLedger = (db: Db): void => void stmts(db).clear.run();

export function insertLedgerRows(db: Db, rows: readonly LedgerRowValues[]): void {
  const insert = stmts(db).insert;
  for (const r of rows) insert.run(...r);
}

export interface LedgerBuild {
  builtAt: number;
  windowDays: number;
  currency: string;
  rows: number;
  tookMs: number;
}

export const recordBuild = (db: Db, b: LedgerBuild): void => void stmts(db).build.run(b);

export function lastBuild(db: Db): LedgerBuild | null {
  const r = stmts(db).lastBuild.get();
  return r ? { builtAt: r.built_at, windowDays: r.window_days, currency: r.currency, rows: r.rows, tookMs: r.took_ms } : null;
}
