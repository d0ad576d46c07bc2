import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/open';
import { flag, statementsPerDb } from '../db/statements';
import { erasedCheck } from '../privacy/erased-repo';
import { scrubCharge, scrubCustomerRef } from '../privacy/scrub';
import { listResourceStates } from '../sync-state/repo';

// SQL for what is read from Stripe. Every write is an upsert by Stripe id: a page read twice adds nothing,
// and a charge read again takes its new refund and dispute state.

export interface CustomerRow {
  id: string;
  createdAt: number;
  emailHash: string | null;
}

export interface ChargeRow {
  id: string;
  createdAt: number;
  status: string;
  amountMinor: number;
  amountCapturedMinor: number;
  amountRefundedMinor: number;
  refunded: boolean;
  disputed: boolean;
  currency: string;
  customerId: string | null;
  paymentIntentId: string | null;
  invoiceId: string | null;
  /** billing_details.email's hash; the customer's and then receipt_email's are the fallbacks, in that order. */
  billingEmailHash: string | null;
  receiptEmailHash: string | null;
  visitorId: string | null;
  metadataJson: string;
  feeMinor: number | null;
  netMinor: number | null;
  settlementCurrency: string | null;
  exchangeRate: number | null;
}

export interface RefundRow {
  id: string;
  createdAt: number;
  chargeId: string | null;
  amountMinor: number;
  currency: string;
  status: string | null;
  reason: string | null;
}

export interface DisputeRow {
  id: string;
  createdAt: number;
  chargeId: string;
  amountMinor: number;
  currency: string;
  status: string;
  reason: string | null;
}

export interface SubscriptionRow {
  id: string;
  createdAt: number;
  customerId: string;
  status: string;
  currency: string;
  canceledAt: number | null;
  metadataJson: string;
}

export interface InvoiceRow {
  id: string;
  createdAt: number;
  customerId: string | null;
  subscriptionId: string | null;
  billingReason: string | null;
  status: string | null;
  currency: string;
  amountPaidMinor: number;
  totalMinor: number;
}

export interface InvoicePaymentRow {
  id: string;
  createdAt: number;
  invoiceId: string;
  paymentIntentId: string | null;
  chargeId: string | null;
  status: string;
  amountPaidMinor: number | null;
  currency: string;
}

export interface Checkpoint {
  createdGte: number;
  passTop: number | null;
  passAfter: string | null;
}

export type StripeObjectType = 'customers' | 'charges' | 'refunds' | 'disputes' | 'subscriptions' | 'invoices' | 'invoice_payments';

const TABLE: Record<StripeObjectType, string> = {
  customers: 'stripe_customers',
  charges: 'stripe_charges',
  refunds: 'stripe_refunds',
  disputes: 'stripe_disputes',
  subscriptions: 'stripe_subscriptions',
  invoices: 'stripe_invoices',
  invoice_payments: 'stripe_invoice_payments',
};

function statements(db: Db) {
  const exists = Object.fromEntries(
    Object.entries(TABLE).map(([type, table]) => [type, db.prepare<[string]>(`SELECT 1 FROM ${table} WHERE id = ?`)]),
  ) as Record<StripeObjectType, Statement<[string]>>;
  const count = Object.fromEntries(
    Object.entries(TABLE).map(([type, table]) => [type, db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`)]),
  ) as Record<StripeObjectType, Statement<[], { n: number }>>;
  return {
    exists,
    count,
    customer: db.prepare(
      `INSERT INTO stripe_customers (id, created_at, email_hash) VALUES (@id, @createdAt, @emailHash)
       ON CONFLICT (id) DO UPDATE SET email_hash = excluded.email_hash`,
    ),
    // Only a real change counts as an update, so a re-read of an unchanged charge reports nothing.
    charge: db.prepare(
      `INSERT INTO stripe_charges (id, created_at, status, amount_minor, amount_captured_minor, amount_refunded_minor,
         refunded, disputed, currency, customer_id, payment_intent_id, invoice_id, email_hash, visitor_id, metadata_json,
         fee_minor, net_minor, settlement_currency, exchange_rate)
       VALUES (@id, @createdAt, @status, @amountMinor, @amountCapturedMinor, @amountRefundedMinor,
         @refunded, @disputed, @currency, @customerId, @paymentIntentId,
         COALESCE(@invoiceId, (SELECT invoice_id FROM stripe_invoice_payments WHERE payment_intent_id = @paymentIntentId AND status = 'paid' LIMIT 1)),
         COALESCE(@billingEmailHash, (SELECT email_hash FROM stripe_customers WHERE id = @customerId), @receiptEmailHash),
         @visitorId, @metadataJson, @feeMinor, @netMinor, @settlementCurrency, @exchangeRate)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, amount_captured_minor = excluded.amount_captured_minor,
         amount_refunded_minor = excluded.amount_refunded_minor, refunded = excluded.refunded, disputed = excluded.disputed,
         customer_id = excluded.customer_id, email_hash = excluded.email_hash, visitor_id = excluded.visitor_id,
         metadata_json = excluded.metadata_json,
         fee_minor = COALESCE(excluded.fee_minor, stripe_charges.fee_minor), net_minor = COALESCE(excluded.net_minor, stripe_charges.net_minor),
         settlement_currency = COALESCE(excluded.settlement_currency, stripe_charges.settlement_currency),
         exchange_rate = COALESCE(excluded.exchange_rate, stripe_charges.exchange_rate)
       WHERE stripe_charges.status IS NOT excluded.status OR stripe_charges.amount_captured_minor IS NOT excluded.amount_captured_minor
         OR stripe_charges.amount_refunded_minor IS NOT excluded.amount_refunded_minor OR stripe_charges.refunded IS NOT excluded.refunded
         OR stripe_charges.disputed IS NOT excluded.disputed OR stripe_charges.customer_id IS NOT excluded.customer_id
         OR stripe_charges.email_hash IS NOT excluded.email_hash OR stripe_charges.visitor_id IS NOT excluded.visitor_id
         OR stripe_charges.metadata_json IS NOT excluded.metadata_json
         OR (excluded.fee_minor IS NOT NULL AND stripe_charges.fee_minor IS NOT excluded.fee_minor)`,
    ),
    refund: db.prepare(
      `INSERT INTO stripe_refunds (id, created_at, charge_id, amount_minor, currency, status, reason)
       VALUES (@id, @createdAt, @chargeId, @amountMinor, @currency, @status, @reason)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, amount_minor = excluded.amount_minor, reason = excluded.reason
       WHERE stripe_refunds.status IS NOT excluded.status OR stripe_refunds.amount_minor IS NOT excluded.amount_minor`,
    ),
    dispute: db.prepare(
      `INSERT INTO stripe_disputes (id, created_at, charge_id, amount_minor, currency, status, reason)
       VALUES (@id, @createdAt, @chargeId, @amountMinor, @currency, @status, @reason)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, amount_minor = excluded.amount_minor, reason = excluded.reason
       WHERE stripe_disputes.status IS NOT excluded.status OR stripe_disputes.amount_minor IS NOT excluded.amount_minor`,
    ),
    subscription: db.prepare(
      `INSERT INTO stripe_subscriptions (id, created_at, customer_id, status, currency, canceled_at, metadata_json)
       VALUES (@id, @createdAt, @customerId, @status, @currency, @canceledAt, @metadataJson)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, canceled_at = excluded.canceled_at, metadata_json = excluded.metadata_json`,
    ),
    invoice: db.prepare(
      `INSERT INTO stripe_invoices (id, created_at, customer_id, subscription_id, billing_reason, status, currency, amount_paid_minor, total_minor)
       VALUES (@id, @createdAt, @customerId, @subscriptionId, @billingReason, @status, @currency, @amountPaidMinor, @totalMinor)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, amount_paid_minor = excluded.amount_paid_minor, total_minor = excluded.total_minor`,
    ),
    invoicePayment: db.prepare(
      `INSERT INTO stripe_invoice_payments (id, created_at, invoice_id, payment_intent_id, charge_id, status, amount_paid_minor, currency)
       VALUES (@id, @createdAt, @invoiceId, @paymentIntentId, @chargeId, @status, @amountPaidMinor, @currency)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, amount_paid_minor = excluded.amount_paid_minor`,
    ),
    // A charge read before its invoice's payment (basil shapes) learns its invoice here.
    chargeInvoice: db.prepare(
      `UPDATE stripe_charges SET invoice_id = @invoiceId
       WHERE invoice_id IS NULL AND ((@paymentIntentId IS NOT NULL AND payment_intent_id = @paymentIntentId) OR id = @chargeId)`,
    ),
    chargeCreated: db.prepare<[string], { created_at: number }>(`SELECT created_at FROM stripe_charges WHERE id = ?`),
    addHint: db.prepare(
      `INSERT INTO stripe_hints (object_type, id, since) VALUES (?, ?, ?) ON CONFLICT (object_type, id) DO NOTHING`,
    ),
    hints: db.prepare<[string, number], { object_type: StripeObjectType; id: string }>(
      `SELECT object_type, id FROM stripe_hints WHERE object_type NOT IN (SELECT value FROM json_each(?)) ORDER BY since, object_type, id LIMIT ?`,
    ),
    countHints: db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM stripe_hints`),
    dropHint: db.prepare(`DELETE FROM stripe_hints WHERE object_type = ? AND id = ?`),
    dropHintsBefore: db.prepare(`DELETE FROM stripe_hints WHERE object_type = ? AND since < ?`),
    // What may still change, for when events are out of reach (see sync.ts).
    unsettled: db.prepare<[], { object_type: StripeObjectType; id: string }>(
      `SELECT 'charges' AS object_type, id FROM stripe_charges WHERE status = 'pending'
       UNION ALL SELECT 'disputes', id FROM stripe_disputes WHERE status NOT IN ('won', 'lost', 'warning_closed', 'prevented')
       UNION ALL SELECT 'refunds', id FROM stripe_refunds WHERE status IN ('pending', 'requires_action')
       UNION ALL SELECT 'invoices', id FROM stripe_invoices WHERE status IN ('draft', 'open')
       UNION ALL SELECT 'subscriptions', id FROM stripe_subscriptions WHERE status NOT IN ('canceled', 'incomplete_expired')`,
    ),
    getCheckpoint: db.prepare(`SELECT created_gte, pass_top, pass_after FROM stripe_checkpoints WHERE object_type = ?`),
    setCheckpoint: db.prepare(
      `INSERT INTO stripe_checkpoints (object_type, created_gte, pass_top, pass_after, api_version, updated_at)
       VALUES (@type, @createdGte, @passTop, @passAfter, @apiVersion, @at)
       ON CONFLICT (object_type) DO UPDATE SET created_gte = excluded.created_gte, pass_top = excluded.pass_top,
         pass_after = excluded.pass_after, api_version = excluded.api_version, updated_at = excluded.updated_at`,
    ),
  };
}

const stmts = statementsPerDb(statements);

export interface UpsertCounts {
  added: number;
  updated: number;
}

/**
 * Upserts rows of one type; counts the ids new here and the (charge) rows whose state changed, and calls
 * `onChange` with every row that is new or changed.
 */
function upsert<R extends { id: string }>(db: Db, type: StripeObjectType, rows: R[], write: (row: R) => number, onChange?: (row: R) => void): UpsertCounts {
  const exists = stmts(db).exists[type];
  const counts = { added: 0, updated: 0 };
  for (const row of rows) {
    const existed = exists.get(row.id) !== undefined;
    const changed = write(row);
    if (!existed) counts.added += 1;
    else if (changed > 0 && type === 'charges') counts.updated += 1;
    if (!existed || changed > 0) onChange?.(row);
  }
  return counts;
}

// A person erased here is never imported again (privacy/erased-repo.ts): the check runs inside the write's
// transaction, so an erasure made while a pull runs holds for every page written after it.

/** An erased customer is not stored again; a customer of an erased email is, without the email hash. */
export function upsertCustomers(db: Db, rows: CustomerRow[]): UpsertCounts {
  const erased = erasedCheck(db);
  const kept = rows.filter((r) => !erased('customer', r.id)).map((r) => (erased('email', r.emailHash) ? { ...r, emailHash: null } : r));
  return upsert(db, 'customers', kept, (r) => stmts(db).customer.run(r).changes);
}

export function upsertCharges(db: Db, rows: ChargeRow[]): UpsertCounts {
  const erased = erasedCheck(db);
  return upsert(db, 'charges', rows.map((r) => scrubCharge(r, erased)), (r) => stmts(db).charge.run({ ...r, refunded: flag(r.refunded), disputed: flag(r.disputed) }).changes);
}

export const upsertRefunds = (db: Db, rows: RefundRow[], onChange?: (row: RefundRow) => void) =>
  upsert(db, 'refunds', rows, (r) => stmts(db).refund.run(r).changes, onChange);

export const upsertDisputes = (db: Db, rows: DisputeRow[], onChange?: (row: DisputeRow) => void) =>
  upsert(db, 'disputes', rows, (r) => stmts(db).dispute.run(r).changes, onChange);

export function upsertSubscriptions(db: Db, rows: SubscriptionRow[]): UpsertCounts {
  const erased = erasedCheck(db);
  return upsert(db, 'subscriptions', rows.map((r) => scrubCustomerRef(r, erased)), (r) => stmts(db).subscription.run(r).changes);
}

export function upsertInvoices(db: Db, rows: InvoiceRow[]): UpsertCounts {
  const erased = erasedCheck(db);
  return upsert(db, 'invoices', rows.map((r) => scrubCustomerRef(r, erased)), (r) => stmts(db).invoice.run(r).changes);
}

export function upsertInvoicePayments(db: Db, rows: InvoicePaymentRow[]): UpsertCounts {
  const s = stmts(db);
  return upsert(db, 'invoice_payments', rows, (r) => {
    const n = s.invoicePayment.run(r).changes;
    if (r.status === 'paid') s.chargeInvoice.run(r);
    return n;
  });
}

/** When a charge was created, if it is here. */
export const chargeCreatedAt = (db: Db, id: string): number | null => stmts(db).chargeCreated.get(id)?.created_at ?? null;

/** Marks objects to be read again by id (idempotent). */
export function addHints(db: Db, hints: { type: StripeObjectType; id: string }[], at: number): void {
  const add = stmts(db).addHint;
  for (const h of hints) add.run(h.type, h.id, at);
}

/** The oldest hints, leaving out those of types that wait for a later pull. */
export const nextHints = (db: Db, limit: number, except: readonly StripeObjectType[] = []) =>
  stmts(db).hints.all(JSON.stringify(except), limit).map((h) => ({ type: h.object_type, id: h.id }));

/** Objects waiting to be read again by id. */
export const countHints = (db: Db): number => stmts(db).countHints.get()!.n;

export const dropHint = (db: Db, type: StripeObjectType, id: string): void => void stmts(db).dropHint.run(type, id);

export const dropHintsBefore = (db: Db, type: StripeObjectType, before: number): void => void stmts(db).dropHintsBefore.run(type, before);

/** Objects whose state may still change: pending charges and refunds, open disputes and invoices, live subscriptions. */
export const unsettledObjects = (db: Db) => stmts(db).unsettled.all().map((h) => ({ type: h.object_type, id: h.id }));

export function getCheckpoint(db: Db, type: StripeObjectType | 'events'): Checkpoint {
  const row = stmts(db).getCheckpoint.get(type) as { created_gte: number; pass_top: number | null; pass_after: string | null } | undefined;
  return row ? { createdGte: row.created_gte, passTop: row.pass_top, passAfter: row.pass_after } : { createdGte: 0, passTop: null, passAfter: null };
}

export function setCheckpoint(db: Db, type: StripeObjectType | 'events', checkpoint: Checkpoint, apiVersion: string, at: number): void {
  stmts(db).setCheckpoint.run({ type, ...checkpoint, apiVersion, at });
}

export function stripeCounts(db: Db): Record<StripeObjectType, number> {
  const s = stmts(db);
  const n = (type: StripeObjectType) => s.count[type].get()!.n;
  return Object.fromEntries((Object.keys(TABLE) as StripeObjectType[]).map((t) => [t, n(t)])) as Record<StripeObjectType, number>;
}

/**
 * The time up to which the Stripe data here is complete: the oldest last good pull among the resources
 * (those named, when given) that have had one. A failed pull of a resource leaves its time where it was,
 * so a pull that failed moves nothing; a resource never read whole yet (nothing of it to be stale) does not
 * count. Null before any resource was pulled whole.
 */
export function lastStripePullAt(db: Db, resources?: readonly string[]): number | null {
  const times = listResourceStates(db, 'stripe')
    .filter((s) => resources === undefined || resources.includes(s.resource))
    .flatMap((s) => (s.lastPullAt === null ? [] : [s.lastPullAt]));
  return times.length === 0 ? null : Math.min(...times);
}
