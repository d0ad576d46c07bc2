export default `-- Clicks and visitors per day and link, kept up to date as clicks are synced, so a report reads a month as a few
-- thousand rows instead of every click (core/attribution/click-days.ts). Bots and repeats are left out, as the
-- reports leave them out. Days are those of the reports' time zone (attribution_settings.time_zone); a report in
-- another zone counts the clicks themselves.
CREATE TABLE click_days (
  day TEXT NOT NULL,
  slug TEXT NOT NULL,
  channel TEXT NOT NULL,
  -- '' for none: a key column cannot be null (links refuse an empty campaign or partner id).
  campaign TEXT NOT NULL,
  partner_id TEXT NOT NULL,
  clicks INTEGER NOT NULL,
  -- A HyperLogLog sketch of the day's visitors (visitor-sketch.ts). Null once the day is past the retention
  -- period: its clicks are deleted, its count stays as history, its visitors are no longer counted.
  visitors BLOB,
  PRIMARY KEY (day, slug, channel, campaign, partner_id)
) WITHOUT ROWID;

-- time_zone: the zone the live days are counted in; null until they are counted from the clicks (a database that
-- already held clicks is counted at its next ledger build). live_from: the first day with visitors (null: all).
-- purged_before: clicks before it were deleted by the retention purge and stay counted in their days.
CREATE TABLE click_days_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  time_zone TEXT,
  live_from TEXT,
  purged_before INTEGER NOT NULL DEFAULT 0
);
INSERT INTO click_days_state (id, time_zone)
  SELECT 1, CASE WHEN EXISTS (SELECT 1 FROM clicks) THEN NULL ELSE (SELECT time_zone FROM attribution_settings WHERE id = 1) END;

-- Clicks deleted (an erasure) whose days are to be counted again; the deleting code does it in the same
-- transaction, and a report that finds any left counts the clicks themselves. A later migration that rebuilds
-- the clicks table must create this trigger again.
CREATE TABLE click_days_recount (
  at INTEGER NOT NULL,
  slug TEXT NOT NULL,
  channel TEXT NOT NULL,
  campaign TEXT,
  partner_id TEXT
);
CREATE TRIGGER click_days_deleted AFTER DELETE ON clicks
  WHEN old.bot = 0 AND old.duplicate = 0 AND (SELECT time_zone IS NOT NULL AND old.at >= purged_before FROM click_days_state WHERE id = 1)
BEGIN
  INSERT INTO click_days_recount (at, slug, channel, campaign, partner_id) VALUES (old.at, old.slug, old.channel, old.campaign, old.partner_id);
END;

-- Payout runs write their members in line order (affiliates/repo.ts): an index on batch_id (then line_id) is
-- written at its end like the table, where (batch_id, partner_id, amount_minor) was written all over the index.
DROP INDEX affiliate_batch_lines_batch;
CREATE INDEX affiliate_batch_lines_batch ON affiliate_batch_lines (batch_id);
`;
