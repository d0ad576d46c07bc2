import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAY_MS, type Clock } from '@revtrail/shared';
import { strToU8, zipSync } from 'fflate';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/open';
import ECB_HISTORY from './ecb-history';
import { createFxConverter, loadBundledRates, refreshRates, type RatesConverter } from './rates';
import { newestRates, rateDayCount, refreshLog } from './repo';
import type { ConvertInput, Converted, Unconverted } from './types';

const dir = mkdtempSync(join(tmpdir(), 'revtrail-fx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshDb = () => openDatabase(join(dir, `ws-${++n}.sqlite`));
const at = (iso: string) => Date.parse(iso);
const rowCount = (db: Db) => (db.prepare(`SELECT count(*) AS n FROM fx_rates`).get() as { n: number }).n;

describe('loadBundledRates', () => {
  it('bundles the ECB file byte for byte, as ecb-history.md records it', () => {
    expect(createHash('sha256').update(ECB_HISTORY).digest('hex')).toBe('729e74c341288f4b07251fddcd8e5b604964e7b2d775920e442ba4dcf2e4ce4c');
  });

  it('loads the whole snapshot once, in one go, and then only checks', () => {
    const db = freshDb();
    const t0 = performance.now();
    const first = loadBundledRates(db);
    const loadMs = performance.now() - t0;
    expect(first).toEqual({ loaded: true, newestDay: '2026-04-13', written: 217_555 });
    expect(rowCount(db)).toBe(217_555);
    expect(rateDayCount(db)).toBe(6983);
    expect(newestRates(db)).toEqual({ day: '2026-04-13', source: 'snapshot', currencies: 29 });
    const t1 = performance.now();
    expect(loadBundledRates(db)).toEqual({ loaded: false, newestDay: '2026-04-13', written: 0 });
    const checkMs = performance.now() - t1;
    // Generous bounds for a shared, busy machine; a row-per-transaction load takes tens of seconds.
    expect(loadMs).toBeLessThan(5000);
    expect(checkMs).toBeLessThan(500);
    console.info(`bundled snapshot: load ${loadMs.toFixed(0)} ms, idempotent check ${checkMs.toFixed(1)} ms`);
    db.close();
  });

  it('throws on a broken bundled file instead of loading part of it', () => {
    const db = freshDb();
    const good = ECB_HISTORY.split('\n').slice(0, 40);
    good[30] = good[30]!.replace(/^(\d{4}-\d{2}-\d{2}),[^,]+/, '$1,oops');
    const path = join(dir, 'broken.csv');
    writeFileSync(path, good.join('\n'));
    expect(() => loadBundledRates(db, { path })).toThrow(/line 31: USD is "oops"/);
    expect(rowCount(db)).toBe(0);
    db.close();
  });
});

describe('createFxConverter on the bundled history', () => {
  let db: Db;
  let fx: RatesConverter;
  beforeAll(() => {
    db = freshDb();
    const t0 = performance.now();
    fx = createFxConverter(db);
    console.info(`converter from an empty database (snapshot load + read): ${(performance.now() - t0).toFixed(0)} ms`);
    const t1 = performance.now();
    createFxConverter(db);
    console.info(`converter from a loaded database: ${(performance.now() - t1).toFixed(0)} ms`);
  });
  afterAll(() => db.close());

  const convert = (input: ConvertInput) => fx.convert(input);
  const done = (r: Converted | Unconverted): Converted => {
    if (!r.ok) throw new Error(r.reason);
    return r;
  };
  const reason = (r: Converted | Unconverted): string => {
    if (r.ok) throw new Error(`converted: ${JSON.stringify(r)}`);
    return r.reason;
  };

  it('knows the newest day', () => expect(fx.newestDay).toBe('2026-04-13'));

  it.each([
    // 10000 JPY * 100 * 1.1711 / 186.43 = 6281.71: the Sunday charge takes Friday's rate, and is final.
    { input: { amountMinor: 10000, currency: 'jpy', at: at('2026-04-12T23:59:59Z'), to: 'USD' }, amountMinor: 6282, rateDate: '2026-04-10', provisional: false },
    // 123.45 EUR * 1.1684 = 144.2390 USD
    { input: { amountMinor: 12345, currency: 'EUR', at: at('2026-04-13T08:00:00Z'), to: 'USD' }, amountMinor: 14424, rateDate: '2026-04-13', provisional: false },
    // 100 USD * 0.87058 / 1.1684 = 74.51 GBP
    { input: { amountMinor: 10000, currency: 'USD', at: at('2026-04-13T08:00:00Z'), to: 'gbp' }, amountMinor: 7451, rateDate: '2026-04-13', provisional: false },
    // After the newest day: Monday's rate for now, marked to be converted again.
    { input: { amountMinor: 12345, currency: 'EUR', at: at('2026-04-14T10:00:00Z'), to: 'USD' }, amountMinor: 14424, rateDate: '2026-04-13', provisional: true },
    // BGN until the lev joined the euro: 100 BGN * 1.175 / 1.9558 = 60.08 USD; New Year's Day has no publication.
    { input: { amountMinor: 10000, currency: 'BGN', at: at('2026-01-01T12:00:00Z'), to: 'USD' }, amountMinor: 6008, rateDate: '2025-12-31', provisional: false },
  ])('$input.amountMinor $input.currency on $input.at -> $amountMinor $input.to', ({ input, amountMinor, rateDate, provisional }) => {
    expect(done(convert(input))).toMatchObject({ amountMinor, rateDate, provisional, source: 'ecb' });
  });

  it('passes the same currency through at 1 on the row day', () => {
    expect(convert({ amountMinor: -999, currency: 'usd', at: at('1990-05-05T00:00:00Z'), to: 'USD' })).toEqual({
      ok: true,
      amountMinor: -999,
      rate: 1,
      rateDate: '1990-05-05',
      source: 'same',
      provisional: false,
    });
  });

  it('never converts Telegram Stars (XTR), not even with a Stripe rate beside them', () => {
    const stripe = { exchangeRate: 1, settlementCurrency: 'USD' };
    expect(reason(convert({ amountMinor: 50, currency: 'XTR', at: at('2026-04-13T08:00:00Z'), to: 'USD', stripe }))).toBe(
      'Telegram Stars (XTR) are never converted: they are shown in Stars, apart from USD.',
    );
    expect(reason(convert({ amountMinor: 500, currency: 'EUR', at: at('2026-04-13T08:00:00Z'), to: 'xtr' }))).toMatch(/never converted/);
  });

  it('never treats a currency without a rate as 1:1, and says why', () => {
    expect(reason(convert({ amountMinor: 10000, currency: 'BGN', at: at('2026-01-02T12:00:00Z'), to: 'USD' }))).toBe(
      'BGN 2026-01-02: no ECB rate to USD (the ECB has published no rate for BGN since 2025-12-31), and no Stripe exchange rate came with it.',
    );
    expect(reason(convert({ amountMinor: 10000, currency: 'RUB', at: at('2023-06-01T00:00:00Z'), to: 'EUR' }))).toMatch(/RUB since 2022-03-01/);
    // ISK was not quoted from 2008-12-10 to 2018: the 2008 rate is not used for 2010.
    expect(reason(convert({ amountMinor: 10000, currency: 'ISK', at: at('2010-06-01T00:00:00Z'), to: 'EUR' }))).toMatch(/ISK since 2008-12-09/);
    expect(reason(convert({ amountMinor: 1000, currency: 'USD', at: at('2026-04-13T00:00:00Z'), to: 'BHD' }))).toMatch(/the ECB does not publish a rate for BHD/);
    expect(reason(convert({ amountMinor: 1000, currency: 'USD', at: at('1998-12-31T00:00:00Z'), to: 'JPY' }))).toMatch(/history starts 1999-01-04/);
    expect(reason(convert({ amountMinor: 1000, currency: 'US$', at: at('2026-04-13T00:00:00Z'), to: 'USD' }))).toMatch(/"US\$" is not a currency code/);
  });

  it('uses Stripe only when the ECB lacks a side, directly when it settled in the target', () => {
    const aed = { amountMinor: 10000, currency: 'AED', at: at('2026-04-13T09:00:00Z') };
    // 100.00 AED * 0.2723 = 27.23 USD, at Stripe's rate on the charge's own day, final.
    expect(convert({ ...aed, to: 'USD', stripe: { exchangeRate: 0.2723, settlementCurrency: 'usd' } })).toEqual({
      ok: true,
      amountMinor: 2723,
      rate: 0.2723,
      rateDate: '2026-04-13',
      source: 'stripe',
      provisional: false,
    });
    // Reporting in a currency the ECB does not quote works the same way.
    const eurToAed = convert({ amountMinor: 5000, currency: 'EUR', at: aed.at, to: 'AED', stripe: { exchangeRate: 4.2911, settlementCurrency: 'AED' } });
    expect(done(eurToAed)).toMatchObject({ amountMinor: 21456, source: 'stripe' }); // 50 * 4.2911 = 214.555 -> 214.56
    // Both sides quoted: the ECB rate, whatever Stripe says.
    const jpy = convert({ amountMinor: 10000, currency: 'JPY', at: at('2026-04-12T12:00:00Z'), to: 'USD', stripe: { exchangeRate: 0.5, settlementCurrency: 'USD' } });
    expect(done(jpy)).toMatchObject({ amountMinor: 6282, source: 'ecb' });
  });

  it('chains Stripe into its settlement currency and the ECB from there', () => {
    // 100.00 AED * 0.2723 = 27.23 USD, / 1.1684 = 23.3054 EUR.
    const r = done(convert({ amountMinor: 10000, currency: 'AED', at: at('2026-04-13T09:00:00Z'), to: 'EUR', stripe: { exchangeRate: 0.2723, settlementCurrency: 'USD' } }));
    expect(r).toMatchObject({ amountMinor: 2331, source: 'stripe', via: 'USD', rateDate: '2026-04-13', provisional: false });
    expect(r.rate).toBeCloseTo(0.2723 / 1.1684, 12);
    const later = done(convert({ amountMinor: 10000, currency: 'AED', at: at('2026-04-15T09:00:00Z'), to: 'EUR', stripe: { exchangeRate: 0.2723, settlementCurrency: 'USD' } }));
    expect(later).toMatchObject({ rateDate: '2026-04-13', provisional: true });
  });

  it('leaves unconverted what neither source can convert, naming the currency', () => {
    const aed = { amountMinor: 10000, currency: 'AED', at: at('2026-04-13T09:00:00Z'), to: 'USD' };
    expect(reason(convert(aed))).toMatch(/^AED 2026-04-13: no ECB rate to USD \(the ECB does not publish a rate for AED\), and no Stripe/);
    expect(reason(convert({ ...aed, stripe: null }))).toMatch(/no Stripe exchange rate/);
    // Settled in AED itself: Stripe converted nothing, and the ECB cannot take AED further.
    expect(reason(convert({ ...aed, stripe: { exchangeRate: null, settlementCurrency: 'AED' } }))).toMatch(/Stripe settled it in AED, and there is no ECB rate from AED to USD/);
    expect(reason(convert({ ...aed, stripe: { exchangeRate: 0.98, settlementCurrency: 'SAR' } }))).toMatch(/settled it in SAR, and there is no ECB rate from SAR to USD/);
    expect(reason(convert({ ...aed, stripe: { exchangeRate: null, settlementCurrency: 'USD' } }))).toMatch(/no usable exchange rate for its USD settlement/);
    expect(reason(convert({ ...aed, stripe: { exchangeRate: 0, settlementCurrency: 'USD' } }))).toMatch(/no usable exchange rate/);
  });

  it('treats a bad amount or time as a bug', () => {
    expect(() => convert({ amountMinor: 1.5, currency: 'USD', at: 0, to: 'EUR' })).toThrow(RangeError);
    expect(() => convert({ amountMinor: 1, currency: 'USD', at: Number.NaN, to: 'EUR' })).toThrow(RangeError);
  });

  it('converts many rows quickly once loaded', () => {
    const t0 = performance.now();
    let sum = 0;
    for (let i = 0; i < 20_000; i++) {
      const r = fx.convert({ amountMinor: 1000 + i, currency: i % 2 ? 'JPY' : 'GBP', at: at('2015-01-01T00:00:00Z') + i * 3_600_000, to: 'USD' });
      if (r.ok) sum += r.amountMinor;
    }
    const ms = performance.now() - t0;
    expect(sum).toBeGreaterThan(0);
    console.info(`20,000 conversions: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(5000);
  });
});

/** An ECB file like the real one, newest first, with the trailing empty column. */
function ecbCsv(rows: [day: string, usd: string, jpy: string][]): string {
  return ['Date,USD,JPY,', ...rows.map((r) => `${r.join(',')},`), ''].join('\n');
}
const zipOf = (files: Record<string, string>) => zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, strToU8(v)])));

describe('refreshRates', () => {
  let db: Db;
  let now: number;
  const clock: Clock = { now: () => now };
  let served: () => Response | Promise<Response>;
  let calls: string[];
  const fetchDouble = (async (url: string | URL | Request) => {
    calls.push(String(url));
    return served();
  }) as typeof fetch;
  const refresh = (opts: { force?: boolean } = {}) => refreshRates(db, { fetch: fetchDouble, clock, ...opts });

  // A stand-in for the bundled file, older than anything downloaded here, so the converter never loads it.
  const oldSnapshot = join(dir, 'old-snapshot.csv');
  writeFileSync(oldSnapshot, ecbCsv([['2026-04-08', '1.16', '186']]));
  const v1 = ecbCsv([
    ['2026-04-10', '1.1711', '186.43'],
    ['2026-04-09', '1.17', '186.2'],
  ]);
  const v2 = ecbCsv([
    ['2026-04-13', '1.1684', '186.75'],
    ['2026-04-10', '1.1711', '186.43'],
    ['2026-04-09', '1.17', '186.2'],
  ]);

  beforeEach(() => {
    db = freshDb();
    now = at('2026-04-13T17:00:00Z');
    calls = [];
    served = () => new Response(zipOf({ 'eurofxref-hist.csv': v1 }));
  });
  afterEach(() => db.close());

  it('downloads the ECB zip, upserts it and logs the success', async () => {
    const r = await refresh();
    expect(r).toEqual({ ok: true, value: { refreshed: true, newestDay: '2026-04-10', written: 4 } });
    expect(calls).toEqual(['https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip']);
    expect(refreshLog(db)).toEqual({ lastAttemptAt: now, lastSuccessAt: now, newestDay: '2026-04-10', error: null });
    expect(newestRates(db)).toEqual({ day: '2026-04-10', source: 'ecb', currencies: 2 });
  });

  it('goes to the ECB at most once a UTC day unless forced', async () => {
    await refresh();
    served = () => new Response(zipOf({ 'eurofxref-hist.csv': v2 }));
    now = at('2026-04-13T23:59:00Z');
    expect(await refresh()).toEqual({ ok: true, value: { refreshed: false, newestDay: '2026-04-10', written: 0 } });
    expect(calls).toHaveLength(1);
    expect(await refresh({ force: true })).toEqual({ ok: true, value: { refreshed: true, newestDay: '2026-04-13', written: 2 } });
    now += DAY_MS;
    expect(await refresh()).toMatchObject({ ok: true, value: { refreshed: true, written: 0 } });
    expect(calls).toHaveLength(3);
  });

  it('turns provisional rows final once the day is published', async () => {
    await refresh();
    const charge = { amountMinor: 10000, currency: 'USD', at: at('2026-04-13T12:00:00Z'), to: 'JPY' };
    expect(createFxConverter(db, { snapshotPath: oldSnapshot }).convert(charge)).toMatchObject({ rateDate: '2026-04-10', provisional: true });
    served = () => new Response(zipOf({ 'eurofxref-hist.csv': v2 }));
    await refresh({ force: true });
    // 100 USD * 186.75 / 1.1684 = 15983.40 JPY
    expect(createFxConverter(db, { snapshotPath: oldSnapshot }).convert(charge)).toMatchObject({ amountMinor: 15983, rateDate: '2026-04-13', provisional: false });
  });

  it.each([
    ['offline', () => Promise.reject(new TypeError('fetch failed')), /could not reach .*fetch failed/],
    ['an HTTP error', () => new Response('busy', { status: 503 }), /the ECB answered HTTP 503/],
    ['an HTML page instead of a zip', () => new Response('<html>maintenance</html>'), /not a readable zip archive/],
    ['a zip without the CSV', () => new Response(zipOf({ 'readme.txt': 'hello' })), /holds 0 CSV files/],
    ['a zip with two CSVs', () => new Response(zipOf({ 'a.csv': v2, 'b.csv': v2 })), /holds 2 CSV files/],
    // The new day parses, a later line does not: nothing of the file is applied.
    ['a malformed CSV', () => new Response(zipOf({ 'eurofxref-hist.csv': v2.replace('2026-04-09,1.17,', '2026-04-09,1.17') })), /line 4: expected 3 cells/],
  ])('keeps the old rates and records the error when %s', async (_what, serve, problem) => {
    await refresh();
    const before = db.prepare(`SELECT * FROM fx_rates ORDER BY day, currency`).all();
    const success = refreshLog(db).lastSuccessAt;
    served = serve as () => Response;
    now += DAY_MS;
    const r = await refresh();
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('unavailable');
      expect(r.error.message).toMatch(problem);
      expect(r.error.message).toMatch(/The rates up to 2026-04-10 are kept/);
    }
    expect(db.prepare(`SELECT * FROM fx_rates ORDER BY day, currency`).all()).toEqual(before);
    const log = refreshLog(db);
    expect(log).toMatchObject({ lastAttemptAt: now, lastSuccessAt: success, newestDay: '2026-04-10' });
    expect(log.error).toMatch(problem);
    // A failure does not use up the day: the next call tries again, and a success clears the error.
    served = () => new Response(zipOf({ 'eurofxref-hist.csv': v2 }));
    expect(await refresh()).toMatchObject({ ok: true, value: { refreshed: true, newestDay: '2026-04-13' } });
    expect(refreshLog(db).error).toBeNull();
  });

  it('says when nothing at all is loaded yet', async () => {
    served = () => new Response('nope', { status: 404 });
    const r = await refresh();
    expect(!r.ok && r.error.message).toMatch(/No rates are loaded yet/);
  });

  it('gives up on a server that never answers', async () => {
    const r = await refreshRates(db, {
      clock,
      timeoutMs: 50,
      fetch: ((_url: string, init?: RequestInit) =>
        new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)))) as typeof fetch,
    });
    expect(!r.ok && r.error.message).toMatch(/could not reach .*(timeout|aborted)/i);
  });

  it('works with the real fetch against a local HTTP server', async () => {
    const body = zipOf({ 'eurofxref-hist.csv': v2 });
    const server = createServer((req, res) => {
      if (req.url !== '/stats/eurofxref/eurofxref-hist.zip') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/zip' }).end(Buffer.from(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stats/eurofxref/eurofxref-hist.zip`;
      const r = await refreshRates(db, { fetch, clock, url });
      expect(r).toEqual({ ok: true, value: { refreshed: true, newestDay: '2026-04-13', written: 6 } });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
