export default `-- The attribution ledger.
-- Settings of one workspace: a single row, so a read never has to pick between several.
CREATE TABLE attribution_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  model TEXT NOT NULL DEFAULT 'last_click' CHECK (model IN ('last_click', 'first_click', 'linear', 'last_non_direct')),
  window_days INTEGER NOT NULL DEFAULT 30 CHECK (window_days BETWEEN 1 AND 365),
  currency TEXT NOT NULL DEFAULT 'USD',
  time_zone TEXT NOT NULL DEFAULT 'UTC',
  -- The user's channel grouping as JSON (shared/src/attribution/channels.ts); null = the shipped default.
  channel_rules_json TEXT,
  updated_at INTEGER NOT NULL
);
INSERT INTO attribution_settings (id, updated_at) VALUES (1, 0);

-- The ledger: one row per money event and credited touchpoint, for every model at once (so the model
-- comparison and a model override read rows instead of recomputing). Where all four models credit an event
-- the same way (one touchpoint in the window, or none) its rows are written once with model 'all', which
-- keeps the table near one row per event; a report of one model reads model IN (that model, 'all').
-- Money events are never written by
-- editing a row: a refund, a dispute and its outcome are rows of their own, on their own dates, attached to
-- the charge's attribution. The whole table is derived from the facts (clicks, pageviews, identities,
-- stripe_*) and the settings, so a rebuild (window, rules or currency changed, or new facts synced) replaces
-- it wholesale in one transaction; the same facts give the same rows.
CREATE TABLE attribution_ledger (
  id INTEGER PRIMARY KEY,
  model TEXT NOT NULL CHECK (model IN ('all', 'last_click', 'first_click', 'linear', 'last_non_direct')),
  kind TEXT NOT NULL CHECK (kind IN ('charge', 'refund', 'dispute_opened', 'dispute_reinstated', 'dispute_lost')),
  -- When this money moved (the charge's, refund's or dispute's own date).
  at INTEGER NOT NULL,
  -- The Stripe objects it comes from: the charge always, and the refund or dispute for those kinds.
  charge_id TEXT NOT NULL,
  source_id TEXT NOT NULL,
  -- Whom it is about: the Stripe customer, or for a guest charge a stand-in (email:<hash>, charge:<id>).
  customer_key TEXT NOT NULL,
  customer_id TEXT,
  -- What is credited: a click or pageview id, or null for Direct (no touchpoint in the window).
  touchpoint_id TEXT,
  touchpoint_kind TEXT CHECK (touchpoint_kind IN ('click', 'pageview')),
  touchpoint_at INTEGER,
  channel TEXT NOT NULL,
  slug TEXT,
  campaign TEXT,
  partner_id TEXT,
  weight REAL NOT NULL,
  -- This row's share of the event in the charge's own currency (parts of one event sum exactly).
  amount_minor INTEGER NOT NULL,
  currency TEXT NOT NULL,
  -- The share in the reporting currency; null when the currency could not be converted (unconverted = 1).
  converted_minor INTEGER,
  rate REAL,
  rate_date TEXT,
  rate_source TEXT,
  provisional INTEGER NOT NULL DEFAULT 0,
  unconverted INTEGER NOT NULL DEFAULT 0,
  -- Stripe's fee for a charge row, in the settlement currency, when the key may read balance transactions.
  fee_minor INTEGER,
  fee_currency TEXT,
  fee_converted_minor INTEGER,
  subscription_id TEXT,
  invoice_id TEXT,
  billing_reason TEXT,
  -- 1 when the row belongs to a renewal, upgrade or downgrade that inherits the first payment's attribution.
  renewal INTEGER NOT NULL DEFAULT 0,
  -- 1 on a charge row that counts as a conversion (a one-off payment or a subscription's first payment).
  conversion INTEGER NOT NULL DEFAULT 0
);
-- Reports filter one model and a date range, then group by channel, link, campaign or day.
CREATE INDEX attribution_ledger_model_at ON attribution_ledger (model, at);
CREATE INDEX attribution_ledger_customer ON attribution_ledger (customer_key, at);

-- The settings the ledger was last built with, and how long it took.
CREATE TABLE attribution_build (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  built_at INTEGER NOT NULL,
  window_days INTEGER NOT NULL,
  currency TEXT NOT NULL,
  rows INTEGER NOT NULL,
  took_ms INTEGER NOT NULL
);

-- When a dispute was first seen in each status. Stripe's dispute keeps only its creation date, so the day
-- a dispute was won or lost is the day a sync first saw it so; one seen already closed is dated at its
-- opening. Observations, not derived data: a rebuild reads them and never deletes them.
CREATE TABLE attribution_dispute_seen (
  dispute_id TEXT NOT NULL,
  status TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (dispute_id, status)
) WITHOUT ROWID;

-- The channels report counts clicks and unique visitors of each channel over a range: one range of this
-- index per channel, answered without touching the click rows and without sorting them by channel.
CREATE INDEX clicks_report ON clicks (channel, at, visitor_id) WHERE bot = 0 AND duplicate = 0;
`;
