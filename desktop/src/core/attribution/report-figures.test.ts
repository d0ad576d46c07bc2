import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../core';
import { openDatabase, type Db } from '../db/open';
import type { SecretStore } from '../secrets/types';
import { WorkspaceRegistry } from '../workspaces/registry';
import { campaignsReport, channelsReport, linksReport, type ReportRange, type ReportSource } from './reports';
import { fixedRates } from './testing/fx';
import { addCharge, addClick, addCustomer, addInvoice, addPageview, addSubscription, t } from './testing/facts';

// The wrong figures of issue 14, each over the facts that showed it, on a workspace database on disk read
// through the core as the UI and the CLI read it.
const dir = mkdtempSync(join(tmpdir(), 'revtrail-report-figures-'));
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
  const ws = must(await core.call('workspaces.add', { name: 'Figures' }));
  db = openDatabase(new WorkspaceRegistry(dir).databasePath(ws.id));
  const launch = { slug: 'launch', channel: 'Social', campaign: 'spring' };
  // A subscriber who clicked `launch` in March, paid first in April and renews in May: May's money of the link
  // is a renewal (the sample's social-21 showed "0 customers, $39.00 net").
  addClick(db, { id: 'ca', at: t('2025-03-30T09:00'), visitorId: 'vA', ...launch });
  addSubscription(db, 'sub_a', 'cus_a', t('2025-04-01T12:00'));
  addInvoice(db, { id: 'in_a1', createdAt: t('2025-04-01T12:00'), subscriptionId: 'sub_a', billingReason: 'subscription_create', amountPaidMinor: 3900, currency: 'USD' });
  addInvoice(db, { id: 'in_a2', createdAt: t('2025-05-01T12:00'), subscriptionId: 'sub_a', billingReason: 'subscription_cycle', amountPaidMinor: 3900, currency: 'USD' });
  addCharge(db, { id: 'ch_a1', createdAt: t('2025-04-01T12:00'), amountMinor: 3900, currency: 'USD', customerId: 'cus_a', visitorId: 'vA', invoiceId: 'in_a1' });
  addCharge(db, { id: 'ch_a2', createdAt: t('2025-05-01T12:00'), amountMinor: 3900, currency: 'USD', customerId: 'cus_a', invoiceId: 'in_a2' });
  // Another click on `launch` in May that bought nothing.
  addClick(db, { id: 'ce', at: t('2025-05-03T09:00'), visitorId: 'vE', ...launch });
  // One click in May on a link without a campaign, no purchase; and a purchase that came with no click at all
  // (Direct): the "(none)" campaign's 434.43 per click.
  addClick(db, { id: 'cb', at: t('2025-05-12T09:00'), visitorId: 'vB', slug: 'plain', channel: 'Email', campaign: null });
  addCustomer(db, 'cus_d', null, t('2025-05-10'));
  addCharge(db, { id: 'ch_d', createdAt: t('2025-05-10T12:00'), amountMinor: 43443, currency: 'USD', customerId: 'cus_d' });
  // A pageview of the spring campaign from the newsletter (channel Email), then a purchase credited to it.
  addPageview(db, { id: 'pc', at: t('2025-05-14T09:00'), visitorId: 'vC', utm: { utm_source: 'newsletter', utm_campaign: 'spring' } });
  addCharge(db, { id: 'ch_c', createdAt: t('2025-05-15T12:00'), amountMinor: 10000, currency: 'USD', customerId: 'cus_c', visitorId: 'vC' });
  // A charge in a currency the ECB does not quote: this workspace's own, so it can be reported in.
  addCharge(db, { id: 'ch_k', createdAt: t('2025-02-15T12:00'), amountMinor: 36700, currency: 'AED', customerId: 'cus_k' });
  must(await core.call('attribution.rebuild', {}));
});

afterAll(() => {
  db.close();
  core.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('net per click divides only the money clicks earned', () => {
  it('campaigns: Direct money in "(none)" is not divided by a click that earned nothing; a pageview’s money is not the campaign’s clicks’', async () => {
    const r = must(await core.call('reports.campaigns', MAY));
    const none = r.rows.find((x) => x.campaign === null)!;
    // Before: 43443 / 1 click = 434.43 per click.
    expect(none).toMatchObject({ clicks: 1, netMinor: 43443, clickNetMinor: 0, revenuePerClickMinor: 0 });
    const spring = r.rows.find((x) => x.campaign === 'spring')!;
    // The renewal (3900) came through a click; the pageview's purchase (10000) did not.
    expect(spring).toMatchObject({ clicks: 1, netMinor: 13900, clickNetMinor: 3900, revenuePerClickMinor: 3900 });
  });

  it('channels: Direct and pageview money give no per-click figure of their own', async () => {
    const r = must(await core.call('reports.channels', MAY));
    expect(r.rows.map((x) => [x.channel, x.clicks, x.netMinor, x.clickNetMinor, x.revenuePerClickMinor])).toEqual([
      ['Direct', 0, 43443, 0, null],
      ['Email', 1, 10000, 0, 0],
      ['Social', 1, 3900, 3900, 3900],
    ]);
  });
});

describe('customers are counted over the same rows as the money', () => {
  it('a link whose range holds only a renewal shows its paying customer (the sample’s social-21)', async () => {
    const links = must(await core.call('reports.links', MAY));
    // Before: customers 0 beside a net of 3900, because only first payments counted a customer.
    expect(links.rows.find((x) => x.slug === 'launch')).toMatchObject({ clicks: 1, customers: 1, conversions: 0, netMinor: 3900 });
    const channels = must(await core.call('reports.channels', MAY));
    expect(channels.rows.find((x) => x.channel === 'Social')).toMatchObject({ customers: 1, conversions: 0 });
    expect(channels.totals).toMatchObject({ customers: 3, conversions: 2 });
    // Converted row by row (another currency): the same count.
    const eur = must(await core.call('reports.links', { ...MAY, currency: 'EUR' }));
    expect(eur.rows.find((x) => x.slug === 'launch')).toMatchObject({ customers: 1, conversions: 0 });
  });

  it('no row has money without a customer, in any report and model', async () => {
    for (const model of ['last_click', 'first_click', 'linear', 'last_non_direct'] as const) {
      for (const method of ['reports.channels', 'reports.links', 'reports.campaigns'] as const) {
        const r = await core.call(method, { ...MAY, model });
        if (!r.ok) throw new Error(r.error.message);
        for (const row of r.value.rows as { grossMinor: number; customers: number }[]) if (row.grossMinor > 0) expect(row.customers, `${method} ${model} ${JSON.stringify(row)}`).toBeGreaterThan(0);
      }
    }
  });

  it('sums the same in SQL (ledger currency) as row by row (any other currency)', () => {
    const sql: ReportSource = { db, ledgerCurrency: 'USD', fx: () => fixedRates({}) };
    const rows: ReportSource = { db, ledgerCurrency: 'XXX', fx: () => fixedRates({}) };
    for (const model of ['last_click', 'linear'] as const) {
      const range: ReportRange = { ...MAY, timeZone: 'UTC', model, currency: 'USD', start: t('2025-05-01'), end: t('2025-06-01') };
      for (const report of [channelsReport, linksReport, campaignsReport]) expect(report(rows, range), `${report.name} ${model}`).toEqual(report(sql, range));
    }
  });
});

describe('the reporting currency is one Revtrail can convert to', () => {
  it('lists the euro, the currencies the ECB quotes today and the workspace’s own', async () => {
    const c = must(await core.call('reports.currencies', {}));
    expect(c.ecb).toEqual(expect.arrayContaining(['EUR', 'USD', 'GBP', 'JPY', 'CHF']));
    // The ECB stopped quoting these (euro adoption, suspension): recent money cannot reach them.
    for (const gone of ['BGN', 'HRK', 'RUB', 'CYP']) expect(c.currencies).not.toContain(gone);
    expect(c.own).toEqual(['AED', 'USD']);
    expect(c.currencies).toContain('AED');
    expect(c.currencies).toEqual([...c.currencies].sort());
  });

  it('refuses any other code on every report, the journey, the customers and the setting, naming the choices', async () => {
    const calls = [
      core.call('reports.channels', { ...MAY, currency: 'XYZ' }),
      core.call('reports.daily', { ...MAY, currency: 'XYZ' }),
      core.call('reports.links', { ...MAY, currency: 'XYZ' }),
      core.call('reports.campaigns', { ...MAY, currency: 'XYZ' }),
      core.call('reports.ltv', { ...MAY, currency: 'XYZ' }),
      core.call('reports.models', { ...MAY, currency: 'XYZ' }),
      core.call('reports.customers', { currency: 'XYZ' }),
      core.call('reports.journey', { customer: 'cus_a', currency: 'XYZ' }),
      core.call('settings.set', { currency: 'XYZ' }),
      core.call('reports.channels', { ...MAY, currency: 'BGN' }),
      core.call('reports.channels', { ...MAY, currency: 42 as never }),
    ];
    for (const r of await Promise.all(calls)) {
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error.code).toBe('invalid_input');
      expect(r.error.message).toMatch(/^currency: Revtrail cannot convert money to .*; choose one of AED, AUD, .*EUR, .*USD/);
    }
    expect(must(await core.call('settings.get', {})).currency).toBe('USD');
  });

  it('takes an ECB currency or the workspace’s own in any case, and the setting accepts them', async () => {
    expect(must(await core.call('reports.channels', { ...MAY, currency: 'eur' })).currency).toBe('EUR');
    const aed = must(await core.call('reports.channels', { from: '2025-02-01', to: '2025-02-28', currency: 'aed' }));
    expect(aed).toMatchObject({ currency: 'AED', totals: { grossMinor: 36700 }, unconverted: { rows: 0 } });
    expect(must(await core.call('settings.set', { currency: 'jpy' })).settings.currency).toBe('JPY');
    expect(must(await core.call('settings.set', { currency: 'USD' })).settings.currency).toBe('USD');
  });
});
