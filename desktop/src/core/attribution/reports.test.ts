import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../core';
import { openDatabase, type Db } from '../db/open';
import type { SecretStore } from '../secrets/types';
import { WorkspaceRegistry } from '../workspaces/registry';
import { campaignsReport, channelsReport, customersReport, dailyReport, linksReport, ltvReport, modelsReport, type ReportRange, type ReportSource } from './reports';
import { channelsReportPlan, dailyReportPlan } from './reports-repo';
import { fixedRates } from './testing/fx';
import { addCharge, addClick, addCustomer, addDispute, addIdentity, addInvoice, addRefund, addSubscription, t } from './testing/facts';

// The reports through the core, as the UI and the CLI call them, over facts with hand-computed answers.
const dir = mkdtempSync(join(tmpdir(), 'revtrail-reports-'));
const secrets: SecretStore = { description: 'none (test)', get: async () => null, set: async () => undefined, delete: async () => undefined };
const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
let core: Core;
let db: Db;
const APRIL = { from: '2025-04-01', to: '2025-04-30' };
// The ECB's currencies of the bundled snapshot's newest day, EUR, and this workspace's own AED (ch_5).
const CURRENCY_PROBLEM = (given: string) =>
  `currency: Revtrail cannot convert money to "${given}" (it converts to the euro, the currencies the ECB publishes rates for, and this workspace's own charge currencies); choose one of AED, AUD, BRL, CAD, CHF, CNY, CZK, DKK, EUR, GBP, HKD, HUF, IDR, ILS, INR, ISK, JPY, KRW, MXN, MYR, NOK, NZD, PHP, PLN, RON, SEK, SGD, THB, TRY, USD, ZAR`;

function must<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

beforeAll(async () => {
  core = createCore({ dataDir: dir, clock: { now: () => t('2025-06-01T12:00') }, log, secrets });
  const ws = must(await core.call('workspaces.add', { name: 'Shop' }));
  db = openDatabase(new WorkspaceRegistry(dir).databasePath(ws.id));
  const news = { slug: 'news', channel: 'Newsletter', campaign: 'april' };
  const ann = { slug: 'ann', channel: 'Partner', partnerId: 'ann' };
  addClick(db, { id: 'c9', at: t('2025-03-20T09:00'), visitorId: 'v1', ...news });
  addClick(db, { id: 'c10', at: t('2025-03-25T09:00'), visitorId: 'v1', ...ann });
  addClick(db, { id: 'c1', at: t('2025-04-01T09:00'), visitorId: 'v1', ...news });
  addClick(db, { id: 'c2', at: t('2025-04-02T09:00'), visitorId: 'v2', ...news });
  addClick(db, { id: 'c3', at: t('2025-04-03T09:00'), visitorId: 'v3', ...news });
  addClick(db, { id: 'c4', at: t('2025-04-03T10:00'), visitorId: 'v3', ...news });
  addClick(db, { id: 'c5', at: t('2025-04-03T11:00'), visitorId: 'v9', ...news, bot: true, botReason: 'user_agent' });
  addClick(db, { id: 'c6', at: t('2025-04-03T11:05'), visitorId: 'v3', ...news, duplicate: true });
  addClick(db, { id: 'c7', at: t('2025-04-02T09:00'), visitorId: 'v4', ...ann });
  addClick(db, { id: 'c8', at: t('2025-04-03T09:00'), visitorId: 'v5', ...ann });
  addCustomer(db, 'cus_1', 'h1', t('2025-04-04'));
  addIdentity(db, { id: 'i1', at: t('2025-04-04T11:59'), visitorId: 'v1', emailHash: 'h1' });
  addCharge(db, { id: 'ch_1', createdAt: t('2025-04-04T12:00'), amountMinor: 10000, currency: 'USD', customerId: 'cus_1', feeMinor: 320, settlementCurrency: 'USD' });
  addRefund(db, { id: 're_1', createdAt: t('2025-04-20T12:00'), chargeId: 'ch_1', amountMinor: 2500, currency: 'USD' });
  addSubscription(db, 'sub_2', 'cus_2', t('2025-04-05T12:00'));
  addInvoice(db, { id: 'in_1', createdAt: t('2025-04-05T12:00'), subscriptionId: 'sub_2', billingReason: 'subscription_create', amountPaidMinor: 5000, currency: 'USD' });
  addInvoice(db, { id: 'in_2', createdAt: t('2025-05-05T12:00'), subscriptionId: 'sub_2', billingReason: 'subscription_cycle', amountPaidMinor: 5000, currency: 'USD' });
  addCharge(db, { id: 'ch_2', createdAt: t('2025-04-05T12:00'), amountMinor: 5000, currency: 'USD', customerId: 'cus_2', visitorId: 'v4', invoiceId: 'in_1' });
  addCharge(db, { id: 'ch_3', createdAt: t('2025-05-05T12:00'), amountMinor: 5000, currency: 'USD', customerId: 'cus_2', invoiceId: 'in_2' });
  addCharge(db, { id: 'ch_4', createdAt: t('2025-04-10T12:00'), amountMinor: 3000, currency: 'USD', customerId: 'cus_3' });
  addDispute(db, { id: 'dp_1', createdAt: t('2025-04-15T00:00'), chargeId: 'ch_4', amountMinor: 3000, currency: 'USD', status: 'lost' });
  addCharge(db, { id: 'ch_5', createdAt: t('2025-04-11T12:00'), amountMinor: 36700, currency: 'AED', customerId: 'cus_4' });
  // 22:00 in New York on April 4, already April 5 in UTC.
  addCharge(db, { id: 'ch_6', createdAt: t('2025-04-05T02:00'), amountMinor: 1000, currency: 'USD', customerId: 'cus_5' });
});

afterAll(() => {
  db.close();
  core.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('reports', () => {
  it('channels: clicks, visitors, money and rates per channel, the unconvertible charge counted apart', async () => {
    const r = must(await core.call('reports.channels', APRIL));
    expect(r.range).toEqual({ ...APRIL, timeZone: 'UTC', model: 'last_click', currency: 'USD', filter: null });
    expect(r.rows).toEqual([
      { channel: 'Newsletter', clicks: 4, uniqueVisitors: 3, customers: 1, conversions: 1, grossMinor: 10000, refundsMinor: 2500, disputesMinor: 0, netMinor: 7500, feesMinor: 320, netOfFeesMinor: 7180, conversionRate: 0.25, clickNetMinor: 7500, revenuePerClickMinor: 1875, currency: 'USD', stars: 0, botStarts: 0 },
      { channel: 'Partner', clicks: 2, uniqueVisitors: 2, customers: 1, conversions: 1, grossMinor: 5000, refundsMinor: 0, disputesMinor: 0, netMinor: 5000, feesMinor: 0, netOfFeesMinor: 5000, conversionRate: 0.5, clickNetMinor: 5000, revenuePerClickMinor: 2500, currency: 'USD', stars: 0, botStarts: 0 },
      { channel: 'Direct', clicks: 0, uniqueVisitors: 0, customers: 2, conversions: 2, grossMinor: 4000, refundsMinor: 0, disputesMinor: 3000, netMinor: 1000, feesMinor: 0, netOfFeesMinor: 1000, conversionRate: null, clickNetMinor: 0, revenuePerClickMinor: null, currency: 'USD', stars: 0, botStarts: 0 },
    ]);
    expect(r.totals).toEqual({ grossMinor: 19000, refundsMinor: 2500, disputesMinor: 3000, netMinor: 13500, feesMinor: 320, netOfFeesMinor: 13180, conversions: 4, customers: 4, stars: 0, botStarts: 0 });
    expect(r.unconverted).toEqual({ rows: 1, amounts: [{ currency: 'AED', amountMinor: 36700 }] });
  });

  it('channels in another currency: each row converted at the ECB rate of its own day', async () => {
    const r = must(await core.call('reports.channels', { ...APRIL, currency: 'eur' }));
    const news = r.rows.find((x) => x.channel === 'Newsletter')!;
    // 100 USD on Friday 2025-04-04 at 1.1057 USD/EUR; the 25 USD refund on Sunday the 20th at Thursday the 17th's 1.136 (Good Friday had none).
    expect(news).toMatchObject({ grossMinor: 9044, refundsMinor: 2201, netMinor: 6843, feesMinor: 289, currency: 'EUR' });
  });

  it('daily: buckets at the midnights of the chosen zone, every day and channel present', async () => {
    const ny = must(await core.call('reports.daily', { from: '2025-04-04', to: '2025-04-05', tz: 'America/New_York' }));
    expect(ny.days).toEqual(['2025-04-04', '2025-04-05']);
    expect(ny.rows.map((x) => [x.day, x.channel, x.grossMinor])).toEqual([
      ['2025-04-04', 'Direct', 1000],
      ['2025-04-04', 'Newsletter', 10000],
      ['2025-04-04', 'Partner', 0],
      ['2025-04-05', 'Direct', 0],
      ['2025-04-05', 'Newsletter', 0],
      ['2025-04-05', 'Partner', 5000],
    ]);
    const utc = must(await core.call('reports.daily', { from: '2025-04-04', to: '2025-04-05' }));
    expect(utc.rows.filter((x) => x.grossMinor > 0).map((x) => [x.day, x.channel, x.grossMinor])).toEqual([
      ['2025-04-04', 'Newsletter', 10000],
      ['2025-04-05', 'Direct', 1000],
      ['2025-04-05', 'Partner', 5000],
    ]);
  });

  it('links and campaigns', async () => {
    const links = must(await core.call('reports.links', APRIL));
    expect(links.rows.map((x) => [x.slug, x.channel, x.clicks, x.uniqueVisitors, x.netMinor])).toEqual([
      ['news', 'Newsletter', 4, 3, 7500],
      ['ann', 'Partner', 2, 2, 5000],
      [null, null, 0, 0, 1000],
    ]);
    const campaigns = must(await core.call('reports.campaigns', APRIL));
    // The null campaign holds ann's clicks (5000 earned) and Direct's 1000, which no click earned.
    expect(campaigns.rows.map((x) => [x.campaign, x.clicks, x.netMinor, x.revenuePerClickMinor])).toEqual([
      ['april', 4, 7500, 1875],
      [null, 2, 6000, 2500],
    ]);
  });

  it('ltv: a subscription started in April keeps its channel for the May renewal', async () => {
    const r = must(await core.call('reports.ltv', APRIL));
    expect(r.rows).toEqual([
      { channel: 'Partner', subscriptions: 1, customers: 1, firstPaymentsMinor: 5000, renewalsMinor: 5000, grossMinor: 10000, refundsMinor: 0, disputesMinor: 0, netMinor: 10000, feesMinor: 0, netOfFeesMinor: 10000, ltvMinor: 10000, currency: 'USD' },
    ]);
  });

  it('models: the same range under every model (linear splits cus_1 over three clicks, one of them Partner’s)', async () => {
    const r = must(await core.call('reports.models', APRIL));
    const of = (channel: string) => r.rows.find((x) => x.channel === channel)!.models;
    expect(of('Newsletter')).toEqual({
      last_click: { conversions: 1, netMinor: 7500, grossMinor: 10000 },
      first_click: { conversions: 1, netMinor: 7500, grossMinor: 10000 },
      linear: { conversions: 0.6667, netMinor: 5000, grossMinor: 6667 },
      last_non_direct: { conversions: 1, netMinor: 7500, grossMinor: 10000 },
    });
    expect(of('Partner').linear).toEqual({ conversions: 1.3333, netMinor: 7500, grossMinor: 8333 });
    expect(r.rows.map((x) => x.channel)).toEqual(['Newsletter', 'Partner', 'Direct']);
    for (const m of ['last_click', 'first_click', 'linear', 'last_non_direct'] as const) expect(r.totals[m].netMinor).toBe(13500);
  });

  it('journey: clicks, the identify, the charge with its credit and the refund, in order', async () => {
    const j = must(await core.call('reports.journey', { customer: 'cus_1' }));
    expect(j.events.map((e) => [e.type, e.id])).toEqual([
      ['click', 'c9'],
      ['click', 'c10'],
      ['click', 'c1'],
      ['identify', 'i1'],
      ['charge', 'ch_1'],
      ['refund', 're_1'],
    ]);
    const charge = j.events[4]!;
    expect(charge).toMatchObject({ amountMinor: 10000, convertedMinor: 10000, credits: [{ touchpointId: 'c1', channel: 'Newsletter', weight: 1, amountMinor: 10000 }] });
    expect(j.totals.netMinor).toBe(7500);
    const linear = must(await core.call('reports.journey', { customer: 'cus_1', model: 'linear' }));
    expect(linear.events[4]).toMatchObject({ credits: [{ touchpointId: 'c9', amountMinor: 3334 }, { touchpointId: 'c10', amountMinor: 3333 }, { touchpointId: 'c1', amountMinor: 3333 }] });
    const missing = await core.call('reports.journey', { customer: 'cus_nobody' });
    expect(missing.ok ? null : missing.error.code).toBe('not_found');
  });

  it('customers: net revenue and first channel, all time', async () => {
    const r = must(await core.call('reports.customers', {}));
    expect(r.rows.map((x) => [x.customerKey, x.netMinor, x.firstChannel, x.payments])).toEqual([
      ['cus_2', 10000, 'Partner', 2],
      ['cus_1', 7500, 'Newsletter', 1],
      ['cus_5', 1000, 'Direct', 1],
      ['cus_3', 0, 'Direct', 1],
      ['cus_4', 0, 'Direct', 1],
    ]);
    expect(r.unconverted.rows).toBe(1);
  });

  it('defaults to the last 30 days in the workspace’s zone, and refuses bad ranges', async () => {
    const r = must(await core.call('reports.channels', {}));
    expect(r.range).toMatchObject({ from: '2025-05-03', to: '2025-06-01' });
    // The May renewal's customer is counted beside its money.
    expect(r.rows.map((x) => [x.channel, x.grossMinor, x.customers, x.conversions])).toEqual([['Partner', 5000, 1, 0]]);
    const bad = await core.call('reports.channels', { from: '2025-04-31', tz: 'Nowhere/Land', model: 'best' as never, currency: 'dollars' });
    expect(bad.ok ? null : bad.error.message).toBe(
      `tz: "Nowhere/Land" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC); model: one of last_click, first_click, linear, last_non_direct; ${CURRENCY_PROBLEM('dollars')}; from: a day as YYYY-MM-DD`,
    );
    const backwards = await core.call('reports.channels', { from: '2025-04-02', to: '2025-04-01' });
    expect(backwards.ok).toBe(false);
  });

  it('sums the same in SQL (ledger currency) as row by row (any other currency)', () => {
    const sql: ReportSource = { db, ledgerCurrency: 'USD', fx: () => fixedRates({}) };
    // Claiming the ledger is in another currency forces the row-by-row path; USD to USD converts 1:1, AED not at all.
    const rows: ReportSource = { db, ledgerCurrency: 'XXX', fx: () => fixedRates({}) };
    for (const model of ['last_click', 'linear'] as const) {
      const range: ReportRange = { ...APRIL, timeZone: 'America/New_York', model, currency: 'USD', start: t('2025-04-01T04:00'), end: t('2025-05-01T04:00') };
      for (const report of [channelsReport, linksReport, campaignsReport, dailyReport, ltvReport, modelsReport]) {
        expect(report(rows, range), `${report.name} ${model}`).toEqual(report(sql, range));
      }
      expect(customersReport(rows, null, model, 'USD', 100)).toEqual(customersReport(sql, null, model, 'USD', 100));
      expect(customersReport(rows, range, model, 'USD', 2)).toEqual(customersReport(sql, range, model, 'USD', 2));
    }
  });

  it('reads the ledger and the clicks through their indexes', () => {
    const plan = channelsReportPlan(db).join('\n');
    expect(plan).toMatch(/SEARCH l USING INDEX attribution_ledger_model_at \(model=\? AND at>\? AND at<\?\)/);
    expect(plan).toMatch(/SEARCH clicks USING COVERING INDEX clicks_report \(channel=\? AND at>\? AND at<\?\)/);
    expect(plan).not.toMatch(/SCAN clicks/);
    // Each day one range of the ledger's index, not every row of the model once per day.
    expect(dailyReportPlan(db).join('\n')).toMatch(/SCAN json_each[\s\S]*SEARCH l USING INDEX attribution_ledger_model_at \(model=\? AND at>\? AND at<\?\)/);
  });
});

describe('settings', () => {
  it('reads the defaults, refuses bad values with every reason, rebuilds only when the ledger changes', async () => {
    const s = must(await core.call('settings.get', {}));
    expect(s).toMatchObject({ model: 'last_click', windowDays: 30, currency: 'USD', timeZone: 'UTC', customRules: false });
    expect(s.lastBuild?.rows).toBeGreaterThan(0);

    const bad = await core.call('settings.set', { windowDays: 0, currency: 'euro', timeZone: 'Mars', channelRules: [{ channel: 'X' }], colour: 'red' } as never);
    expect(bad.ok ? null : bad.error.message).toBe(
      `colour: unknown setting (known: model, windowDays, currency, timeZone, channelRules); windowDays: a whole number of days from 1 to 365; ${CURRENCY_PROBLEM('euro')}; timeZone: an IANA time zone such as Europe/Berlin or UTC; channelRules[0]: needs at least one of utmSource, utmMedium, referrerHost, clickId`,
    );

    const modelOnly = must(await core.call('settings.set', { model: 'linear', timeZone: 'Europe/Berlin' }));
    expect(modelOnly.rebuilt).toBeNull();
    expect(must(await core.call('reports.channels', APRIL)).range).toMatchObject({ model: 'linear', timeZone: 'Europe/Berlin' });

    // A 7-day window leaves only c1 before cus_1's charge: first click is then Newsletter's c1, and linear gives Partner nothing of it.
    const narrower = must(await core.call('settings.set', { windowDays: 7 }));
    expect(narrower.rebuilt).not.toBeNull();
    const models = must(await core.call('reports.models', { ...APRIL, tz: 'UTC' }));
    expect(models.rows.find((x) => x.channel === 'Partner')!.models.linear).toEqual({ conversions: 1, netMinor: 5000, grossMinor: 5000 });

    const rules = must(await core.call('settings.set', { channelRules: [{ channel: 'Partners', utmSource: ['partner*'] }] }));
    expect(rules.settings).toMatchObject({ customRules: true, channelRules: [{ channel: 'Partners', utmSource: ['partner*'] }] });
    expect(rules.rebuilt).not.toBeNull();
    const back = must(await core.call('settings.set', { channelRules: null, model: 'last_click', windowDays: 30, timeZone: 'UTC' }));
    expect(back.settings.customRules).toBe(false);
  });
});
