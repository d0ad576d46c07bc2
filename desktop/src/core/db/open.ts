import Database from 'better-sqlite3';
import { migrate } from './migrate';

export type Db = Database.Database;

/** Opens (creating if needed) a workspace database: WAL, foreign keys on, migrated to this version. */
export function openDatabase(path: string): Db {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
