export default `-- Privacy requests and the data lifecycle (docs/data-inventory.md lists what each column holds and for how long).

-- Who was erased, so a later sync never imports them again: only a digest of the identifier (privacy/digest.ts),
-- never the visitor id, email hash or customer id itself, which must not survive an erasure in any row.
CREATE TABLE erased_subjects (
  digest TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('visitor', 'email', 'customer')),
  at INTEGER NOT NULL
) WITHOUT ROWID;

-- The audit log of access, export and erasure requests: when, what kind, which kinds of identifier were given and
-- how many rows were found and erased. No identifier or personal data, so keeping it forever keeps no one.
CREATE TABLE privacy_requests (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('find', 'export', 'erase')),
  scope TEXT NOT NULL CHECK (scope IN ('email', 'visitor', 'customer')),
  -- {"clicks": 3, ...} locally, and what the cloud held or erased; null where the cloud could not be asked.
  found_json TEXT NOT NULL,
  erased_json TEXT,
  cloud_json TEXT
);

-- How long local events are kept, which Stripe metadata keys are kept, and the backups: one row.
CREATE TABLE data_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  retention_days INTEGER NOT NULL DEFAULT 365 CHECK (retention_days BETWEEN 30 AND 3650),
  metadata_keys_json TEXT NOT NULL DEFAULT '["revtrail_vid","client_reference_id"]',
  -- null: <data dir>/backups/<workspace id>.
  backup_dir TEXT,
  backup_every_hours INTEGER NOT NULL DEFAULT 24 CHECK (backup_every_hours BETWEEN 1 AND 720),
  backup_keep INTEGER NOT NULL DEFAULT 7 CHECK (backup_keep BETWEEN 1 AND 365),
  last_purge_at INTEGER,
  last_backup_at INTEGER,
  updated_at INTEGER NOT NULL
);
INSERT INTO data_settings (id, updated_at) VALUES (1, 0);

-- Commission lines stay (accounting records) when their customer is erased, with the customer key and the click
-- replaced by a tombstone id: those two columns may change, nothing else of a line ever does.
DROP TRIGGER affiliate_lines_append_only;
CREATE TRIGGER affiliate_lines_append_only BEFORE UPDATE OF id, kind, cause, dedupe_key, partner_id, program_id, charge_id,
  source_id, commission_id, terms_id, base_minor, amount_minor, currency, occurred_at, available_at, self_referral, created_at
  ON affiliate_lines
BEGIN
  SELECT RAISE(ABORT, 'affiliate_lines is append-only: write a reversal or clawback line instead');
END;

-- Stripe metadata was stored whole, and merchants put names and phone numbers there: keep only the join keys.
UPDATE stripe_charges SET metadata_json = (
  SELECT json_group_object(key, value) FROM json_each(stripe_charges.metadata_json) WHERE key IN ('revtrail_vid', 'client_reference_id'));
UPDATE stripe_subscriptions SET metadata_json = (
  SELECT json_group_object(key, value) FROM json_each(stripe_subscriptions.metadata_json) WHERE key IN ('revtrail_vid', 'client_reference_id'));
`;
