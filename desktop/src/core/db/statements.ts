import type { Statement } from 'better-sqlite3';
import type { Db } from './open';

/** Prepares a repo's statements once per database and hands the same set back on every call. */
export function statementsPerDb<T>(prepare: (db: Db) => T): (db: Db) => T {
  const cache = new WeakMap<Db, T>();
  return (db) => {
    let s = cache.get(db);
    if (s === undefined) cache.set(db, (s = prepare(db)));
    return s;
  };
}

/**
 * Statements whose SQL is built from arguments (a grouping, a filter): each text prepared on its first use, then
 * kept with the database's other statements.
 */
export function preparedOnDemand(db: Db): (sql: string) => Statement {
  const made = new Map<string, Statement>();
  return (sql) => {
    let s = made.get(sql);
    if (!s) made.set(sql, (s = db.prepare(sql)));
    return s;
  };
}

/** SQLite has no boolean: 1 or 0. */
export const flag = (b: boolean): number => (b ? 1 : 0);
