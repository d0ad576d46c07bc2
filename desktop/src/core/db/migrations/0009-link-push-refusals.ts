export default `-- A link change the redirector refused (400/422... with its own reason) is kept, not retried by itself (it would
-- be refused again) and not lost: the user retries or discards it. A change still queued keeps the reason its last
-- try failed (the redirector unreachable, a proxy in the way), so status can say why it has not gone yet.
ALTER TABLE link_pushes ADD COLUMN state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'refused'));
ALTER TABLE link_pushes ADD COLUMN attempted_at INTEGER;
ALTER TABLE link_pushes ADD COLUMN status_code INTEGER;
ALTER TABLE link_pushes ADD COLUMN reason TEXT;
`;
