import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../core';
import { openDatabase, type Db } from '../db/open';
import type { SecretStore } from '../secrets/types';
import { WorkspaceRegistry } from '../workspaces/registry';
import { bucketFor, bucketsOf, campaignsReport, channelsReport, dashboardReport, linksReport, partnersReport, seriesReport, summaryReport, type ReportRange, type ReportSource } from './reports';
import { customerLabel } from './customer-label';
import { trafficReportPlan } from './reports-repo';
import { fixedRates } from './testing/fx';
import { addCharge, addClick, addCustomer, addIdentity, addInvoice, addRefund, addSubscription, t } from './testing/facts';

// The dashboard's reports (headline numbers against the previous period, charts in buckets, partners, a filter)
// through the core, over facts whose answers are worked out by hand below. May 2025 is the range; the 31 days
// before it (March 31 to April 30) the previous period.
const dir = mkdtempSync(join(tmpdir(), 'revtrail-dashboard-reports-'));
const secrets: SecretStore = { description: 'none (test)', get: async () => null, set: async () => undefined, delete: async () => undefined };
const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const MAY = { from: '2025-05-01', to: '2025-05-31' };
let core: Core;
let db: Db;

function must<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

beforeAll(async () => {
  core = createCore({ dataDir: dir, clock: { now: () => t('2025-06-01T12:00') }, log, secrets });
  const ws = must(await core.call('workspaces.add', { name: 'Dashboard' }));
  must(await core.call('programs.add', { name: 'Partners', rateBasisPoints: 2000 }));
  must(await core.call('partners.add', { id: 'ann', name: 'Ann Writer', email: 'ann@example.com' }));
  db = openDatabase(new WorkspaceRegistry(dir).databasePath(ws.id));
  const news = { slug: 'news', channel: 'Newsletter', campaign: 'spring' };
  const ann = { slug: 'ann', channel: 'Partner', partnerId: 'ann' };
  // April (the previous period): two clicks, two visitors; cus_1 subscribes after the newsletter.
  addClick(db, { id: 'c1', at: t('2025-04-10T09:00'), visitorId: 'v1', ...news });
  addClick(db, { id: 'c2', at: t('2025-04-12T09:00'), visitorId: 'v2', ...ann });
  addCustomer(db, 'cus_1', 'h1', t('2025-04-10'));
  addIdentity(db, { id: 'i1', at: t('2025-04-10T09:30'), visitorId: 'v1', emailHash: 'h1' });
  addSubscription(db, 'sub_1', 'cus_1', t('2025-04-11T12:00'));
  addInvoice(db, { id: 'in_1', createdAt: t('2025-04-11T12:00'), subscriptionId: 'sub_1', billingReason: 'subscription_create', amountPaidMinor: 10000, currency: 'USD' });
  addCharge(db, { id: 'ch_1', createdAt: t('2025-04-11T12:00'), amountMinor: 10000, currency: 'USD', customerId: 'cus_1', invoiceId: 'in_1' });
  // May: four human clicks of three visitors (v3 twice), a bot's and a repeat that do not count.
  addClick(db, { id: 'c3', at: t('2025-05-02T09:00'), visitorId: 'v3', ...news });
  addClick(db, { id: 'c4', at: t('2025-05-02T10:00'), visitorId: 'v3', ...news });
  addClick(db, { id: 'c5', at: t('2025-05-09T09:00'), visitorId: 'v4', ...ann });
  addClick(db, { id: 'c6', at: t('2025-05-20T09:00'), visitorId: 'v5', ...news, bot: true, botReason: 'user_agent' });
  addClick(db, { id: 'c7', at: t('2025-05-20T09:10'), visitorId: 'v6', ...news, duplicate: true });
  addClick(db, { id: 'c8', at: t('2025-05-28T09:00'), visitorId: 'v7', ...ann });
  // cus_1 renews (a renewal: a customer, no conversion); cus_3 buys after the newsletter, part refunded;
  // cus_4 after Ann's link; cus_9 with no click at all (Direct).
  addInvoice(db, { id: 'in_2', createdAt: t('2025-05-11T12:00'), subscriptionId: 'sub_1', billingReason: 'subscription_cycle', amountPaidMinor: 10000, currency: 'USD' });
  addCharge(db, { id: 'ch_1b', createdAt: t('2025-05-11T12:00'), amountMinor: 10000, currency: 'USD', customerId: 'cus_1', invoiceId: 'in_2' });
  addCustomer(db, 'cus_3', 'h3', t('2025-05-02'));
  addIdentity(db, { id: 'i3', at: t('2025-05-02T10:30'), visitorId: 'v3', emailHash: 'h3' });
  addCharge(db, { id: 'ch_3', createdAt: t('2025-05-03T12:00'), amountMinor: 4000, currency: 'USD', customerId: 'cus_3' });
  addRefund(db, { id: 're_3', createdAt: t('2025-05-10T12:00'), chargeId: 'ch_3', amountMinor: 1000, currency: 'USD' });
  addCharge(db, { id: 'ch_4', createdAt: t('2025-05-10T12:00'), amountMinor: 6000, currency: 'USD', customerId: 'cus_4', visitorId: 'v4' });
  addCharge(db, { id: 'ch_9', createdAt: t('2025-05-15T12:00'), amountMinor: 2000, currency: 'USD', customerId: 'cus_9' });
});

afterAll(() => {
  db.close();
  core.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('reports.summary', () => {
  it('the range against the as many days before it: clicks, visitors, customers, revenue, conversion', async () => {
    const s = must(await core.call('reports.summary', MAY));
    expect(s.range).toEqual({ ...MAY, timeZone: 'UTC', model: 'last_click', currency: 'USD', filter: null });
    expect(s.previousRange).toEqual({ from: '2025-03-31', to: '2025-04-30' });
    // Revenue 100 + 40 + 60 + 20 less the 10 refunded; the renewal's customer counts, not as a conversion;
    // conversion: ch_3 and ch_4 came through clicks (ch_9 did not), over 3 visitors.
    expect(s.current).toEqual({ clicks: 4, visitors: 3, customers: 4, conversions: 3, conversionRate: 0.6667, grossMinor: 22000, refundsMinor: 1000, disputesMinor: 0, netMinor: 21000 });
    expect(s.previous).toEqual({ clicks: 2, visitors: 2, customers: 1, conversions: 1, conversionRate: 0.5, grossMinor: 10000, refundsMinor: 0, disputesMinor: 0, netMinor: 10000 });
    expect(s.unconverted).toEqual({ rows: 0, amounts: [] });
  });

  it('a week with no visitor has no conversion rate, and its previous week is the seven days before', async () => {
    const s = must(await core.call('reports.summary', { from: '2025-05-19', to: '2025-05-25' }));
    expect(s.previousRange).toEqual({ from: '2025-05-12', to: '2025-05-18' });
    expect(s.current).toMatchObject({ clicks: 0, visitors: 0, conversionRate: null, netMinor: 0 });
    expect(s.previous).toMatchObject({ clicks: 0, visitors: 0, customers: 1, netMinor: 2000 });
  });

  it('follows a filter: one channel, one partner, the rows without a campaign', async () => {
    const news = must(await core.call('reports.summary', { ...MAY, filter: { by: 'channel', value: 'Newsletter' } }));
    expect(news.range.filter).toEqual({ by: 'channel', value: 'Newsletter' });
    // The renewal keeps its first payment's newsletter click: 100 + 40 - 10.
    expect(news.current).toMatchObject({ clicks: 2, visitors: 1, customers: 2, conversions: 1, conversionRate: 1, netMinor: 13000 });
    expect(news.previous).toMatchObject({ clicks: 1, visitors: 1, customers: 1, netMinor: 10000 });
    const ann = must(await core.call('reports.summary', { ...MAY, filter: { by: 'partner', value: 'ann' } }));
    expect(ann.current).toMatchObject({ clicks: 2, visitors: 2, customers: 1, conversions: 1, conversionRate: 0.5, netMinor: 6000 });
    const noCampaign = must(await core.call('reports.summary', { ...MAY, filter: { by: 'campaign', value: null } }));
    // Ann's link has no campaign (60), nor has Direct's money (20).
    expect(noCampaign.current).toMatchObject({ clicks: 2, netMinor: 8000 });
    const link = must(await core.call('reports.channels', { ...MAY, filter: { by: 'link', value: 'news' } }));
    expect(link.rows.map((r) => [r.channel, r.clicks, r.netMinor])).toEqual([['Newsletter', 2, 13000]]);
  });

  it('refuses a bad filter, saying what one looks like', async () => {
    for (const filter of [{ by: 'country', value: 'DE' }, { by: 'channel', value: null }, { by: 'link', value: '' }, 'news']) {
      const r = await core.call('reports.summary', { ...MAY, filter: filter as never });
      expect(r.ok ? null : r.error.message).toBe('filter: { by: one of channel, link, campaign, partner; value: its name (up to 200 characters) or null for none }');
    }
  });
});

describe('reports.series', () => {
  it('chooses days up to a month, weeks up to half a year, then months', () => {
    expect([1, 7, 30, 31, 32, 90, 182, 183, 365].map(bucketFor)).toEqual(['day', 'day', 'day', 'day', 'week', 'week', 'week', 'month', 'month']);
  });

  it('cuts the range at Mondays or the 1st, the first and last buckets partial, at the zone’s midnights', () => {
    expect(bucketsOf({ ...MAY, timeZone: 'UTC' }, 'week').map((b) => [b.from, b.to])).toEqual([
      ['2025-05-01', '2025-05-04'],
      ['2025-05-05', '2025-05-11'],
      ['2025-05-12', '2025-05-18'],
      ['2025-05-19', '2025-05-25'],
      ['2025-05-26', '2025-05-31'],
    ]);
    const months = bucketsOf({ from: '2024-12-15', to: '2025-02-03', timeZone: 'America/New_York' }, 'month');
    expect(months.map((b) => [b.from, b.to])).toEqual([
      ['2024-12-15', '2024-12-31'],
      ['2025-01-01', '2025-01-31'],
      ['2025-02-01', '2025-02-03'],
    ]);
    expect(months[1]).toMatchObject({ start: t('2025-01-01T05:00'), end: t('2025-02-01T05:00') });
  });

  it('net per channel, clicks and visitors per week of May', async () => {
    const s = must(await core.call('reports.series', { ...MAY, bucket: 'week' }));
    expect(s.bucket).toBe('week');
    expect(s.channels).toEqual(['Direct', 'Newsletter', 'Partner']);
    expect(s.points.map((p) => [p.from, p.clicks, p.visitors, p.netByChannel, p.netMinor])).toEqual([
      ['2025-05-01', 2, 1, { Direct: 0, Newsletter: 4000, Partner: 0 }, 4000],
      // The refund (-10) and the renewal (100) are the newsletter's, Ann's link brought 60.
      ['2025-05-05', 1, 1, { Direct: 0, Newsletter: 9000, Partner: 6000 }, 15000],
      ['2025-05-12', 0, 0, { Direct: 2000, Newsletter: 0, Partner: 0 }, 2000],
      ['2025-05-19', 0, 0, { Direct: 0, Newsletter: 0, Partner: 0 }, 0],
      ['2025-05-26', 1, 1, { Direct: 0, Newsletter: 0, Partner: 0 }, 0],
    ]);
    expect(s.totals.netMinor).toBe(21000);
    // Without a bucket, 31 days are shown by day.
    const daily = must(await core.call('reports.series', MAY));
    expect(daily.bucket).toBe('day');
    expect(daily.points).toHaveLength(31);
    expect(daily.points.find((p) => p.from === '2025-05-02')).toMatchObject({ clicks: 2, visitors: 1 });
    const bad = await core.call('reports.series', { ...MAY, bucket: 'hour' as never });
    expect(bad.ok ? null : bad.error.message).toBe('bucket: one of day, week, month');
  });

  it('a filter narrows the money and the traffic alike', async () => {
    const s = must(await core.call('reports.series', { ...MAY, bucket: 'month', filter: { by: 'partner', value: 'ann' } }));
    expect(s.points.map((p) => [p.from, p.to, p.clicks, p.visitors, p.netMinor])).toEqual([['2025-05-01', '2025-05-31', 2, 2, 6000]]);
    expect(s.channels).toEqual(['Partner']);
  });
});

describe('reports.partners', () => {
  it('money and clicks per partner, with the partner’s name; the rest as no partner', async () => {
    const r = must(await core.call('reports.partners', MAY));
    expect(r.rows.map((x) => [x.partnerId, x.name, x.clicks, x.uniqueVisitors, x.customers, x.netMinor])).toEqual([
      [null, null, 2, 1, 3, 15000],
      ['ann', 'Ann Writer', 2, 2, 1, 6000],
    ]);
  });
});

it('sums the same in SQL (ledger currency) as row by row (any other currency), with and without a filter', () => {
  const sql: ReportSource = { db, ledgerCurrency: 'USD', fx: () => fixedRates({}) };
  const rows: ReportSource = { db, ledgerCurrency: 'XXX', fx: () => fixedRates({}) };
  for (const filter of [null, { by: 'channel' as const, value: 'Newsletter' }, { by: 'campaign' as const, value: null }]) {
    for (const model of ['last_click', 'linear'] as const) {
      const range: ReportRange = { ...MAY, timeZone: 'UTC', model, currency: 'USD', filter, start: t('2025-05-01T00:00'), end: t('2025-06-01T00:00') };
      expect(summaryReport(rows, range)).toEqual(summaryReport(sql, range));
      expect(seriesReport(rows, range, 'week')).toEqual(seriesReport(sql, range, 'week'));
      expect(partnersReport(rows, range)).toEqual(partnersReport(sql, range));
    }
  }
});

it('answers the dashboard in one call, each of its six reports the same as asked alone: filters, models, the ledger’s currency and another', () => {
  const sources: ReportSource[] = [
    { db, ledgerCurrency: 'USD', fx: () => fixedRates({}) },
    { db, ledgerCurrency: 'XXX', fx: () => fixedRates({}) },
  ];
  const filters = [null, { by: 'channel' as const, value: 'Newsletter' }, { by: 'campaign' as const, value: null }, { by: 'partner' as const, value: 'ann' }, { by: 'link' as const, value: 'news' }];
  for (const src of sources) {
    for (const filter of filters) {
      for (const model of ['last_click', 'linear', 'first_click'] as const) {
        for (const [from, to] of [
          [MAY.from, MAY.to],
          ['2025-04-01', '2025-05-31'],
        ] as const) {
          const range: ReportRange = { from, to, timeZone: 'UTC', model, currency: 'USD', filter, start: t(`${from}T00:00`), end: t('2025-06-01T00:00') };
          const alone = {
            summary: summaryReport(src, range),
            series: seriesReport(src, range),
            channels: channelsReport(src, range),
            links: linksReport(src, range),
            campaigns: campaignsReport(src, range),
            partners: partnersReport(src, range),
          };
          expect(dashboardReport(src, range), `${src.ledgerCurrency} ${JSON.stringify(filter)} ${model} ${from}..${to}`).toEqual(alone);
        }
      }
    }
  }
});

it('answers reports.dashboard through the core with the six reports asked alone', async () => {
  const ws = must(await core.call('workspaces.list', {}))[0]!.id;
  for (const args of [{ workspace: ws, ...MAY }, { workspace: ws, ...MAY, filter: { by: 'partner' as const, value: 'ann' } }, { workspace: ws }]) {
    const all = must(await core.call('reports.dashboard', args));
    expect(all.workspace).toBe(ws);
    expect(all.summary).toEqual(must(await core.call('reports.summary', args)));
    expect(all.series).toEqual(must(await core.call('reports.series', args)));
    expect(all.channels).toEqual(must(await core.call('reports.channels', args)));
    expect(all.links).toEqual(must(await core.call('reports.links', args)));
    expect(all.campaigns).toEqual(must(await core.call('reports.campaigns', args)));
    expect(all.partners).toEqual(must(await core.call('reports.partners', args)));
  }
  const bad = await core.call('reports.dashboard', { workspace: ws, filter: { by: 'colour', value: 'red' } as never });
  expect(bad.ok).toBe(false);
});

it('counts each bucket’s clicks over one range of clicks_at', () => {
  expect(trafficReportPlan(db).join('\n')).toMatch(/SCAN json_each[\s\S]*SEARCH c USING INDEX clicks_at \(at>\? AND at<\?\)/);
});

describe('customer labels', () => {
  it('name each customer by a short label from its key, the same in the list and its journey, never its id or hash', async () => {
    expect(customerLabel('cus_1')).toMatch(/^Customer [0-9A-HJKMNP-TV-Z]{6}$/);
    expect(customerLabel('cus_1')).toBe(customerLabel('cus_1'));
    expect(customerLabel('cus_1')).not.toBe(customerLabel('cus_3'));
    // Pinned: a label must not change between versions, or a founder's "Customer …" notes stop matching.
    expect(customerLabel('cus_sample0')).toBe('Customer C6NJVS');
    expect(customerLabel('email:279512abcdef')).not.toMatch(/279512|email/);
    const list = must(await core.call('reports.customers', {}));
    for (const row of list.rows) expect(row.label).toBe(customerLabel(row.customerKey));
    const journey = must(await core.call('reports.journey', { customer: 'cus_3' }));
    expect(journey.customer.label).toBe(list.rows.find((r) => r.customerKey === 'cus_3')!.label);
  });
});
