import { forEachQuoted, type RateTable } from '@revtrail/shared/fx/ecb';
import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';

// SQL for the ECB rate history (fx_rates) and its refresh log (fx_refresh, one row).

export type RateRowSource = 'snapshot' | 'ecb';

export interface RefreshLog {
  lastAttemptAt: number | null;
  lastSuccessAt: number | null;
  newestDay: string | null;
  error: string | null;
}

function statements(db: Db) {
  return {
    // The snapshot only fills in: a value already here came from it or from the ECB itself.
    add: db.prepare<[string, string, number]>(
      `INSERT INTO fx_rates (day, currency, micros_per_eur, source) VALUES (?, ?, ?, 'snapshot') ON CONFLICT (day, currency) DO NOTHING`,
    ),
    // A download also corrects; an unchanged value keeps its row and its source.
    upsert: db.prepare<[string, string, number]>(
      `INSERT INTO fx_rates (day, currency, micros_per_eur, source) VALUES (?, ?, ?, 'ecb')
       ON CONFLICT (day, currency) DO UPDATE SET micros_per_eur = excluded.micros_per_eur, source = excluded.source
       WHERE fx_rates.micros_per_eur <> excluded.micros_per_eur`,
    ),
    // One JSON object per day, built inside SQLite: far fewer crossings into JS than one row per rate.
    byDay: db.prepare<[], [string, string]>(`SELECT day, json_group_object(currency, micros_per_eur) FROM fx_rates GROUP BY day ORDER BY day`).raw(true),
    newest: db.prepare<[], { day: string; source: RateRowSource; currencies: number }>(
      `SELECT day, CASE WHEN sum(source = 'ecb') > 0 THEN 'ecb' ELSE 'snapshot' END AS source, count(*) AS currencies
       FROM fx_rates WHERE day = (SELECT max(day) FROM fx_rates) GROUP BY day`,
    ),
    days: db.prepare<[], { n: number }>(`SELECT count(DISTINCT day) AS n FROM fx_rates`),
    log: db.prepare<[], { last_attempt_at: number | null; last_success_at: number | null; newest_day: string | null; error: string | null }>(
      `SELECT last_attempt_at, last_success_at, newest_day, error FROM fx_refresh WHERE id = 1`,
    ),
    success: db.prepare<[{ at: number; newestDay: string }]>(
      `UPDATE fx_refresh SET last_attempt_at = @at, last_success_at = @at, newest_day = @newestDay, error = NULL WHERE id = 1`,
    ),
    failure: db.prepare<[number, string]>(`UPDATE fx_refresh SET last_attempt_at = ?, error = ? WHERE id = 1`),
  };
}

const stmts = statementsPerDb(statements);

/**
 * Writes every quoted cell of `table`: the bundled snapshot adds what is missing, an ECB download also
 * replaces values that differ. Returns the rows added or changed. Run it inside a transaction.
 */
export function writeRates(db: Db, table: RateTable, source: RateRowSource): number {
  const write = source === 'ecb' ? stmts(db).upsert : stmts(db).add;
  let written = 0;
  forEachQuoted(table, (day, currency, micros) => {
    written += write.run(day, currency, micros).changes;
  });
  return written;
}

/** Every stored day with its rates (currency -> micros per EUR), days ascending. */
export function ratesByDay(db: Db): [day: string, rates: Record<string, number>][] {
  return stmts(db).byDay.all().map(([day, json]) => [day, JSON.parse(json) as Record<string, number>]);
}

/** The newest publication day here, where its rates came from ('ecb' if any of them was downloaded), and how many currencies it quotes. */
export function newestRates(db: Db): { day: string; source: RateRowSource; currencies: number } | null {
  return stmts(db).newest.get() ?? null;
}

export const rateDayCount = (db: Db): number => stmts(db).days.get()!.n;

export function refreshLog(db: Db): RefreshLog {
  const r = stmts(db).log.get()!;
  return { lastAttemptAt: r.last_attempt_at, lastSuccessAt: r.last_success_at, newestDay: r.newest_day, error: r.error };
}

export const recordRefreshSuccess = (db: Db, at: number, newestDay: string): void => void stmts(db).success.run({ at, newestDay });

export const recordRefreshFailure = (db: Db, at: number, error: string): void => void stmts(db).failure.run(at, error);
