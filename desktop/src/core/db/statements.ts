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

/** SQLite has no boolean: 1 or 0. */
export const flag = (b: boolean): number => (b ? 1 : 0);
