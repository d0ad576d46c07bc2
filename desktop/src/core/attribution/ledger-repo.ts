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

/** A succeeded charge of a subscription: what tells its first payment. */
export interface SubscriptionCharge {
  id: string;
  subscription_id: string;
  billing_reason: string | null;
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

/** Which charges the ledger credits: those that moved money. */
const CREDITED = `ch.status = 'succeeded' AND ch.amount_captured_minor > 0`;
/** A refund that failed or was canceled moved no money back. */
const REFUNDED = `charge_id IS NOT NULL AND amount_minor > 0 AND (status IS NULL OR status NOT IN ('failed', 'canceled'))`;

const stmts = statementsPerDb((db: Db) => ({
  // A page at a time after the last one read (keyset on stripe_charges_created, which holds (created_at, id)),
  // so a rebuild never holds every charge: a charge read whole costs about 1 KB of heap.
  charges: db.prepare<{ at: number; id: string; limit: number }, ChargeFact>(
    `SELECT ch.id, ch.created_at, ch.amount_captured_minor AS amount_minor, ch.currency, ch.customer_id,
       ${CUSTOMER_KEY_SQL('ch')} AS customer_key, ch.invoice_id, inv.subscription_id, inv.billing_reason,
       ch.fee_minor, ch.settlement_currency, ch.exchange_rate
     FROM stripe_charges ch LEFT JOIN stripe_invoices inv ON inv.id = ch.invoice_id
     WHERE ${CREDITED} AND (ch.created_at, ch.id) > (@at, @id)
     ORDER BY ch.created_at, ch.id LIMIT @limit`,
  ),
  subscriptionCharges: db.prepare<[], SubscriptionCharge>(
    `SELECT ch.id, inv.subscription_id, inv.billing_reason
     FROM stripe_charges ch JOIN stripe_invoices inv ON inv.id = ch.invoice_id
     WHERE ${CREDITED} AND inv.subscription_id IS NOT NULL
     ORDER BY ch.created_at, ch.id`,
  ),
  refunds: db.prepare<[string], RefundFact>(
    `SELECT id, created_at, charge_id, amount_minor, currency FROM stripe_refunds
     WHERE charge_id IN (SELECT value FROM json_each(?)) AND ${REFUNDED}
     ORDER BY created_at, id`,
  ),
  disputes: db.prepare<[string], DisputeFact>(
    `SELECT d.id, d.created_at, d.charge_id, d.amount_minor, d.currency, d.status,
       (SELECT seen_at FROM attribution_dispute_seen s WHERE s.dispute_id = d.id AND s.status = d.status) AS status_seen_at,
       (SELECT min(seen_at) FROM attribution_dispute_seen s WHERE s.dispute_id = d.id) AS first_seen_at
     FROM stripe_disputes d WHERE d.charge_id IN (SELECT value FROM json_each(?)) ORDER BY d.created_at, d.id`,
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

/**
 * Succeeded charges in (created_at, id) order, `size` at a time. Each page is read whole before it is given,
 * so the caller may write between pages (better-sqlite3 refuses writes while a statement is iterating).
 */
export function* chargeFactPages(db: Db, size: number): Generator<ChargeFact[]> {
  let after = { at: Number.MIN_SAFE_INTEGER, id: '' };
  for (;;) {
    const page = stmts(db).charges.all({ ...after, limit: size });
    if (page.length > 0) yield page;
    if (page.length < size) return;
    const last = page[page.length - 1]!;
    after = { at: last.created_at, id: last.id };
  }
}

/** The succeeded charges paying a subscription's invoice, in (created_at, id) order, one at a time. */
export const subscriptionCharges = (db: Db): IterableIterator<SubscriptionCharge> => stmts(db).subscriptionCharges.iterate();

/** The refunds that moved money back, of the given charges, in (created_at, id) order. */
export const refundFactsOf = (db: Db, chargeIds: readonly string[]): RefundFact[] => stmts(db).refunds.all(JSON.stringify(chargeIds));
/** The disputes of the given charges, in (created_at, id) order. */
export const disputeFactsOf = (db: Db, chargeIds: readonly string[]): DisputeFact[] => stmts(db).disputes.all(JSON.stringify(chargeIds));

/** Notes, once per dispute and status, when a sync first saw it so (see attribution_dispute_seen). */
export const recordDisputesSeen = (db: Db, at: number): void => void stmts(db).seeDisputes.run(at);

export const clearLedger = (db: Db): void => void stmts(db).clear.run();

export const insertLedgerRow = (db: Db, row: LedgerRowValues): void => void stmts(db).insert.run(...row);

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
