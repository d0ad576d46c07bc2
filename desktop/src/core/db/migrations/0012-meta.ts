export default `-- Meta Conversions API forwarding (opt-in, per workspace; core/meta/). Nothing here is written while forwarding
-- is off, and turning it off deletes the signals kept for it (email hashes, user agents, browser ids).

-- The connection (one row). The access token lives in the secret store, never here.
CREATE TABLE meta_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  enabled INTEGER NOT NULL DEFAULT 0,
  pixel_id TEXT,
  test_event_code TEXT,
  -- Where the Graph API is: Meta's host, or a fake on this machine in tests.
  graph_base TEXT NOT NULL DEFAULT 'https://graph.facebook.com',
  -- When forwarding was last turned on: charges from 7 days before it on are candidates.
  enabled_at INTEGER,
  -- Why sending is held (Meta refused the token); cleared when Meta is connected again.
  paused_reason TEXT,
  updated_at INTEGER NOT NULL
);
INSERT INTO meta_settings (id, updated_at) VALUES (1, 0);

-- The outbox: one Purchase event per attributed charge, its state, and Meta's answer. event_id is the
-- PaymentIntent (or charge) id, so Meta deduplicates it against a browser pixel's copy.
CREATE TABLE meta_events (
  event_id TEXT PRIMARY KEY,
  charge_id TEXT NOT NULL UNIQUE,
  -- The journey's visitor ids (JSON array), so an erasure of any of them deletes the event.
  visitor_ids_json TEXT NOT NULL,
  event_time INTEGER NOT NULL,
  queued_at INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'skipped', 'failed')),
  -- The event as sent, without em and client_user_agent (kept in their own columns until sent).
  payload_json TEXT NOT NULL,
  em TEXT,
  user_agent TEXT,
  em_sent INTEGER NOT NULL DEFAULT 0,
  user_agent_sent INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  -- A send in flight: who took the event and when (a claim older than the lease was interrupted).
  claim TEXT,
  claimed_at INTEGER,
  sent_at INTEGER,
  api_version TEXT,
  -- Why it was skipped, failed or is waiting (Meta's error_user_msg when it gave one).
  reason TEXT,
  -- Meta's answer to the request the event went in.
  answer_json TEXT
) WITHOUT ROWID;
CREATE INDEX meta_events_due ON meta_events (state, next_attempt_at);
CREATE INDEX meta_events_queued ON meta_events (queued_at);

-- The user agent of a click that carried an fbclid (client_user_agent), kept at most 7 days.
CREATE TABLE meta_click_agents (
  click_id TEXT PRIMARY KEY,
  visitor_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  user_agent TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX meta_click_agents_visitor ON meta_click_agents (visitor_id, at);
CREATE INDEX meta_click_agents_at ON meta_click_agents (at);

-- Meta's _fbc and _fbp cookies as the pixel read them with a pageview, kept for the attribution window.
CREATE TABLE meta_browser_ids (
  pageview_id TEXT PRIMARY KEY,
  visitor_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  fbc TEXT,
  fbp TEXT
) WITHOUT ROWID;
CREATE INDEX meta_browser_ids_visitor ON meta_browser_ids (visitor_id, at);
CREATE INDEX meta_browser_ids_at ON meta_browser_ids (at);
`;
