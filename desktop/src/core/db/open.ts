import Database from 'better-sqlite3';
import { migrate, refuseNewer } from './migrate';

export type Db = Database.Database;

/**
 * Set on every workspace connection after WAL. A checkpoint (with its two fsyncs) once the WAL holds 8,192
 * pages (32 MB) instead of SQLite's 1,000: a sync's write of thousands of clicks touches thousands of pages, so
 * with 1,000 nearly every write checkpointed, and the pages written again and again (the visitor index's, the
 * rollups') are copied to the database once per checkpoint. bench/sync.ts gives its reference inserts the same
 * (and the page cache a pull writes with: redirector/sync.ts, PULL_CACHE_KIB).
 */
export const WORKSPACE_PRAGMAS = ['synchronous = NORMAL', 'foreign_keys = ON', 'wal_autocheckpoint = 8192'] as const;

/** Opens (creating if needed) a workspace database: WAL, foreign keys on, migrated to this version. */
export function openDatabase(path: string): Db {
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 5000');
    // journal_mode = WAL rewrites the file's header: a database from a newer Revtrail is refused before it.
    refuseNewer(db);
    db.pragma('journal_mode = WAL');
    for (const pragma of WORKSPACE_PRAGMAS) db.pragma(pragma);
    migrate(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
