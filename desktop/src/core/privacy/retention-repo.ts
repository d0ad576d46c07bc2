import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';

const stmts = statementsPerDb((db: Db) => ({
  clicks: db.prepare(`DELETE FROM clicks WHERE at < ?`),
  pageviews: db.prepare(`DELETE FROM pageviews WHERE at < ?`),
  identities: db.prepare(`DELETE FROM identities WHERE at < ?`),
}));

export interface PurgeCounts {
  clicks: number;
  pageviews: number;
  identities: number;
}

/** Deletes the events older than `before`; payments, refunds and the ledgers are accounting records and stay. */
export function purgeEventsBefore(db: Db, before: number): PurgeCounts {
  const s = stmts(db);
  return db.transaction(() => ({ clicks: s.clicks.run(before).changes, pageviews: s.pageviews.run(before).changes, identities: s.identities.run(before).changes }))();
}
