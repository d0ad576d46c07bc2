export default `-- The affiliate program.
-- Programs and partners are settings; bindings, ledger lines and transitions are derived from the Stripe
-- facts by affiliates/ledger.ts and are append-only: a refund or chargeback is a new line, a state change
-- is a new transition, and the money of a line is never edited (the triggers below refuse it).

CREATE TABLE affiliate_programs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  -- Exactly one of a percentage (basis points) and flat amounts per currency ({"USD": 500}).
  rate_bp INTEGER CHECK (rate_bp BETWEEN 1 AND 10000),
  flat_json TEXT,
  basis TEXT NOT NULL CHECK (basis IN ('gross', 'net')),
  duration TEXT NOT NULL CHECK (duration IN ('one_time', 'months', 'charges', 'lifetime')),
  duration_count INTEGER CHECK ((duration IN ('months', 'charges')) = (duration_count IS NOT NULL)),
  holding_days INTEGER NOT NULL DEFAULT 30 CHECK (holding_days >= 0),
  -- Minimum payout per currency, minor units ({"USD": 5000}); a currency not named has none.
  minimums_json TEXT NOT NULL DEFAULT '{}',
  cookie_days INTEGER NOT NULL DEFAULT 30 CHECK (cookie_days >= 1),
  binding TEXT NOT NULL DEFAULT 'first_click' CHECK (binding IN ('first_click', 'last_click')),
  -- Charges before this earn nothing, so adding a program does not pay out the past.
  starts_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  CHECK ((rate_bp IS NULL) <> (flat_json IS NULL))
) WITHOUT ROWID;

CREATE TABLE affiliate_partners (
  -- The partner id that tracking links carry (links.partner_id, clicks.partner_id).
  id TEXT PRIMARY KEY,
  program_id TEXT NOT NULL REFERENCES affiliate_programs (id),
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  paypal_email TEXT,
  wise_email TEXT,
  wise_name TEXT,
  wise_receiver_type TEXT CHECK (wise_receiver_type IN ('PERSON', 'INSTITUTION')),
  wise_currency TEXT,
  payout_method TEXT NOT NULL CHECK (payout_method IN ('paypal', 'wise', 'manual')),
  country TEXT,
  -- paused: earns, payouts wait; closed: binds and earns nothing new, what is owed is still paid.
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'closed')),
  -- Visitor ids the partner is known to browse with (JSON array), for the self-referral check.
  own_visitor_ids_json TEXT NOT NULL DEFAULT '[]',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- A partner's own rate, duration or minimums, over its program's.
CREATE TABLE affiliate_overrides (
  partner_id TEXT PRIMARY KEY REFERENCES affiliate_partners (id),
  rate_bp INTEGER CHECK (rate_bp BETWEEN 1 AND 10000),
  flat_json TEXT,
  duration TEXT CHECK (duration IN ('one_time', 'months', 'charges', 'lifetime')),
  duration_count INTEGER,
  minimums_json TEXT,
  updated_at INTEGER NOT NULL,
  CHECK (rate_bp IS NULL OR flat_json IS NULL)
) WITHOUT ROWID;

-- A customer bound to a partner, once, by its program's rule, from the touchpoints attribution uses.
CREATE TABLE affiliate_bindings (
  -- As attribution keys customers: the Stripe customer, else email:<hash>, else charge:<id>.
  customer_key TEXT PRIMARY KEY,
  partner_id TEXT NOT NULL REFERENCES affiliate_partners (id),
  program_id TEXT NOT NULL REFERENCES affiliate_programs (id),
  rule TEXT NOT NULL CHECK (rule IN ('first_click', 'last_click')),
  touchpoint_id TEXT NOT NULL,
  touchpoint_at INTEGER NOT NULL,
  visitor_id TEXT,
  first_charge_id TEXT NOT NULL,
  first_charge_at INTEGER NOT NULL,
  bound_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX affiliate_bindings_partner ON affiliate_bindings (partner_id);

-- The terms a commission was earned under (program rules with the partner's overrides), each distinct
-- set stored once and referenced by its lines.
CREATE TABLE affiliate_terms (
  id INTEGER PRIMARY KEY,
  terms_json TEXT NOT NULL UNIQUE
);

-- The commission ledger. A commission traces to its charge, click (touchpoint) and rule (program and the
-- terms applied); a reversal (refund or lost dispute before payout) and a clawback (after payout) trace to
-- the commission and to the refund or dispute.
CREATE TABLE affiliate_lines (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('commission', 'reversal', 'clawback')),
  cause TEXT NOT NULL CHECK (cause IN ('charge', 'refund', 'dispute')),
  -- commission:<charge id> or takeback:<refund or dispute id>: a sync run twice writes nothing twice.
  dedupe_key TEXT NOT NULL UNIQUE,
  partner_id TEXT NOT NULL REFERENCES affiliate_partners (id),
  program_id TEXT NOT NULL REFERENCES affiliate_programs (id),
  customer_key TEXT NOT NULL,
  charge_id TEXT NOT NULL,
  touchpoint_id TEXT,
  source_id TEXT NOT NULL,
  commission_id TEXT REFERENCES affiliate_lines (id),
  terms_id INTEGER NOT NULL REFERENCES affiliate_terms (id),
  base_minor INTEGER NOT NULL,
  amount_minor INTEGER NOT NULL,
  currency TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  -- When it may be paid: the end of the holding period (a reversal: its commission's; a clawback: at once).
  available_at INTEGER NOT NULL,
  -- Why it is a self-referral (never payable), or null.
  self_referral TEXT,
  created_at INTEGER NOT NULL,
  CHECK ((kind = 'commission') = (commission_id IS NULL))
) WITHOUT ROWID;
CREATE INDEX affiliate_lines_commission ON affiliate_lines (commission_id) WHERE commission_id IS NOT NULL;
CREATE INDEX affiliate_lines_charge ON affiliate_lines (charge_id);
CREATE INDEX affiliate_lines_partner ON affiliate_lines (partner_id, occurred_at);

CREATE TRIGGER affiliate_lines_append_only BEFORE UPDATE ON affiliate_lines
BEGIN
  SELECT RAISE(ABORT, 'affiliate_lines is append-only: write a reversal or clawback line instead');
END;

-- Every state change of a commission or clawback line, in order (shared/src/commission/states.ts).
-- Reversals have no transitions of their own: they follow the commission they reduce.
CREATE TABLE affiliate_transitions (
  id INTEGER PRIMARY KEY,
  line_id TEXT NOT NULL REFERENCES affiliate_lines (id),
  event TEXT NOT NULL CHECK (event IN ('approve', 'hold', 'release', 'reverse', 'pay')),
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  at INTEGER NOT NULL,
  -- The dispute, refund or payout batch behind it.
  cause_id TEXT,
  -- Set for transitions a Stripe object causes once (hold:<dispute id>), so a re-read does not repeat them.
  dedupe_key TEXT UNIQUE
);
CREATE INDEX affiliate_transitions_line ON affiliate_transitions (line_id);

CREATE TRIGGER affiliate_transitions_append_only BEFORE UPDATE ON affiliate_transitions
BEGIN
  SELECT RAISE(ABORT, 'affiliate_transitions is append-only');
END;

-- Each line's current state (a reversal's is its commission's): the last transition's to_state, or the
-- initial one, written with the transition. The line's partner, currency, kind, amount and availability
-- are copied here when the line is written (they never change), so a payout run reads this table's
-- partial index alone instead of looking up a million line rows.
CREATE TABLE affiliate_line_states (
  line_id TEXT PRIMARY KEY REFERENCES affiliate_lines (id),
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'held', 'paid', 'reversed', 'flagged')),
  since INTEGER NOT NULL,
  partner_id TEXT NOT NULL,
  currency TEXT NOT NULL,
  kind TEXT NOT NULL,
  amount_minor INTEGER NOT NULL,
  available_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX affiliate_line_states_due ON affiliate_line_states (state, available_at);
CREATE INDEX affiliate_line_states_payable ON affiliate_line_states (partner_id, currency, available_at, kind, amount_minor) WHERE state = 'approved';

-- One batch per payout method and currency of a run.
CREATE TABLE affiliate_batches (
  id TEXT PRIMARY KEY,
  period TEXT NOT NULL,
  method TEXT NOT NULL CHECK (method IN ('paypal', 'wise', 'manual')),
  currency TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  period_from INTEGER NOT NULL,
  period_to INTEGER NOT NULL,
  total_minor INTEGER NOT NULL,
  item_count INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  reference TEXT,
  paid_at INTEGER,
  CHECK ((reference IS NULL) = (paid_at IS NULL))
) WITHOUT ROWID;
CREATE INDEX affiliate_batches_period ON affiliate_batches (period);

-- Who is paid what in a batch, with the recipient details as they were when the batch was made (so an
-- export made later gives the same bytes).
CREATE TABLE affiliate_batch_items (
  batch_id TEXT NOT NULL REFERENCES affiliate_batches (id),
  partner_id TEXT NOT NULL REFERENCES affiliate_partners (id),
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  paypal_email TEXT,
  wise_email TEXT,
  wise_name TEXT,
  wise_receiver_type TEXT,
  wise_currency TEXT,
  country TEXT,
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  commission_minor INTEGER NOT NULL,
  clawback_minor INTEGER NOT NULL,
  commission_count INTEGER NOT NULL,
  PRIMARY KEY (batch_id, partner_id)
) WITHOUT ROWID;

-- The lines a batch pays or nets. A line is in at most one batch (line_id is the key, a UNIQUE
-- constraint), so nothing is ever paid twice. line_id has no REFERENCES: members are only ever selected
-- from the state rows of existing lines, and a foreign-key probe of the large lines table per member would
-- dominate a payout run.
CREATE TABLE affiliate_batch_lines (
  line_id TEXT NOT NULL PRIMARY KEY,
  batch_id TEXT NOT NULL REFERENCES affiliate_batches (id),
  partner_id TEXT NOT NULL,
  -- The line's amount, copied in the same statement that selects it, so the run sums its batches back
  -- without reading every line again.
  amount_minor INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX affiliate_batch_lines_batch ON affiliate_batch_lines (batch_id, partner_id, amount_minor);
`;
