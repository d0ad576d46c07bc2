export default `-- Each redirector feed and each Stripe resource is pulled and checkpointed on its own. A resource that fails
-- (an endpoint the server lacks, a permission missing, a timeout) keeps its last good pull time and says why it
-- failed, while the others complete: last_pull_at is set only by a pull of that resource that succeeded.
CREATE TABLE sync_resources (
  source TEXT NOT NULL CHECK (source IN ('redirector', 'stripe')),
  resource TEXT NOT NULL,
  last_pull_at INTEGER,
  last_attempt_at INTEGER NOT NULL,
  error_code TEXT,
  error_message TEXT,
  PRIMARY KEY (source, resource)
) WITHOUT ROWID;
`;
