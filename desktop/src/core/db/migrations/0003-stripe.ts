export default `-- Read from the workspace's Stripe account. Keyed by Stripe's own ids so every pull is an upsert; money in
-- the integer minor units Stripe gives, currencies uppercase, times in epoch ms. Emails only as keyed hashes.
CREATE TABLE stripe_customers (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  email_hash TEXT
) WITHOUT ROWID;
CREATE INDEX stripe_customers_email ON stripe_customers (email_hash);

CREATE TABLE stripe_charges (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  amount_minor INTEGER NOT NULL,
  amount_captured_minor INTEGER NOT NULL,
  amount_refunded_minor INTEGER NOT NULL,
  refunded INTEGER NOT NULL,
  disputed INTEGER NOT NULL,
  currency TEXT NOT NULL,
  customer_id TEXT,
  payment_intent_id TEXT,
  invoice_id TEXT,
  email_hash TEXT,
  visitor_id TEXT,
  metadata_json TEXT NOT NULL,
  -- From the expanded balance transaction; null when the key lacks the Balance permission.
  fee_minor INTEGER,
  net_minor INTEGER,
  settlement_currency TEXT,
  exchange_rate REAL
) WITHOUT ROWID;
CREATE INDEX stripe_charges_created ON stripe_charges (created_at);
CREATE INDEX stripe_charges_customer ON stripe_charges (customer_id);
CREATE INDEX stripe_charges_email ON stripe_charges (email_hash);
CREATE INDEX stripe_charges_visitor ON stripe_charges (visitor_id);

CREATE TABLE stripe_refunds (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  charge_id TEXT,
  amount_minor INTEGER NOT NULL,
  currency TEXT NOT NULL,
  status TEXT,
  reason TEXT
) WITHOUT ROWID;
CREATE INDEX stripe_refunds_charge ON stripe_refunds (charge_id);

CREATE TABLE stripe_disputes (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  charge_id TEXT NOT NULL,
  amount_minor INTEGER NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT
) WITHOUT ROWID;
CREATE INDEX stripe_disputes_charge ON stripe_disputes (charge_id);

CREATE TABLE stripe_subscriptions (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  customer_id TEXT NOT NULL,
  status TEXT NOT NULL,
  currency TEXT NOT NULL,
  canceled_at INTEGER,
  metadata_json TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX stripe_subscriptions_customer ON stripe_subscriptions (customer_id);

CREATE TABLE stripe_invoices (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  customer_id TEXT,
  subscription_id TEXT,
  billing_reason TEXT,
  status TEXT,
  currency TEXT NOT NULL,
  amount_paid_minor INTEGER NOT NULL,
  total_minor INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX stripe_invoices_subscription ON stripe_invoices (subscription_id);

-- Where the pull of each object type stands (sync.ts explains the scheme). Written in the same
-- transaction as the page it covers.
CREATE TABLE stripe_checkpoints (
  object_type TEXT PRIMARY KEY,
  -- Unix seconds: the next pass lists created >= this.
  created_gte INTEGER NOT NULL,
  -- A pass in progress: the newest created seen on its first page, and the last id written (starting_after).
  pass_top INTEGER,
  pass_after TEXT,
  api_version TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
`;
