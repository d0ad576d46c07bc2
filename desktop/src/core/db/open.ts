import Database from 'better-sqlite3';
import { migrate, refuseNewer } from './migrate';

export type Db = Database.Database;

/** Opens (creating if needed) a workspace database: WAL, foreign keys on, migrated to this version. */
export function openDatabase(path: string): Db {
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 5000');
    // journal_mode = WAL rewrites the file's header: a database from a newer Revtrail is refused before it.
    refuseNewer(db);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
