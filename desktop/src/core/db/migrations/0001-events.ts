export default `-- Events pulled from the user's redirector. Rows are immutable facts keyed by the redirector's ids, so
-- every pull is an idempotent insert; erasure deletes them.
CREATE TABLE links (
  slug TEXT PRIMARY KEY,
  destination TEXT NOT NULL,
  channel TEXT NOT NULL,
  campaign TEXT,
  partner_id TEXT,
  utm_json TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE clicks (
  id TEXT PRIMARY KEY,
  slug TEXT NOT NULL,
  at INTEGER NOT NULL,
  visitor_id TEXT NOT NULL,
  referrer_host TEXT,
  referrer_url TEXT,
  device TEXT NOT NULL,
  browser TEXT,
  os TEXT,
  country TEXT,
  ip_hash TEXT,
  click_ids_json TEXT NOT NULL,
  utm_json TEXT NOT NULL,
  bot INTEGER NOT NULL,
  bot_reason TEXT,
  duplicate INTEGER NOT NULL,
  channel TEXT NOT NULL,
  campaign TEXT,
  partner_id TEXT
) WITHOUT ROWID;
CREATE INDEX clicks_visitor_at ON clicks (visitor_id, at);
CREATE INDEX clicks_at ON clicks (at);

CREATE TABLE pageviews (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  visitor_id TEXT NOT NULL,
  url TEXT NOT NULL,
  referrer_host TEXT,
  referrer_url TEXT,
  click_ids_json TEXT NOT NULL,
  utm_json TEXT NOT NULL,
  ip_hash TEXT
) WITHOUT ROWID;
CREATE INDEX pageviews_visitor_at ON pageviews (visitor_id, at);

CREATE TABLE identities (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  visitor_id TEXT NOT NULL,
  email_hash TEXT NOT NULL,
  source TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX identities_email ON identities (email_hash);
CREATE INDEX identities_visitor ON identities (visitor_id);

-- Erasures seen, kept so an event pulled again later (at-least-once delivery) is not resurrected.
CREATE TABLE erasures (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  visitor_id TEXT,
  email_hash TEXT
) WITHOUT ROWID;
CREATE INDEX erasures_visitor ON erasures (visitor_id);

-- Where each pull stands: advanced in the same transaction as the rows it covers.
CREATE TABLE sync_cursors (
  feed TEXT PRIMARY KEY,
  cursor TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
`;
