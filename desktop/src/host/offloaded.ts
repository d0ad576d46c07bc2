/**
 * The calls that hold a thread for seconds, run by the core process's worker thread (a second core over the
 * same data folder), so that a status or report call is never queued behind one: a sync and its ledger
 * rebuild, a rebuild asked for, a setting that rebuilds, a rates refresh that rebuilds; a backup (SQLite's
 * online backup and its encryption); a restore, which writes through SQLite's backup API into the live
 * database, so the main thread's connection reads the restored data at its next query; an erasure and the
 * retention purge, which VACUUM the database and rebuild the ledger. offload.test.ts checks that the main
 * thread's core sees what these did.
 */
export const OFFLOADED_METHODS: ReadonlySet<string> = new Set([
  'sync.redirector',
  'sync.stripe',
  'sync.webhookHints',
  'attribution.rebuild',
  'settings.set',
  'fx.refresh',
  'backup.create',
  'backup.restore',
  'privacy.erase',
  'privacy.purge',
]);
