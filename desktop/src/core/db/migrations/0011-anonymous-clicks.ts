export default `-- A click from a visitor who objected (the redirector's /optout, Global Privacy Control) or has not consented has no
-- visitor id: counted for its link, bound to no one. SQLite cannot drop NOT NULL in place, so the table is rebuilt
-- with its indexes (the procedure of https://www.sqlite.org/lang_altertable.html, section 7). NULL joins no visitor,
-- so attribution never sees such a click, and COUNT(DISTINCT visitor_id) leaves it out.
CREATE TABLE clicks_new (
  id TEXT PRIMARY KEY,
  slug TEXT NOT NULL,
  at INTEGER NOT NULL,
  visitor_id TEXT,
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
INSERT INTO clicks_new SELECT id, slug, at, visitor_id, referrer_host, referrer_url, device, browser, os, country, ip_hash,
  click_ids_json, utm_json, bot, bot_reason, duplicate, channel, campaign, partner_id FROM clicks;
DROP TABLE clicks;
ALTER TABLE clicks_new RENAME TO clicks;
CREATE INDEX clicks_visitor_at ON clicks (visitor_id, at);
CREATE INDEX clicks_at ON clicks (at);
CREATE INDEX clicks_report ON clicks (channel, at, visitor_id) WHERE bot = 0 AND duplicate = 0;
`;
