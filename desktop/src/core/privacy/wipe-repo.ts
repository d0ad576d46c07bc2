import type { Db } from '../db/open';

/**
 * Runs `work` (deletes and the rebuilds after them) with secure_delete on, so what it deletes is overwritten with
 * zeros, then makes sure no earlier copy of the bytes is left: older deletes (ledger rebuilds, updates) may have
 * left them in free pages or in the free space of pages still in use, which only VACUUM rewrites, and the WAL holds
 * old page images until it is checkpointed and truncated. See https://www.sqlite.org/pragma.html#pragma_secure_delete
 * and https://www.sqlite.org/lang_vacuum.html.
 */
export async function withSecureDelete<T>(db: Db, work: () => T | Promise<T>): Promise<T> {
  const before = db.pragma('secure_delete', { simple: true }) as number;
  db.pragma('secure_delete = ON');
  try {
    const result = await work();
    db.exec('VACUUM');
    // Another connection (the sync worker) in the middle of a read holds the WAL: wait for it, briefly.
    for (let attempt = 0; ; attempt++) {
      const [checkpoint] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      if (!checkpoint || checkpoint.busy === 0) break;
      if (attempt >= 50) throw new Error('the WAL could not be truncated: another connection kept reading the workspace');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return result;
  } finally {
    db.pragma(`secure_delete = ${before}`);
  }
}

/** Free pages in the file: what a VACUUM would drop. */
export const freePages = (db: Db): number => db.pragma('freelist_count', { simple: true }) as number;
