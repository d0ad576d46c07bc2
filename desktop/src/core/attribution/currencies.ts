import { err, isCurrencyCode, ok, type Result } from '@revtrail/shared';
import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';
import { loadBundledRates } from '../fx/rates';

// Which currencies a report can be in. The converter (../fx/rates.ts) reaches a target currency three ways:
// the same currency (1:1), the ECB's cross rate through the euro (both sides quoted by the ECB), or Stripe's
// own rate when the charge settled in the target. So the targets that can hold any money are the euro, the
// currencies the ECB quotes today, and the currencies this workspace's charges are in or settled in. Any
// other code converts nothing: every figure would be 0 with all money "not converted", so it is refused.
// Currencies the ECB stopped quoting (BGN, HRK, RUB, ...) are left out: recent money could not reach them.

export interface ReportCurrencies {
  /** Every code a report can be in, sorted. */
  currencies: string[];
  /** EUR and the currencies quoted on the newest ECB day held here. */
  ecb: string[];
  /** That newest ECB publication day; null with no rates at all. */
  ecbDay: string | null;
  /** The currencies of this workspace's charges and of their settlement (1:1 or at Stripe's rate). */
  own: string[];
}

const stmts = statementsPerDb((db: Db) => ({
  ecbNewest: db.prepare<[], { day: string; currency: string }>(`SELECT day, currency FROM fx_rates WHERE day = (SELECT max(day) FROM fx_rates) ORDER BY currency`),
  ecbHas: db.prepare<[string], { n: number }>(`SELECT 1 AS n FROM fx_rates WHERE day = (SELECT max(day) FROM fx_rates) AND currency = ?`),
  own: db.prepare<[], { c: string }>(
    `SELECT DISTINCT upper(currency) AS c FROM stripe_charges
     UNION SELECT DISTINCT upper(settlement_currency) FROM stripe_charges WHERE settlement_currency IS NOT NULL ORDER BY c`,
  ),
  ownHas: db.prepare<[string, string], { n: number }>(`SELECT 1 AS n FROM stripe_charges WHERE upper(currency) = ? OR upper(settlement_currency) = ? LIMIT 1`),
}));

/**
 * The currencies a report (or the workspace's setting) may be in, with where each comes from. `current`, the
 * workspace's reporting currency, is always among them: the ledger is built in it.
 */
export function reportCurrencies(db: Db, opts: { snapshotPath?: string; current: string }): ReportCurrencies {
  loadBundledRates(db, { path: opts.snapshotPath });
  const rows = stmts(db).ecbNewest.all();
  const ecb = ['EUR', ...rows.map((r) => r.currency)].sort();
  const own = stmts(db).own.all().map((r) => r.c).filter(isCurrencyCode);
  const currencies = [...new Set([...ecb, ...own, opts.current.toUpperCase()])].sort();
  return { currencies, ecb, ecbDay: rows[0]?.day ?? null, own };
}

/** Why a report currency is refused, with every choice; `field` is what the caller named it. */
export function currencyProblem(db: Db, value: unknown, opts: { snapshotPath?: string; current: string; field?: string }): string {
  const shown = typeof value === 'string' ? `"${value.slice(0, 20)}"` : String(value);
  const choices = reportCurrencies(db, opts).currencies.join(', ');
  return `${opts.field ?? 'currency'}: Revtrail cannot convert money to ${shown} (it converts to the euro, the currencies the ECB publishes rates for, and this workspace's own charge currencies); choose one of ${choices}`;
}

/**
 * The currency code, uppercased, when a report can be in it; else the problem naming every choice. The
 * common case (the setting, EUR or an ECB currency) costs one indexed read.
 */
export function checkReportCurrency(db: Db, value: unknown, opts: { snapshotPath?: string; current: string }): Result<string> {
  if (!isCurrencyCode(value)) return err('invalid_input', currencyProblem(db, value, opts));
  const code = value.toUpperCase();
  if (code === 'EUR' || code === opts.current.toUpperCase()) return ok(code);
  loadBundledRates(db, { path: opts.snapshotPath });
  if (stmts(db).ecbHas.get(code) || stmts(db).ownHas.get(code, code)) return ok(code);
  return err('invalid_input', currencyProblem(db, value, opts));
}
