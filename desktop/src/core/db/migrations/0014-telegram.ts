export default `-- Telegram bot attribution (core/telegram/, docs/data-inventory.md): the bot links, the /start bindings and the
-- payments the redirector keeps, pulled like its other feeds. Rows are facts keyed by the redirector's ids.

-- The bot a link targets (its username): its clicks go to t.me/<bot>?start=<token>.
ALTER TABLE links ADD COLUMN telegram_bot TEXT;
-- A bot link's click: the SHA-256 digest of its start token (never the token), to join a start to it.
ALTER TABLE clicks ADD COLUMN telegram_start TEXT;
CREATE INDEX clicks_telegram_start ON clicks (telegram_start) WHERE telegram_start IS NOT NULL;

-- A Telegram user who pressed Start on a bot link, by a keyed hash of the user id (never the id, name or
-- username), bound to the visitor whose click minted the token: visitor_id and click_id as the redirector knew
-- them, null when the click had not reached its table yet (the click with the same telegram_start is it then).
CREATE TABLE telegram_starts (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  update_id INTEGER NOT NULL,
  user_hash TEXT NOT NULL,
  token_digest TEXT NOT NULL,
  visitor_id TEXT,
  click_id TEXT
) WITHOUT ROWID;
CREATE INDEX telegram_starts_user ON telegram_starts (user_hash);
CREATE INDEX telegram_starts_visitor ON telegram_starts (visitor_id);
CREATE INDEX telegram_starts_token ON telegram_starts (token_digest);
CREATE INDEX telegram_starts_started ON telegram_starts (started_at);

-- A payment to the bot (successful_payment) or its refund (refunded_payment), in its own currency: XTR for
-- Telegram Stars, whole Stars, never converted. user_hash is null for a payer erased on the redirector first, or
-- here (the money stays, the person goes).
CREATE TABLE telegram_payments (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
  paid_at INTEGER NOT NULL,
  update_id INTEGER NOT NULL,
  user_hash TEXT,
  currency TEXT NOT NULL,
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  charge_id TEXT NOT NULL,
  provider_charge_id TEXT,
  recurring INTEGER NOT NULL,
  UNIQUE (kind, charge_id)
) WITHOUT ROWID;
CREATE INDEX telegram_payments_user ON telegram_payments (user_hash);

-- The connected bot (one row). Its token, the webhook's secret token and the bot's previous webhook live in the
-- secret store, never here.
CREATE TABLE telegram_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  bot_id TEXT,
  bot_username TEXT,
  -- Where the Bot API is: Telegram's, or a fake on this machine in tests.
  api_base TEXT NOT NULL DEFAULT 'https://api.telegram.org',
  -- What setWebhook was given (the redirector's endpoint), and when; null until it was.
  webhook_url TEXT,
  webhook_set_at INTEGER,
  -- The host of the bot's previous webhook, which the redirector forwards every update to; null: none.
  forward_host TEXT,
  connected_at INTEGER,
  updated_at INTEGER NOT NULL
);
INSERT INTO telegram_settings (id, updated_at) VALUES (1, 0);

-- A Telegram user hash is an identifier a person is erased and found by: the two CHECKs widen (a table is
-- rebuilt to change one: https://www.sqlite.org/lang_altertable.html, section 7).
CREATE TABLE erased_subjects_new (
  digest TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('visitor', 'email', 'customer', 'telegram')),
  at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO erased_subjects_new SELECT digest, kind, at FROM erased_subjects;
DROP TABLE erased_subjects;
ALTER TABLE erased_subjects_new RENAME TO erased_subjects;

CREATE TABLE privacy_requests_new (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('find', 'export', 'erase')),
  scope TEXT NOT NULL CHECK (scope IN ('email', 'visitor', 'customer', 'telegram')),
  found_json TEXT NOT NULL,
  erased_json TEXT,
  cloud_json TEXT
);
INSERT INTO privacy_requests_new SELECT id, at, kind, scope, found_json, erased_json, cloud_json FROM privacy_requests;
DROP TABLE privacy_requests;
ALTER TABLE privacy_requests_new RENAME TO privacy_requests;
`;
