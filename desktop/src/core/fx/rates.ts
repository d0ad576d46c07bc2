import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { err, isCurrencyCode, isOwnUnitCurrency, ok, utcDay, type Clock, type Result } from '@revtrail/shared';
import {
  convertMinor,
  crossRate,
  decimalRatio,
  eurQuote,
  multiplyRatios,
  parseEcbHistory,
  publishedDayIndex,
  rateChanges,
  rateTableFromDays,
  type RateTable,
} from '@revtrail/shared/fx/ecb';
import type { Db } from '../db/open';
import ECB_HISTORY from './ecb-history';
import { ratesByDay, newestRates, recordRefreshFailure, recordRefreshSuccess, refreshLog, writeRates } from './repo';
import type { ConvertInput, Converted, FxConverter, Unconverted } from './types';

export const ECB_HISTORY_URL = 'https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip';

/** The ECB's CSV is about 2 MB; anything far bigger in the archive is not it. */
const MAX_CSV_BYTES = 64 * 1024 * 1024;

/** The history is newest first, so its first data line tells whether it holds anything new, before any parsing. */
function peekNewestDay(csv: string): string | undefined {
  return /\n\s*(\d{4}-\d{2}-\d{2}),/.exec(csv.slice(0, 4096))?.[1];
}

export interface BundledLoad {
  loaded: boolean;
  /** The newest day of the snapshot. */
  newestDay: string;
  /** Rate rows added or changed. */
  written: number;
}

/**
 * Puts the bundled snapshot (./ecb-history.ts, or the CSV file at `path` instead) into the workspace
 * database unless rates as new as it are already there (so every later call is one indexed query). One
 * transaction: all of it or nothing. The snapshot ships with the app, so one that will not parse is a bug and throws.
 */
export function loadBundledRates(db: Db, opts: { path?: string } = {}): BundledLoad {
  const csv = opts.path === undefined ? ECB_HISTORY : readFileSync(opts.path, 'utf8');
  const peeked = peekNewestDay(csv);
  const here = newestRates(db)?.day;
  if (peeked !== undefined && here !== undefined && here >= peeked) return { loaded: false, newestDay: peeked, written: 0 };
  const parsed = parseEcbHistory(csv);
  if (!parsed.ok) throw new Error(`The bundled ECB snapshot ${opts.path ?? '(ecb-history.ts)'} is broken: ${parsed.error.message}`);
  const written = db.transaction(() => writeRates(db, parsed.value, 'snapshot'))();
  return { loaded: true, newestDay: parsed.value.days.at(-1)!, written };
}

/** A converter over rates held in memory, with what it knows. */
export interface RatesConverter extends FxConverter {
  /** The newest ECB publication day known; rows dated after it are provisional. Null with no rates at all. */
  readonly newestDay: string | null;
}

/**
 * The converter the ledger and the reports use: loads the bundled snapshot if needed, then reads every rate
 * into memory once, so converting many rows costs no query. Make a new one after a refresh.
 */
export function createFxConverter(db: Db, opts: { snapshotPath?: string } = {}): RatesConverter {
  loadBundledRates(db, { path: opts.snapshotPath });
  return converterFromTable(rateTableFromDays(ratesByDay(db)));
}

/** The conversion rules over a rate table (see ./types.ts and REFERENCE.md "ECB reference rates"). */
export function converterFromTable(table: RateTable): RatesConverter {
  const newestDay = table.days.at(-1) ?? null;

  /** Why the ECB has nothing for `currency` on `day`, in words for a report's footnote. */
  const whyNoEcb = (currency: string, day: string): string | null => {
    if (eurQuote(table, currency, day)) return null;
    const first = table.days[0];
    if (first === undefined || day < first) return `the ECB rate history starts ${first ?? 'nowhere (no rates are loaded)'}`;
    const column = table.column.get(currency);
    if (column === undefined) return `the ECB does not publish a rate for ${currency}`;
    const width = table.currencies.length;
    let last: string | undefined;
    for (let i = publishedDayIndex(table.days, day); i >= 0 && last === undefined; i--) {
      if (!Number.isNaN(table.micros[i * width + column]!)) last = table.days[i];
    }
    return last ? `the ECB has published no rate for ${currency} since ${last}` : `the ECB had not yet published a rate for ${currency} on ${day}`;
  };

  function convert(input: ConvertInput): Converted | Unconverted {
    const { amountMinor, at } = input;
    if (!Number.isSafeInteger(amountMinor)) throw new RangeError(`not an integer amount: ${amountMinor}`);
    if (!Number.isFinite(at)) throw new RangeError(`not a time: ${at}`);
    if (!isCurrencyCode(input.currency)) return { ok: false, reason: `"${input.currency}" is not a currency code, so it cannot be converted.` };
    if (!isCurrencyCode(input.to)) return { ok: false, reason: `"${input.to}" is not a currency code to report in.` };
    const from = input.currency.toUpperCase();
    const to = input.to.toUpperCase();
    const day = utcDay(at);
    if (from === to) return { ok: true, amountMinor, rate: 1, rateDate: day, source: 'same', provisional: false };
    // Telegram Stars: no rate exists, and 1:1 would be wrong; reports show them in Stars (shared/money.ts).
    if (isOwnUnitCurrency(from) || isOwnUnitCurrency(to)) return { ok: false, reason: `Telegram Stars (XTR) are never converted: they are shown in Stars, apart from ${isOwnUnitCurrency(from) ? to : from}.` };
    const afterNewest = newestDay === null || day > newestDay;

    const ecb = crossRate(table, from, to, day);
    if (ecb) {
      return { ok: true, amountMinor: convertMinor(amountMinor, from, to, ecb.ratio), rate: ecb.rate, rateDate: ecb.day, source: 'ecb', provisional: afterNewest };
    }

    const why = [whyNoEcb(from, day), whyNoEcb(to, day)].filter((w): w is string => w !== null);
    const noEcb = `${from} ${day}: no ECB rate to ${to} (${[...new Set(why)].join('; ')})`;
    const stripe = input.stripe;
    const settlement = stripe?.settlementCurrency ? stripe.settlementCurrency.toUpperCase() : null;
    if (!stripe || settlement === null) return { ok: false, reason: `${noEcb}, and no Stripe exchange rate came with it.` };
    // Stripe leaves exchange_rate empty when it did not convert: settled in the charge's own currency.
    const stripeRate = stripe.exchangeRate ?? (settlement === from ? 1 : null);
    if (stripeRate === null || !Number.isFinite(stripeRate) || stripeRate <= 0) {
      return { ok: false, reason: `${noEcb}, and Stripe gave no usable exchange rate for its ${settlement} settlement.` };
    }
    const stripeRatio = decimalRatio(stripeRate);
    if (settlement === to) {
      return { ok: true, amountMinor: convertMinor(amountMinor, from, to, stripeRatio), rate: stripeRate, rateDate: day, source: 'stripe', provisional: false };
    }
    const onward = settlement === from ? null : crossRate(table, settlement, to, day);
    if (!onward) {
      return { ok: false, reason: `${noEcb}; Stripe settled it in ${settlement}, and there is no ECB rate from ${settlement} to ${to} either.` };
    }
    return {
      ok: true,
      amountMinor: convertMinor(amountMinor, from, to, multiplyRatios(stripeRatio, onward.ratio)),
      rate: stripeRate * onward.rate,
      rateDate: onward.day,
      source: 'stripe',
      provisional: afterNewest,
      via: settlement,
    };
  }

  return { convert, newestDay };
}

export interface RefreshOptions {
  fetch: typeof fetch;
  clock: Clock;
  url?: string;
  /** Download even if a refresh already succeeded this UTC day. */
  force?: boolean;
  timeoutMs?: number;
}

export interface RefreshOutcome {
  /** False when skipped because today's refresh already succeeded. */
  refreshed: boolean;
  /** The newest publication day now known. */
  newestDay: string | null;
  /** Rate rows added or changed. */
  written: number;
}

/** Why a download is unusable, or the CSV text inside it. */
async function download(opts: RefreshOptions): Promise<{ text: string } | { problem: string }> {
  const url = opts.url ?? ECB_HISTORY_URL;
  let bytes: Uint8Array;
  try {
    const res = await opts.fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000) });
    if (!res.ok) return { problem: `the ECB answered HTTP ${res.status} for ${url}` };
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    return { problem: `could not reach ${url} (${(e as Error).message})` };
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: (f) => /\.csv$/i.test(f.name) && f.originalSize <= MAX_CSV_BYTES });
  } catch (e) {
    return { problem: `the download from ${url} is not a readable zip archive (${(e as Error).message})` };
  }
  const names = Object.keys(files);
  if (names.length !== 1) return { problem: `the archive from ${url} holds ${names.length} CSV files of sane size instead of one` };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(files[names[0]!]) };
  } catch {
    return { problem: `${names[0]} in the archive from ${url} is not UTF-8 text` };
  }
}

/**
 * Downloads the ECB's full history and upserts it in one transaction, at most once per UTC day unless
 * forced. Offline, refused or malformed: the rates already here stay as they are, and the error is logged
 * in fx_refresh for the status to show.
 */
export async function refreshRates(db: Db, opts: RefreshOptions): Promise<Result<RefreshOutcome>> {
  const now = opts.clock.now();
  const log = refreshLog(db);
  if (!opts.force && log.lastSuccessAt !== null && utcDay(log.lastSuccessAt) === utcDay(now)) {
    return ok({ refreshed: false, newestDay: newestRates(db)?.day ?? null, written: 0 });
  }
  const got = await download(opts);
  const parsed = 'text' in got ? parseEcbHistory(got.text) : null;
  if (!parsed?.ok) {
    const problem = 'problem' in got ? got.problem : parsed && !parsed.ok ? parsed.error.message : 'unknown';
    recordRefreshFailure(db, now, problem);
    const kept = newestRates(db)?.day;
    return err('unavailable', `Could not refresh the ECB rates: ${problem}. ${kept ? `The rates up to ${kept} are kept` : 'No rates are loaded yet'}; try again later.`);
  }
  const table = parsed.value;
  const newestDay = table.days.at(-1)!;
  const written = db.transaction(() => {
    // Comparing in memory first leaves SQLite only the new day (and any revision) to write, not the whole history.
    const n = writeRates(db, rateChanges(table, rateTableFromDays(ratesByDay(db))), 'ecb');
    recordRefreshSuccess(db, now, newestDay);
    return n;
  })();
  return ok({ refreshed: true, newestDay: newestRates(db)?.day ?? newestDay, written });
}
