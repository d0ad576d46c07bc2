export default `-- Currency reference rates (ECB daily history and the refresh log).
-- One row per publication day and quoted currency (the ECB's N/A cells are simply absent). The rate is an
-- integer, units of the currency per 1 EUR times 1,000,000: the ECB publishes at most six decimals, so the
-- stored value is exactly the published one and conversions can round exactly. Keyed by day first, so the
-- whole history reads in day order straight from the primary key.
CREATE TABLE fx_rates (
  day TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  currency TEXT NOT NULL CHECK (length(currency) = 3 AND currency = upper(currency) AND currency <> 'EUR'),
  micros_per_eur INTEGER NOT NULL CHECK (micros_per_eur > 0),
  -- Where the value came from first: the snapshot bundled with the app, or a download from the ECB.
  source TEXT NOT NULL CHECK (source IN ('snapshot', 'ecb')),
  PRIMARY KEY (day, currency)
) WITHOUT ROWID;

-- The refresh from the ECB: a single row, so "once a UTC day" and the status read one place.
CREATE TABLE fx_refresh (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last_attempt_at INTEGER,
  last_success_at INTEGER,
  -- The newest publication day in the last file downloaded successfully.
  newest_day TEXT,
  -- Why the last attempt failed; null after a success.
  error TEXT
);
INSERT INTO fx_refresh (id) VALUES (1);
`;
