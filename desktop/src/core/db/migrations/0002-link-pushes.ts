export default `-- Link changes made on this machine, waiting to be pushed to the redirector (the latest edit per slug).
CREATE TABLE link_pushes (
  slug TEXT PRIMARY KEY,
  input_json TEXT NOT NULL,
  queued_at INTEGER NOT NULL
) WITHOUT ROWID;
`;
