import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Result } from '@revtrail/shared';
import type { ReportCurrencies } from '../src/core/attribution/currencies';
import type { ChannelRow, Report, Series, Summary } from '../src/core/attribution/reports';
import type { Workspace } from '../src/core/workspaces/registry';
import type { BrowserMode } from '../src/launch/browser-mode';
import { lastDays } from '../src/renderer/report-range';
import { chromiumMissing, launchChromium, SCREENSHOTS, startSpecApp } from './support';

// The dashboard over the sample workspace (90 days of made-up clicks and payments): every panel follows the one
// range, model and currency chosen. "Top channels" once stayed on the last 30 days whatever the range said.
describe.skipIf(chromiumMissing !== '')(`Dashboard range${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  let dir: string;
  let app: BrowserMode;
  let browser: Browser;
  let page: Page;
  let ws: Workspace;
  let timeZone: string;
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const must = <T,>(r: Result<unknown>): T => {
    if (!r.ok) throw new Error(r.error.message);
    return r.value as T;
  };
  /** What the core answers for the channels of the last `days` days, as the dashboard asks it. */
  const channels = async (days: number, model: string, currency: string) =>
    must<Report<ChannelRow>>(await app.host.dispatch('reports.channels', { workspace: ws.id, ...lastDays(days, timeZone), model, currency }));
  /** The Top channels table as shown: channel -> [clicks, net in minor units]. */
  const shownTable = async () => {
    const rows = page.getByRole('table', { name: 'Top channels' }).locator('tbody tr');
    const out: Record<string, [number, number]> = {};
    for (const row of await rows.all()) {
      const cells = await row.locator('td').allTextContents();
      const channel = (await row.getAttribute('data-channel'))!;
      // "1,234" clicks; "$1,234.50" or "€1,234.50" net: the digits are the amount in cents.
      out[channel] = [Number(cells[1]!.replace(/\D/g, '')), Number((await row.locator('td[data-cell="net"]').textContent())!.replace(/[^\d-]/g, ''))];
    }
    return out;
  };
  const expected = (r: Report<ChannelRow>) => Object.fromEntries(r.rows.map((x) => [x.channel, [x.clicks, x.netMinor]]));
  // After a change the dashboard reads six reports of the sample again: more than expect.poll's second on a busy machine.
  const SLOW = { timeout: 15_000 };
  const digits = (s: string | null) => Number((s ?? '').replace(/[^\d-]/g, ''));
  /** The headline numbers as shown: revenue in cents, the counts, the conversion rate in tenths of a percent. */
  const shownHeadline = async () => {
    const v = (key: string) => page.locator(`[data-stat="${key}"] .stat-value`).textContent();
    return { net: digits(await v('netMinor')), customers: digits(await v('customers')), clicks: digits(await v('clicks')), visitors: digits(await v('visitors')), conversion: await v('conversionRate') };
  };
  const expectedHeadline = (s: Summary) => ({
    net: s.current.netMinor,
    customers: s.current.customers,
    clicks: s.current.clicks,
    visitors: s.current.visitors,
    conversion: s.current.conversionRate === null ? '—' : new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 }).format(s.current.conversionRate),
  });
  const call = async <T,>(method: 'reports.summary' | 'reports.series' | 'reports.links' | 'reports.campaigns' | 'reports.partners', days: number, extra: object = {}) =>
    must<T>(await app.host.dispatch(method, { workspace: ws.id, ...lastDays(days, timeZone), model: 'last_click', currency: 'USD', ...extra }));
  /** The first rows of a compact breakdown as shown: [name, net in cents]. */
  const shownBreakdown = async (by: string) =>
    Promise.all((await page.locator(`[data-breakdown="${by}"] tbody tr`).all()).map(async (r) => [(await r.locator('td').first().textContent())!.trim(), digits(await r.locator('td[data-cell="net"]').textContent())]));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-ui-dashboard-'));
    app = await startSpecApp(dir);
    ws = must<Workspace>(await app.host.dispatch('shell.createSample', {}));
    timeZone = must<{ timeZone: string }>(await app.host.dispatch('settings.get', { workspace: ws.id })).timeZone;
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' })).newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('"Last 90 days" moves the Top channels table, its heading and the chart to the 90 days; model and currency follow too', async () => {
    await page.goto(app.url);
    const heading = page.getByRole('heading', { name: /^Top channels/ });
    const chartHeading = page.getByRole('heading', { name: /^Net revenue per channel/ });
    await expect.poll(() => heading.textContent()).toMatch(/^Top channels, last 30 days/);
    const d30 = await channels(30, 'last_click', 'USD');
    await expect.poll(shownTable).toEqual(expected(d30));

    await page.getByLabel('Range').selectOption({ label: 'Last 90 days' });
    await expect.poll(() => chartHeading.textContent()).toBe('Net revenue per channel, last 90 days (USD)');
    await expect.poll(() => heading.textContent()).toBe('Top channels, last 90 days (USD)');
    const d90 = await channels(90, 'last_click', 'USD');
    // The sample's clicks span 90 days: the two ranges differ, so showing the 30 days would fail here.
    expect(expected(d90)).not.toEqual(expected(d30));
    await expect.poll(shownTable).toEqual(expected(d90));
    await shot('dashboard-range-90-days');

    // Every other panel follows the same 90 days: the headline numbers, both charts (in weeks), links, campaigns, partners.
    const summary90 = await call<Summary>('reports.summary', 90);
    expect(expectedHeadline(summary90)).not.toEqual(expectedHeadline(await call<Summary>('reports.summary', 30)));
    await expect.poll(shownHeadline, SLOW).toEqual(expectedHeadline(summary90));
    const series90 = await call<Series>('reports.series', 90);
    expect(series90.bucket).toBe('week');
    await expect.poll(() => page.locator('[data-chart="daily"]').getAttribute('data-bucket'), SLOW).toBe('week');
    expect(await page.locator('[data-chart="traffic"]').getAttribute('data-bucket')).toBe('week');
    expect(await page.getByRole('heading', { name: /^Clicks and visitors/ }).textContent()).toBe('Clicks and visitors, last 90 days');
    const buckets = page.getByRole('table', { name: 'Figures per bucket', includeHidden: true }).locator('tbody tr');
    expect(await buckets.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-bucket')))).toEqual(series90.points.map((p) => p.from));
    for (const [by, title, method, name] of [
      ['link', 'Top links', 'reports.links', (r: { slug: string | null }) => r.slug ?? 'No link'],
      ['campaign', 'Campaigns', 'reports.campaigns', (r: { campaign: string | null }) => r.campaign ?? 'No campaign'],
      ['partner', 'Partners', 'reports.partners', (r: { partnerId: string | null; name: string | null }) => (r.partnerId === null ? 'No partner' : (r.name ?? r.partnerId))],
    ] as const) {
      expect(await page.getByRole('heading', { name: new RegExp(`^${title},`) }).textContent()).toBe(`${title}, last 90 days (USD)`);
      const report = await call<Report<{ netMinor: number }>>(method, 90);
      await expect.poll(() => shownBreakdown(by), { ...SLOW, message: by }).toEqual(report.rows.slice(0, 8).map((r) => [(name as (x: unknown) => string)(r), r.netMinor]));
    }

    // A channel's row narrows every panel to it (the address says so), and Back widens them again.
    await page.locator('tr[data-channel="Newsletter"]').getByRole('button', { name: 'Newsletter' }).click();
    await expect.poll(() => new URL(page.url()).hash, SLOW).toBe('#/dashboard?days=90&model=last_click&currency=USD&by=channel&value=Newsletter');
    const filter = { filter: { by: 'channel', value: 'Newsletter' } };
    await expect.poll(shownHeadline, SLOW).toEqual(expectedHeadline(await call<Summary>('reports.summary', 90, filter)));
    const newsletter = must<Report<ChannelRow>>(await app.host.dispatch('reports.channels', { workspace: ws.id, ...lastDays(90, timeZone), model: 'last_click', currency: 'USD', ...filter }));
    expect(newsletter.rows.map((r) => r.channel)).toEqual(['Newsletter']);
    await expect.poll(shownTable, SLOW).toEqual(expected(newsletter));
    const links = await call<Report<{ slug: string | null; netMinor: number }>>('reports.links', 90, filter);
    expect(links.rows.every((r) => r.slug === null || r.slug.startsWith('newsletter-'))).toBe(true);
    await expect.poll(() => shownBreakdown('link'), SLOW).toEqual(links.rows.slice(0, 8).map((r) => [r.slug ?? 'No link', r.netMinor]));
    await shot('dashboard-range-90-days-newsletter');
    await page.goBack();
    await expect.poll(shownHeadline, SLOW).toEqual(expectedHeadline(summary90));
    await expect.poll(shownTable, SLOW).toEqual(expected(d90));

    await page.getByLabel('Model').selectOption({ label: 'Linear' });
    await page.getByLabel('Currency').selectOption('EUR');
    await expect.poll(() => heading.textContent()).toBe('Top channels, last 90 days (EUR)');
    await expect.poll(() => chartHeading.textContent()).toBe('Net revenue per channel, last 90 days (EUR)');
    await expect.poll(shownTable).toEqual(expected(await channels(90, 'linear', 'EUR')));
    await shot('dashboard-range-90-days-linear-eur');
  }, 90_000);

  it('Links: no link shows money without a customer (the sample’s social-21 showed 0 customers beside $39.00)', async () => {
    await page.goto(app.url);
    await page.getByRole('link', { name: 'Links' }).click();
    const table = page.getByRole('table', { name: 'Links' });
    await table.locator('tr[data-slug="social-21"] td[data-cell="net"]').filter({ hasText: /\d/ }).waitFor();
    const rows = await table.locator('tbody tr[data-slug]').all();
    expect(rows.length).toBe(24);
    let withMoney = 0;
    for (const row of rows) {
      const net = Number((await row.locator('td[data-cell="net"]').textContent())!.replace(/[^\d-]/g, ''));
      const customers = Number((await row.locator('td[data-cell="customers"]').textContent())!.replace(/\D/g, ''));
      if (net > 0) {
        withMoney += 1;
        expect(customers, `${await row.getAttribute('data-slug')}: net ${net} with no customer`).toBeGreaterThan(0);
      }
    }
    expect(withMoney).toBeGreaterThan(0);
    await shot('dashboard-range-links');
  });

  it('offers only the currencies the core can convert to', async () => {
    const known = must<ReportCurrencies>(await app.host.dispatch('reports.currencies', { workspace: ws.id }));
    await page.goto(app.url);
    const offered = async () => (await page.getByLabel('Currency').locator('option').allTextContents()).map((c) => c.trim());
    await expect.poll(offered).toEqual(known.currencies);
    expect(known.currencies).toContain('EUR');
    expect(known.currencies).not.toContain('XYZ');
  });
});
