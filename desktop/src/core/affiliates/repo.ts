import {
  initialState,
  nextState,
  type Duration,
  type LineCause,
  type LineEvent,
  type LineKind,
  type LineState,
  type PartnerOverride,
  type PayoutItem,
  type PayoutMethod,
  type ProgramRules,
  type Rate,
  type StatementLine,
} from '@revtrail/shared/commission/index';
import { CUSTOMER_KEY_SQL } from '../attribution/touchpoints-repo';
import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';
import type { BatchSummary, Binding, LedgerLine, Partner, PartnerStatus, Program } from './types';

// SQL of the affiliate program (migration 0006). Ledger lines and transitions are only ever inserted;
// a line's current state lives beside them in affiliate_line_states, written in the same statement group.

interface ProgramRow {
  id: string;
  name: string;
  rate_bp: number | null;
  flat_json: string | null;
  basis: ProgramRules['basis'];
  duration: Duration['kind'];
  duration_count: number | null;
  holding_days: number;
  minimums_json: string;
  cookie_days: number;
  binding: ProgramRules['binding'];
  starts_at: number;
  created_at: number;
}

/** The Wise columns the partner and batch-item tables share. */
interface WiseRow {
  wise_email: string | null;
  wise_name: string | null;
  wise_receiver_type: 'PERSON' | 'INSTITUTION' | null;
  wise_currency: string | null;
}

const wiseOf = (r: WiseRow): Partner['wise'] =>
  r.wise_email === null ? null : { email: r.wise_email, name: r.wise_name, receiverType: r.wise_receiver_type ?? 'PERSON', currency: r.wise_currency };

interface PartnerRow extends WiseRow {
  id: string;
  program_id: string;
  name: string;
  email: string;
  paypal_email: string | null;
  payout_method: PayoutMethod;
  country: string | null;
  status: PartnerStatus;
  own_visitor_ids_json: string;
  created_at: number;
  updated_at: number;
  o_rate_bp: number | null;
  o_flat_json: string | null;
  o_duration: Duration['kind'] | null;
  o_duration_count: number | null;
  o_minimums_json: string | null;
}

interface LineRow {
  id: string;
  kind: LineKind;
  cause: LineCause;
  partner_id: string;
  program_id: string;
  customer_key: string;
  charge_id: string;
  touchpoint_id: string | null;
  source_id: string;
  commission_id: string | null;
  terms_json: string;
  base_minor: number;
  amount_minor: number;
  currency: string;
  occurred_at: number;
  available_at: number;
  self_referral: string | null;
  created_at: number;
  state: LineState;
  batch_id: string | null;
}

interface BatchRow {
  id: string;
  period: string;
  method: PayoutMethod;
  currency: string;
  time_zone: string;
  period_from: number;
  period_to: number;
  total_minor: number;
  item_count: number;
  created_at: number;
  reference: string | null;
  paid_at: number | null;
}

const rateOf = (bp: number | null, flat: string | null): Rate | undefined =>
  bp !== null ? { kind: 'percent', basisPoints: bp } : flat !== null ? { kind: 'flat', amounts: JSON.parse(flat) as Record<string, number> } : undefined;

function programOf(r: ProgramRow): Program {
  return {
    id: r.id,
    name: r.name,
    rules: {
      rate: rateOf(r.rate_bp, r.flat_json)!,
      basis: r.basis,
      duration: { kind: r.duration, count: r.duration_count },
      holdingDays: r.holding_days,
      minimums: JSON.parse(r.minimums_json) as Record<string, number>,
      cookieDays: r.cookie_days,
      binding: r.binding,
    },
    startsAt: r.starts_at,
    createdAt: r.created_at,
  };
}

function partnerOf(r: PartnerRow): Partner {
  const override: PartnerOverride = {};
  const rate = rateOf(r.o_rate_bp, r.o_flat_json);
  if (rate) override.rate = rate;
  if (r.o_duration !== null) override.duration = { kind: r.o_duration, count: r.o_duration_count };
  if (r.o_minimums_json !== null) override.minimums = JSON.parse(r.o_minimums_json) as Record<string, number>;
  return {
    id: r.id,
    programId: r.program_id,
    name: r.name,
    email: r.email,
    paypalEmail: r.paypal_email,
    wise: wiseOf(r),
    payoutMethod: r.payout_method,
    country: r.country,
    status: r.status,
    ownVisitorIds: JSON.parse(r.own_visitor_ids_json) as string[],
    override: Object.keys(override).length ? override : null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function lineOf(r: LineRow): LedgerLine {
  return {
    id: r.id,
    kind: r.kind,
    cause: r.cause,
    partnerId: r.partner_id,
    programId: r.program_id,
    customerKey: r.customer_key,
    chargeId: r.charge_id,
    touchpointId: r.touchpoint_id,
    sourceId: r.source_id,
    commissionId: r.commission_id,
    terms: JSON.parse(r.terms_json) as ProgramRules,
    baseMinor: r.base_minor,
    amountMinor: r.amount_minor,
    currency: r.currency,
    occurredAt: r.occurred_at,
    availableAt: r.available_at,
    selfReferral: r.self_referral,
    state: r.state,
    batchId: r.batch_id,
    createdAt: r.created_at,
  };
}

const batchOf = (r: BatchRow): BatchSummary => ({
  id: r.id,
  period: r.period,
  method: r.method,
  currency: r.currency,
  timeZone: r.time_zone,
  periodFrom: r.period_from,
  periodTo: r.period_to,
  totalMinor: r.total_minor,
  itemCount: r.item_count,
  createdAt: r.created_at,
  reference: r.reference,
  paidAt: r.paid_at,
});

const PARTNER_SELECT = `SELECT p.*, o.rate_bp AS o_rate_bp, o.flat_json AS o_flat_json, o.duration AS o_duration,
  o.duration_count AS o_duration_count, o.minimums_json AS o_minimums_json
  FROM affiliate_partners p LEFT JOIN affiliate_overrides o ON o.partner_id = p.id`;

const LINE_SELECT = `SELECT l.*, t.terms_json, s.state, m.batch_id FROM affiliate_lines l
  JOIN affiliate_terms t ON t.id = l.terms_id
  JOIN affiliate_line_states s ON s.line_id = l.id
  LEFT JOIN affiliate_batch_lines m ON m.line_id = l.id`;

/**
 * Approved lines in no batch yet, available before @to: what a payout run may pay. Read through the partial
 * index of approved state rows (INDEXED BY: without statistics the planner prefers the (state,
 * available_at) index and then fetches every row, several times slower), which holds all the run sums
 * and is already in (partner, currency) order.
 */
const PAYABLE_WHERE = `s.state = 'approved' AND s.available_at < @to AND NOT EXISTS (SELECT 1 FROM affiliate_batch_lines m WHERE m.line_id = s.line_id)`;

/**
 * A run's scratch tables, the connection's own (made before the statements that read them): its (partner, currency)
 * -> batch pairs, and the payable lines read once for both the balances and the members.
 */
const RUN_TABLES = `CREATE TEMP TABLE IF NOT EXISTS affiliate_run_targets (
  partner_id TEXT NOT NULL, currency TEXT NOT NULL, batch_id TEXT NOT NULL, PRIMARY KEY (partner_id, currency)) WITHOUT ROWID;
CREATE TEMP TABLE IF NOT EXISTS affiliate_run_payable (
  partner_id TEXT NOT NULL, currency TEXT NOT NULL, line_id TEXT NOT NULL, kind TEXT NOT NULL, amount_minor INTEGER NOT NULL,
  PRIMARY KEY (partner_id, currency, line_id)) WITHOUT ROWID`;

const stmts = statementsPerDb((db: Db) => {
  db.exec(RUN_TABLES);
  return {
  insertProgram: db.prepare(
    `INSERT INTO affiliate_programs (id, name, rate_bp, flat_json, basis, duration, duration_count, holding_days, minimums_json, cookie_days, binding, starts_at, created_at)
     VALUES (@id, @name, @rateBp, @flatJson, @basis, @duration, @durationCount, @holdingDays, @minimumsJson, @cookieDays, @binding, @startsAt, @createdAt)`,
  ),
  programs: db.prepare<[], ProgramRow>(`SELECT * FROM affiliate_programs ORDER BY created_at, id`),
  programByRef: db.prepare<[string, string], ProgramRow>(`SELECT * FROM affiliate_programs WHERE id = ? OR name = ? COLLATE NOCASE`),
  insertPartner: db.prepare(
    `INSERT INTO affiliate_partners (id, program_id, name, email, paypal_email, wise_email, wise_name, wise_receiver_type, wise_currency,
       payout_method, country, status, own_visitor_ids_json, created_at, updated_at)
     VALUES (@id, @programId, @name, @email, @paypalEmail, @wiseEmail, @wiseName, @wiseReceiverType, @wiseCurrency,
       @payoutMethod, @country, @status, @ownVisitorIdsJson, @at, @at)`,
  ),
  updatePartner: db.prepare(
    `UPDATE affiliate_partners SET program_id = @programId, name = @name, email = @email, paypal_email = @paypalEmail, wise_email = @wiseEmail,
       wise_name = @wiseName, wise_receiver_type = @wiseReceiverType, wise_currency = @wiseCurrency, payout_method = @payoutMethod,
       country = @country, status = @status, own_visitor_ids_json = @ownVisitorIdsJson, updated_at = @at
     WHERE id = @id`,
  ),
  setOverride: db.prepare(
    `INSERT INTO affiliate_overrides (partner_id, rate_bp, flat_json, duration, duration_count, minimums_json, updated_at)
     VALUES (@partnerId, @rateBp, @flatJson, @duration, @durationCount, @minimumsJson, @at)
     ON CONFLICT (partner_id) DO UPDATE SET rate_bp = excluded.rate_bp, flat_json = excluded.flat_json, duration = excluded.duration,
       duration_count = excluded.duration_count, minimums_json = excluded.minimums_json, updated_at = excluded.updated_at`,
  ),
  clearOverride: db.prepare(`DELETE FROM affiliate_overrides WHERE partner_id = ?`),
  partners: db.prepare<[], PartnerRow>(`${PARTNER_SELECT} ORDER BY p.id`),
  partner: db.prepare<[string], PartnerRow>(`${PARTNER_SELECT} WHERE p.id = ?`),
  identityVisitors: db.prepare<[string], { visitor_id: string }>(
    `SELECT DISTINCT visitor_id FROM identities WHERE email_hash IN (SELECT value FROM json_each(?))`,
  ),

  // Only customers with some partner click in the widest cookie window before their first charge can bind:
  // the rest are passed over without asking for their touchpoints.
  unbound: db.prepare<{ windowMs: number }, { customer_key: string; customer_id: string | null; first_charge_id: string; first_charge_at: number; emails: string; visitors: string }>(
    `WITH paid AS (
       SELECT ${CUSTOMER_KEY_SQL('ch')} AS customer_key, ch.id, ch.customer_id, ch.created_at, ch.email_hash, ch.visitor_id
       FROM stripe_charges ch WHERE ch.status = 'succeeded' AND ch.amount_captured_minor > 0
     ), firsts AS (
       SELECT customer_key, customer_id, id, created_at, row_number() OVER (PARTITION BY customer_key ORDER BY created_at, id) AS n FROM paid
     ), known AS (
       SELECT customer_key,
         json_group_array(DISTINCT email_hash) FILTER (WHERE email_hash IS NOT NULL) AS emails,
         json_group_array(DISTINCT visitor_id) FILTER (WHERE visitor_id IS NOT NULL) AS visitors
       FROM paid GROUP BY customer_key
     )
     SELECT f.customer_key, f.customer_id, f.id AS first_charge_id, f.created_at AS first_charge_at, k.emails, k.visitors
     FROM firsts f JOIN known k ON k.customer_key = f.customer_key
     WHERE f.n = 1
       AND NOT EXISTS (SELECT 1 FROM affiliate_bindings b WHERE b.customer_key = f.customer_key)
       AND EXISTS (SELECT 1 FROM clicks c WHERE c.at BETWEEN f.created_at - @windowMs AND f.created_at AND c.partner_id IS NOT NULL)
     ORDER BY f.customer_key`,
  ),
  insertBinding: db.prepare(
    `INSERT INTO affiliate_bindings (customer_key, partner_id, program_id, rule, touchpoint_id, touchpoint_at, visitor_id, first_charge_id, first_charge_at, bound_at)
     VALUES (@customerKey, @partnerId, @programId, @rule, @touchpointId, @touchpointAt, @visitorId, @firstChargeId, @firstChargeAt, @boundAt)
     ON CONFLICT (customer_key) DO NOTHING`,
  ),
  bindings: db.prepare<{ partner: string | null }, { customer_key: string; partner_id: string; program_id: string; rule: Binding['rule']; touchpoint_id: string; touchpoint_at: number; visitor_id: string | null; first_charge_id: string; first_charge_at: number; bound_at: number }>(
    `SELECT * FROM affiliate_bindings WHERE @partner IS NULL OR partner_id = @partner ORDER BY bound_at, customer_key`,
  ),
  boundCharges: db.prepare<[], BoundChargeRow>(
    `SELECT ch.id, ch.created_at, ch.amount_captured_minor, ch.currency, ch.email_hash, ch.visitor_id, cu.email_hash AS customer_email_hash,
       b.customer_key, b.partner_id, b.program_id, b.touchpoint_id, b.visitor_id AS touch_visitor_id, b.first_charge_at,
       EXISTS (SELECT 1 FROM affiliate_lines l WHERE l.dedupe_key = 'commission:' || ch.id) AS done
     FROM stripe_charges ch
     JOIN affiliate_bindings b ON b.customer_key = ${CUSTOMER_KEY_SQL('ch')}
     LEFT JOIN stripe_customers cu ON cu.id = ch.customer_id
     WHERE ch.status = 'succeeded' AND ch.amount_captured_minor > 0
     ORDER BY b.customer_key, ch.created_at, ch.id`,
  ),

  insertLine: db.prepare(
    `INSERT INTO affiliate_lines (id, kind, cause, dedupe_key, partner_id, program_id, customer_key, charge_id, touchpoint_id, source_id,
       commission_id, terms_id, base_minor, amount_minor, currency, occurred_at, available_at, self_referral, created_at)
     VALUES (@id, @kind, @cause, @dedupeKey, @partnerId, @programId, @customerKey, @chargeId, @touchpointId, @sourceId,
       @commissionId, @termsId, @baseMinor, @amountMinor, @currency, @occurredAt, @availableAt, @selfReferral, @createdAt)
     ON CONFLICT (dedupe_key) DO NOTHING`,
  ),
  termsId: db.prepare<[string], { id: number }>(`SELECT id FROM affiliate_terms WHERE terms_json = ?`),
  insertTerms: db.prepare<[string]>(`INSERT INTO affiliate_terms (terms_json) VALUES (?)`),
  insertState: db.prepare(
    `INSERT INTO affiliate_line_states (line_id, state, since, partner_id, currency, kind, amount_minor, available_at)
     VALUES (@id, @state, @createdAt, @partnerId, @currency, @kind, @amountMinor, @availableAt)`,
  ),
  state: db.prepare<[string], { state: LineState }>(`SELECT state FROM affiliate_line_states WHERE line_id = ?`),
  setState: db.prepare(`UPDATE affiliate_line_states SET state = ?, since = ? WHERE line_id = ?`),
  setReversalStates: db.prepare(
    `UPDATE affiliate_line_states SET state = ?, since = ? WHERE line_id IN (SELECT id FROM affiliate_lines WHERE commission_id = ? AND kind = 'reversal')`,
  ),
  insertTransition: db.prepare(
    `INSERT INTO affiliate_transitions (line_id, event, from_state, to_state, at, cause_id, dedupe_key)
     VALUES (@lineId, @event, @from, @to, @at, @causeId, @dedupeKey) ON CONFLICT (dedupe_key) DO NOTHING`,
  ),
  transitionDone: db.prepare<[string], { one: number }>(`SELECT 1 AS one FROM affiliate_transitions WHERE dedupe_key = ?`),
  lineDone: db.prepare<[string], { one: number }>(`SELECT 1 AS one FROM affiliate_lines WHERE dedupe_key = ?`),
  line: db.prepare<[string], LineRow>(`${LINE_SELECT} WHERE l.id = ?`),
  taken: db.prepare<[string], { counted: number | null; taken: number | null }>(
    `SELECT sum(base_minor) AS counted, -sum(amount_minor) AS taken FROM affiliate_lines WHERE commission_id = ?`,
  ),
  inBatch: db.prepare<[string], { one: number }>(`SELECT 1 AS one FROM affiliate_batch_lines WHERE line_id = ?`),
  pendingRefunds: db.prepare<[], TakeBackSourceRow>(
    `SELECT r.id, r.created_at, r.amount_minor, l.id AS commission_id FROM stripe_refunds r
     JOIN affiliate_lines l ON l.kind = 'commission' AND l.charge_id = r.charge_id
     WHERE (r.status = 'succeeded' OR r.status IS NULL) AND l.self_referral IS NULL
       AND NOT EXISTS (SELECT 1 FROM affiliate_lines x WHERE x.dedupe_key = 'takeback:' || r.id)
     ORDER BY r.created_at, r.id`,
  ),
  disputes: db.prepare<[], TakeBackSourceRow & { status: string }>(
    `SELECT d.id, d.created_at, d.amount_minor, d.status, l.id AS commission_id FROM stripe_disputes d
     JOIN affiliate_lines l ON l.kind = 'commission' AND l.charge_id = d.charge_id
     WHERE l.self_referral IS NULL
     ORDER BY d.created_at, d.id`,
  ),
  // Set-based: a month's backlog of approvals is one statement pair, not a statement per line.
  approveTransitions: db.prepare<{ now: number }>(
    `INSERT INTO affiliate_transitions (line_id, event, from_state, to_state, at)
     SELECT line_id, 'approve', 'pending', 'approved', @now FROM affiliate_line_states
     WHERE state = 'pending' AND available_at <= @now AND kind <> 'reversal' ORDER BY available_at, line_id`,
  ),
  // Reversals carry their commission's availability, so they move with it here.
  approveStates: db.prepare<{ now: number }>(`UPDATE affiliate_line_states SET state = 'approved', since = @now WHERE state = 'pending' AND available_at <= @now`),
  lines: db.prepare<{ partner: string | null; state: string | null; from: number | null; to: number | null; batch: string | null }, LineRow>(
    `${LINE_SELECT}
     WHERE (@partner IS NULL OR l.partner_id = @partner) AND (@state IS NULL OR s.state = @state)
       AND (@from IS NULL OR l.occurred_at >= @from) AND (@to IS NULL OR l.occurred_at < @to)
       AND (@batch IS NULL OR m.batch_id = @batch)
     ORDER BY l.occurred_at, l.charge_id, l.kind = 'commission' DESC, l.id`,
  ),
  clearPayable: db.prepare(`DELETE FROM temp.affiliate_run_payable`),
  stagePayable: db.prepare<{ to: number }>(
    `INSERT INTO temp.affiliate_run_payable (partner_id, currency, line_id, kind, amount_minor)
     SELECT s.partner_id, s.currency, s.line_id, s.kind, s.amount_minor FROM affiliate_line_states s INDEXED BY affiliate_line_states_payable WHERE ${PAYABLE_WHERE}`,
  ),
  balances: db.prepare<[], BalanceRow>(
    `SELECT partner_id, currency,
       sum(CASE WHEN kind = 'clawback' THEN 0 ELSE amount_minor END) AS commission_minor,
       sum(CASE WHEN kind = 'clawback' THEN amount_minor ELSE 0 END) AS clawback_minor,
       sum(kind = 'commission') AS commission_count,
       count(*) AS line_count
     FROM temp.affiliate_run_payable GROUP BY partner_id, currency`,
  ),
  partnerTotals: db.prepare<[], { partner_id: string; currency: string; state: LineState; amount_minor: number }>(
    `SELECT partner_id, currency, state, sum(amount_minor) AS amount_minor FROM affiliate_line_states GROUP BY partner_id, currency, state`,
  ),

  insertBatch: db.prepare(
    `INSERT INTO affiliate_batches (id, period, method, currency, time_zone, period_from, period_to, total_minor, item_count, created_at)
     VALUES (@id, @period, @method, @currency, @timeZone, @periodFrom, @periodTo, @totalMinor, @itemCount, @createdAt)`,
  ),
  insertItem: db.prepare(
    `INSERT INTO affiliate_batch_items (batch_id, partner_id, name, email, paypal_email, wise_email, wise_name, wise_receiver_type, wise_currency,
       country, amount_minor, commission_minor, clawback_minor, commission_count)
     VALUES (@batchId, @partnerId, @name, @email, @paypalEmail, @wiseEmail, @wiseName, @wiseReceiverType, @wiseCurrency,
       @country, @amountMinor, @commissionMinor, @clawbackMinor, @commissionCount)`,
  ),
  clearTargets: db.prepare(`DELETE FROM temp.affiliate_run_targets`),
  addTarget: db.prepare(`INSERT INTO temp.affiliate_run_targets (partner_id, currency, batch_id) VALUES (?, ?, ?)`),
  // In line order: both of the table's b-trees (line_id, and batch_id then line_id) are then written at their
  // ends, not all over; in (partner, currency) order a backlog year's million members cost several times more.
  addMembers: db.prepare(
    `INSERT INTO affiliate_batch_lines (line_id, batch_id, partner_id, amount_minor)
     SELECT p.line_id, r.batch_id, p.partner_id, p.amount_minor
     FROM temp.affiliate_run_targets r JOIN temp.affiliate_run_payable p ON p.partner_id = r.partner_id AND p.currency = r.currency
     ORDER BY p.line_id`,
  ),
  memberTotals: db.prepare<[], { batch_id: string; partner_id: string; amount_minor: number; lines: number }>(
    `SELECT r.batch_id, r.partner_id, sum(p.amount_minor) AS amount_minor, count(*) AS lines FROM temp.affiliate_run_targets r
     JOIN temp.affiliate_run_payable p ON p.partner_id = r.partner_id AND p.currency = r.currency
     GROUP BY r.batch_id, r.partner_id`,
  ),
  batchIdsLike: db.prepare<[string, string], { id: string }>(`SELECT id FROM affiliate_batches WHERE id = ? OR id LIKE ? || '-%'`),
  batch: db.prepare<[string], BatchRow>(`SELECT * FROM affiliate_batches WHERE id = ?`),
  batches: db.prepare<{ period: string | null }, BatchRow>(`SELECT * FROM affiliate_batches WHERE @period IS NULL OR period = @period ORDER BY created_at, id`),
  items: db.prepare<[string], ItemRow>(`SELECT * FROM affiliate_batch_items WHERE batch_id = ? ORDER BY partner_id`),
  payMembers: db.prepare<{ batch: string; at: number }>(
    `INSERT INTO affiliate_transitions (line_id, event, from_state, to_state, at, cause_id)
     SELECT s.line_id, 'pay', s.state, 'paid', @at, @batch FROM affiliate_batch_lines m JOIN affiliate_line_states s ON s.line_id = m.line_id
     WHERE m.batch_id = @batch AND s.state = 'approved' AND s.kind <> 'reversal' ORDER BY s.line_id`,
  ),
  payStates: db.prepare<{ batch: string; at: number }>(
    `UPDATE affiliate_line_states SET state = 'paid', since = @at
     WHERE state = 'approved' AND line_id IN (SELECT line_id FROM affiliate_batch_lines WHERE batch_id = @batch)`,
  ),
  unpayableMembers: db.prepare<[string], { n: number }>(
    `SELECT count(*) AS n FROM affiliate_batch_lines m JOIN affiliate_line_states s ON s.line_id = m.line_id
     WHERE m.batch_id = ? AND s.state <> 'approved'`,
  ),
  markPaid: db.prepare(`UPDATE affiliate_batches SET reference = ?, paid_at = ? WHERE id = ? AND paid_at IS NULL`),
  };
});

interface BoundChargeRow {
  id: string;
  created_at: number;
  amount_captured_minor: number;
  currency: string;
  email_hash: string | null;
  visitor_id: string | null;
  customer_email_hash: string | null;
  customer_key: string;
  partner_id: string;
  program_id: string;
  touchpoint_id: string;
  touch_visitor_id: string | null;
  first_charge_at: number;
  done: number;
}

interface TakeBackSourceRow {
  id: string;
  created_at: number;
  amount_minor: number;
  commission_id: string;
}

interface BalanceRow {
  partner_id: string;
  currency: string;
  commission_minor: number;
  clawback_minor: number;
  commission_count: number;
  /** Lines of every kind. */
  line_count: number;
}

interface ItemRow extends WiseRow {
  batch_id: string;
  partner_id: string;
  name: string;
  email: string;
  paypal_email: string | null;
  country: string | null;
  amount_minor: number;
  commission_minor: number;
  clawback_minor: number;
  commission_count: number;
}

export type { BoundChargeRow, TakeBackSourceRow, BalanceRow };

// ---- programs and partners ----

export function insertProgram(db: Db, p: Program): void {
  const { rules } = p;
  stmts(db).insertProgram.run({
    id: p.id,
    name: p.name,
    rateBp: rules.rate.kind === 'percent' ? rules.rate.basisPoints : null,
    flatJson: rules.rate.kind === 'flat' ? JSON.stringify(rules.rate.amounts) : null,
    basis: rules.basis,
    duration: rules.duration.kind,
    durationCount: rules.duration.count,
    holdingDays: rules.holdingDays,
    minimumsJson: JSON.stringify(rules.minimums),
    cookieDays: rules.cookieDays,
    binding: rules.binding,
    startsAt: p.startsAt,
    createdAt: p.createdAt,
  });
}

export const listPrograms = (db: Db): Program[] => stmts(db).programs.all().map(programOf);

/** A program by id or (case-insensitive) name. */
export function findProgram(db: Db, ref: string): Program | null {
  const row = stmts(db).programByRef.get(ref, ref);
  return row ? programOf(row) : null;
}

/** A partner's Wise details as the partner and batch-item tables store them (a snapshot at payout). */
const wiseColumns = (wise: Partner['wise']) => ({
  wiseEmail: wise?.email ?? null,
  wiseName: wise?.name ?? null,
  wiseReceiverType: wise?.receiverType ?? null,
  wiseCurrency: wise?.currency ?? null,
});

function partnerParams(p: Partner, at: number) {
  return {
    id: p.id,
    programId: p.programId,
    name: p.name,
    email: p.email,
    paypalEmail: p.paypalEmail,
    ...wiseColumns(p.wise),
    payoutMethod: p.payoutMethod,
    country: p.country,
    status: p.status,
    ownVisitorIdsJson: JSON.stringify(p.ownVisitorIds),
    at,
  };
}

function writeOverride(db: Db, partnerId: string, o: PartnerOverride | null, at: number): void {
  if (!o) {
    stmts(db).clearOverride.run(partnerId);
    return;
  }
  stmts(db).setOverride.run({
    partnerId,
    rateBp: o.rate?.kind === 'percent' ? o.rate.basisPoints : null,
    flatJson: o.rate?.kind === 'flat' ? JSON.stringify(o.rate.amounts) : null,
    duration: o.duration?.kind ?? null,
    durationCount: o.duration?.count ?? null,
    minimumsJson: o.minimums ? JSON.stringify(o.minimums) : null,
    at,
  });
}

export function insertPartner(db: Db, p: Partner): void {
  db.transaction(() => {
    stmts(db).insertPartner.run(partnerParams(p, p.createdAt));
    writeOverride(db, p.id, p.override, p.createdAt);
  })();
}

export function updatePartner(db: Db, p: Partner, at: number): void {
  db.transaction(() => {
    stmts(db).updatePartner.run(partnerParams(p, at));
    writeOverride(db, p.id, p.override, at);
  })();
}

export const listPartners = (db: Db): Partner[] => stmts(db).partners.all().map(partnerOf);

export function getPartner(db: Db, id: string): Partner | null {
  const row = stmts(db).partner.get(id);
  return row ? partnerOf(row) : null;
}

/** Visitors identified (by the pixel) with one of these email hashes. */
export const visitorsOfEmails = (db: Db, emailHashes: readonly string[]): string[] =>
  emailHashes.length ? stmts(db).identityVisitors.all(JSON.stringify(emailHashes)).map((r) => r.visitor_id) : [];

// ---- bindings ----

export interface UnboundCustomer {
  customerKey: string;
  customerId: string | null;
  firstChargeId: string;
  firstChargeAt: number;
  emailHashes: string[];
  visitorIds: string[];
}

/**
 * Paying customers not bound to a partner yet that some partner click could bind (one within `windowMs`
 * before their first charge), with that charge and what identifies them on their charges.
 */
export function unboundCustomers(db: Db, windowMs: number): UnboundCustomer[] {
  return stmts(db)
    .unbound.all({ windowMs })
    .map((r) => ({
      customerKey: r.customer_key,
      customerId: r.customer_id,
      firstChargeId: r.first_charge_id,
      firstChargeAt: r.first_charge_at,
      emailHashes: JSON.parse(r.emails) as string[],
      visitorIds: JSON.parse(r.visitors) as string[],
    }));
}

export const insertBinding = (db: Db, b: Binding): boolean => stmts(db).insertBinding.run(b).changes > 0;

export function listBindings(db: Db, partnerId: string | null = null): Binding[] {
  return stmts(db)
    .bindings.all({ partner: partnerId })
    .map((r) => ({
      customerKey: r.customer_key,
      partnerId: r.partner_id,
      programId: r.program_id,
      rule: r.rule,
      touchpointId: r.touchpoint_id,
      touchpointAt: r.touchpoint_at,
      visitorId: r.visitor_id,
      firstChargeId: r.first_charge_id,
      firstChargeAt: r.first_charge_at,
      boundAt: r.bound_at,
    }));
}

/** Succeeded, captured charges of bound customers, per customer in charge order (`done` when it has its commission). */
export const boundCharges = (db: Db): BoundChargeRow[] => stmts(db).boundCharges.all();

// ---- ledger lines and transitions ----

/** A line as written: the stored line's fields without its state and batch, plus the key that keeps it written once. */
export type NewLine = Omit<LedgerLine, 'state' | 'batchId'> & { dedupeKey: string };

const termsIds = new WeakMap<Db, Map<string, number>>();

/** The id of a set of terms, stored the first time it is seen. */
function termsId(db: Db, terms: ProgramRules): number {
  let cache = termsIds.get(db);
  if (!cache) termsIds.set(db, (cache = new Map()));
  const json = JSON.stringify(terms);
  let id = cache.get(json);
  if (id === undefined) {
    const s = stmts(db);
    id = s.termsId.get(json)?.id ?? Number(s.insertTerms.run(json).lastInsertRowid);
    cache.set(json, id);
  }
  return id;
}

/**
 * Appends a line (nothing if its dedupe key is there already) with its state row: commissions and
 * clawbacks start where the state machine says, a reversal in its commission's state.
 */
export function insertLine(db: Db, line: NewLine): boolean {
  const s = stmts(db);
  const added = s.insertLine.run({ ...line, termsId: termsId(db, line.terms) }).changes > 0;
  if (!added) return false;
  const state = line.kind === 'reversal' ? s.state.get(line.commissionId!)!.state : initialState(line.kind, line.selfReferral !== null);
  s.insertState.run({ ...line, state });
  return true;
}

export const lineDone = (db: Db, dedupeKey: string): boolean => stmts(db).lineDone.get(dedupeKey) !== undefined;

export function getLine(db: Db, id: string): LedgerLine | null {
  const row = stmts(db).line.get(id);
  return row ? lineOf(row) : null;
}

/** Charge money counted and commission taken back so far against a commission. */
export function takenSoFar(db: Db, commissionId: string): { countedMinor: number; takenMinor: number } {
  const r = stmts(db).taken.get(commissionId)!;
  return { countedMinor: r.counted ?? 0, takenMinor: r.taken ?? 0 };
}

export const inBatch = (db: Db, lineId: string): boolean => stmts(db).inBatch.get(lineId) !== undefined;

export const lineState = (db: Db, lineId: string): LineState | null => stmts(db).state.get(lineId)?.state ?? null;

export const transitionDone = (db: Db, dedupeKey: string): boolean => stmts(db).transitionDone.get(dedupeKey) !== undefined;

/**
 * Moves a commission or clawback line by `event` if the state machine allows it from where it is;
 * a transition with a dedupe key happens at most once. Returns whether it happened.
 */
export function transition(db: Db, lineId: string, event: LineEvent, at: number, opts: { causeId?: string | null; dedupeKey?: string | null } = {}): boolean {
  const s = stmts(db);
  const from = s.state.get(lineId)?.state;
  if (!from) return false;
  const to = nextState(from, event);
  if (!to) return false;
  const written = s.insertTransition.run({ lineId, event, from, to, at, causeId: opts.causeId ?? null, dedupeKey: opts.dedupeKey ?? null }).changes;
  if (written === 0) return false;
  s.setState.run(to, at, lineId);
  s.setReversalStates.run(to, at, lineId);
  return true;
}

export const pendingRefunds = (db: Db): TakeBackSourceRow[] => stmts(db).pendingRefunds.all();

export const disputesOnCommissions = (db: Db): (TakeBackSourceRow & { status: string })[] => stmts(db).disputes.all();

/** Pending lines whose holding period is over become approved: one transition each (reversals follow). Call inside a transaction. */
export function approveDueLines(db: Db, now: number): number {
  const s = stmts(db);
  const n = s.approveTransitions.run({ now }).changes;
  s.approveStates.run({ now });
  return n;
}

export interface LineFilter {
  partnerId?: string | null;
  state?: LineState | null;
  from?: number | null;
  to?: number | null;
  batchId?: string | null;
}

export function listLines(db: Db, f: LineFilter = {}): LedgerLine[] {
  return stmts(db)
    .lines.all({ partner: f.partnerId ?? null, state: f.state ?? null, from: f.from ?? null, to: f.to ?? null, batch: f.batchId ?? null })
    .map(lineOf);
}

/** Per partner, currency and state: the sum of the lines (a reversal is in its commission's state). */
export const partnerTotals = (db: Db) => stmts(db).partnerTotals.all();

// ---- payouts ----

/** The `to` of the payable lines each connection staged last (a run's members are those its balances summed). */
const staged = new WeakMap<Db, number>();

/**
 * What each partner could be paid now: approved lines in no batch, available before `to`, per currency. Stages
 * those lines for addBatchMembers in the same transaction: read once, through the partial index, for both.
 */
export function payableBalances(db: Db, to: number): BalanceRow[] {
  const s = stmts(db);
  s.clearPayable.run();
  s.stagePayable.run({ to });
  staged.set(db, to);
  return s.balances.all();
}

export function insertBatch(db: Db, b: BatchSummary, items: PayoutItem[]): void {
  const s = stmts(db);
  s.insertBatch.run(b);
  for (const i of items) {
    s.insertItem.run({
      batchId: b.id,
      partnerId: i.partnerId,
      name: i.name,
      email: i.email,
      paypalEmail: i.paypalEmail,
      ...wiseColumns(i.wise),
      country: i.country,
      amountMinor: i.amountMinor,
      commissionMinor: i.commissionMinor,
      clawbackMinor: i.clawbackMinor,
      commissionCount: i.commissionCount,
    });
  }
}

/**
 * Makes every payable line (before `to`) of the given partner and currency pairs a member of its batch, in
 * one pass; returns each (batch, partner)'s member sum, keyed "batch partner". Call inside the transaction that
 * read payableBalances(to): the members are the lines it staged. Throws unless every one of them was written.
 */
export function addBatchMembers(db: Db, targets: readonly { batchId: string; partnerId: string; currency: string }[], to: number): Map<string, number> {
  const s = stmts(db);
  if (staged.get(db) !== to) payableBalances(db, to);
  s.clearTargets.run();
  for (const t of targets) s.addTarget.run(t.partnerId, t.currency, t.batchId);
  const written = s.addMembers.run().changes;
  const totals = s.memberTotals.all();
  const lines = totals.reduce((n, r) => n + r.lines, 0);
  // A plain INSERT of the staged rows: all of them are written or the statement fails, so the staged sums are the members'.
  if (written !== lines) throw new Error(`payout members: ${written} lines written, ${lines} staged`);
  s.clearTargets.run();
  releasePayable(db);
  return new Map(totals.map((r) => [`${r.batch_id} ${r.partner_id}`, r.amount_minor]));
}

/** Drops the lines payableBalances staged (a preview's, or a run's once its members are written). */
export function releasePayable(db: Db): void {
  stmts(db).clearPayable.run();
  staged.delete(db);
}

/** Ids taken by `base` or `base-N`. */
export const batchIdsLike = (db: Db, base: string): string[] => stmts(db).batchIdsLike.all(base, base).map((r) => r.id);

export function getBatch(db: Db, id: string): BatchSummary | null {
  const row = stmts(db).batch.get(id);
  return row ? batchOf(row) : null;
}

export const listBatches = (db: Db, period: string | null = null): BatchSummary[] => stmts(db).batches.all({ period }).map(batchOf);

export function batchItems(db: Db, batchId: string): PayoutItem[] {
  return stmts(db)
    .items.all(batchId)
    .map((r) => ({
      partnerId: r.partner_id,
      name: r.name,
      email: r.email,
      paypalEmail: r.paypal_email,
      wise: wiseOf(r),
      country: r.country,
      amountMinor: r.amount_minor,
      commissionMinor: r.commission_minor,
      clawbackMinor: r.clawback_minor,
      commissionCount: r.commission_count,
    }));
}

/** The lines one partner's payout in a batch consists of. */
export function statementLines(db: Db, batchId: string, partnerId: string): StatementLine[] {
  return listLines(db, { batchId, partnerId }).map((l) => ({
    id: l.id,
    kind: l.kind,
    cause: l.cause,
    at: l.occurredAt,
    chargeId: l.chargeId,
    sourceId: l.sourceId,
    baseMinor: l.baseMinor,
    amountMinor: l.amountMinor,
  }));
}

/**
 * Pays every line of a batch: one 'pay' transition each, the states to paid, the batch marked with its
 * reference. Throws if a member is not approved (lines in a batch are frozen, so that is a bug).
 */
export function payBatch(db: Db, batchId: string, reference: string, at: number): void {
  const s = stmts(db);
  const stuck = s.unpayableMembers.get(batchId)!.n;
  if (stuck > 0) throw new Error(`batch ${batchId}: ${stuck} lines are not approved`);
  s.payMembers.run({ batch: batchId, at });
  s.payStates.run({ batch: batchId, at });
  if (s.markPaid.run(reference, at, batchId).changes !== 1) throw new Error(`batch ${batchId} was already paid`);
}
