import { beforeClickPurge } from '../attribution/click-days';
import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';

const stmts = statementsPerDb((db: Db) => ({
  clicks: db.prepare(`DELETE FROM clicks WHERE at < ?`),
  pageviews: db.prepare(`DELETE FROM pageviews WHERE at < ?`),
  identities: db.prepare(`DELETE FROM identities WHERE at < ?`),
  telegramStarts: db.prepare(`DELETE FROM telegram_starts WHERE started_at < ?`),
}));

export interface PurgeCounts {
  clicks: number;
  pageviews: number;
  identities: number;
  /** A Telegram bot's starts (a user bound to a visitor); the bot's payments are accounting records and stay. */
  telegramStarts: number;
}

/**
 * Deletes the events older than `before`; payments, refunds and the ledgers are accounting records and stay, and so
 * do the clicks' daily counts (click-days.ts: a number per day and link, their visitors dropped).
 */
export function purgeEventsBefore(db: Db, before: number): PurgeCounts {
  const s = stmts(db);
  return db.transaction(() => {
    beforeClickPurge(db, before);
    return {
      clicks: s.clicks.run(before).changes,
      pageviews: s.pageviews.run(before).changes,
      identities: s.identities.run(before).changes,
      telegramStarts: s.telegramStarts.run(before).changes,
    };
  })();
}
