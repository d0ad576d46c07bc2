import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Result } from '@revtrail/shared';
import type { Workspace } from '../src/core/workspaces/registry';
import type { BrowserMode } from '../src/launch/browser-mode';
import { chromiumMissing, expectNoSeriousA11yViolations, launchChromium, SCREENSHOTS, startSpecApp } from './support';

/** The README's pictures: made here, over the sample workspace at a fixed time, so they show the app as it is. */
export const README_SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
// A fixed moment for the core and the page alike: the sample's 90 days, the ranges and "ago" read the same every run.
const NOW = Date.parse('2026-11-30T09:00:00Z');

// Every screen over the sample workspace in Chromium: axe-core finds no serious or critical violation on any,
// each is photographed at 1280 and 800 px (the 1280 px pictures of the main screens go to the README), and the
// keyboard reaches the dashboard's controls and rows.
describe.skipIf(chromiumMissing !== '')(`screens${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  let dir: string;
  let app: BrowserMode;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const minor: Record<string, string[]> = {};
  // The reports of the sample take a moment on a busy machine: wait for them longer than expect.poll's second.
  const poll = <T,>(read: () => Promise<T>) => expect.poll(read, { timeout: 15_000 });
  const must = <T,>(r: Result<unknown>): T => {
    if (!r.ok) throw new Error(r.error.message);
    return r.value as T;
  };

  /** Checks the screen with axe-core, then photographs it at 1280 px (README when named) and 800 px. */
  async function check(screen: string, readme?: string) {
    minor[screen] = await expectNoSeriousA11yViolations(page, screen);
    if (readme) {
      // No hover left from the last click, and what paints after the data (fonts, a late row) has painted.
      await page.mouse.move(0, 0);
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(README_SCREENSHOTS, `${readme}.png`) });
    }
    await page.screenshot({ path: join(SCREENSHOTS, `screens-${screen}-1280.png`), fullPage: true });
    await page.setViewportSize({ width: 800, height: 900 });
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(SCREENSHOTS, `screens-${screen}-800.png`), fullPage: true });
    minor[`${screen} at 800 px`] = await expectNoSeriousA11yViolations(page, `${screen} at 800 px`);
    await page.setViewportSize({ width: 1280, height: 800 });
  }
  const open = async (hash: string, ready: () => Promise<unknown>) => {
    await page.goto(`${app.url.split('#')[0]}${hash}`);
    await ready();
    // Every part of the screen has answered: no "Loading …" left.
    await poll(() => page.getByText(/^Loading /).count()).toBe(0);
  };

  beforeAll(async () => {
    mkdirSync(README_SCREENSHOTS, { recursive: true });
    // A fixed folder: the footer shows it, and the README's pictures must not change with a random name.
    dir = join(tmpdir(), 'revtrail-screens');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    app = await startSpecApp(dir, { clock: { now: () => NOW } });
    must<Workspace>(await app.host.dispatch('shell.createSample', {}));
    browser = await launchChromium();
    // The app's CSP allows no inline script: axe-core goes in as one (support.ts).
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', timezoneId: 'UTC', colorScheme: 'light', bypassCSP: true });
    page = await context.newPage();
    await page.clock.setFixedTime(NOW);
    // The address carries the access key once; later visits by hash keep this tab's session.
    await page.goto(app.url);
  }, 180_000);

  afterAll(async () => {
    console.log(`axe-core, minor and moderate findings:\n${Object.entries(minor).map(([s, v]) => `  ${s}: ${v.length === 0 ? 'none' : v.join('; ')}`).join('\n')}`);
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Dashboard: headline numbers, charts and breakdowns', async () => {
    await open('#/dashboard', () => page.locator('[data-chart="daily"] .recharts-bar-rectangle').first().waitFor());
    await page.locator('[data-breakdown="partner"] tbody tr').first().waitFor();
    expect(await page.getByRole('region', { name: 'Headline numbers' }).locator('.stat').count()).toBe(5);
    await check('dashboard', 'dashboard');
    // A bar's tooltip: its day with the year, only the channels with money that day (no $0.00 rows), and the total.
    // Today's bar (the range ends today) also says it has only the hours so far (dashboard-partial-day.spec.ts).
    await page.locator('[data-chart="daily"] .recharts-bar-rectangle').last().hover();
    const tooltip = page.locator('[data-chart="daily"] .chart-tooltip');
    await tooltip.waitFor();
    expect(await tooltip.locator('.chart-tooltip-title').textContent()).toMatch(/^[A-Z][a-z]{2}, [A-Z][a-z]{2} \d{1,2}, 2026( \(today, so far\))?$/);
    const lines = await tooltip.locator('li').allTextContents();
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toMatch(/\$0\.00$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'screens-dashboard-tooltip.png') });
  }, 60_000);

  it('Dashboard over 365 days: months, not hairline days, with the year on every date', async () => {
    await page.getByLabel('Range').selectOption({ label: 'Last 365 days' });
    await poll(() => page.locator('[data-chart="daily"]').getAttribute('data-bucket')).toBe('month');
    // 2025-12-01 to 2026-11-30: twelve months, each named with its year.
    const tickTexts = () => page.locator('[data-chart="daily"] .recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents();
    await poll(async () => (await tickTexts()).length).toBeGreaterThan(3);
    const ticks = await tickTexts();
    for (const t of ticks) expect(t).toMatch(/^[A-Z][a-z]{2} 20(25|26)$/);
    // No axis reads cents or a minus the data does not have.
    const money = await page.locator('[data-chart="daily"] .recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents();
    for (const m of money) expect(m).toMatch(/^\$[\d,.]+K?$/);
    await check('dashboard-365-days');
  }, 60_000);

  it('Dashboard narrowed to one channel from its row, and wide again with Back', async () => {
    await open('#/dashboard', () => page.locator('table[aria-label="Top channels"] tbody tr').first().waitFor());
    await page.locator('tr[data-channel="Newsletter"]').getByRole('button', { name: 'Newsletter' }).click();
    await page.getByRole('status').filter({ hasText: 'Showing only channel Newsletter' }).waitFor();
    await poll(() => page.locator('table[aria-label="Top channels"] tbody tr').count()).toBe(1);
    await check('dashboard-filtered');
    await page.goBack();
    await poll(() => page.locator('table[aria-label="Top channels"] tbody tr').count()).toBeGreaterThan(1);
  }, 60_000);

  it('the keyboard reaches the controls, the channel rows and the charts', async () => {
    await open('#/dashboard', () => page.locator('table[aria-label="Top channels"] tbody tr').first().waitFor());
    const reached = new Set<string>();
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      // What has the focus: a control's name, a button's text, or the chart it is in.
      reached.add(
        await page.evaluate<string>(`(() => {
          const el = document.activeElement;
          const chart = el && el.closest('[data-chart]');
          if (chart) return 'chart:' + chart.getAttribute('data-chart');
          return el ? el.getAttribute('name') || (el.textContent || '').trim() : '';
        })()`),
      );
    }
    expect([...reached]).toEqual(expect.arrayContaining(['model', 'currency', 'range', 'Newsletter', 'chart:daily', 'chart:traffic']));
  }, 60_000);

  it('Model comparison', async () => {
    await open('#/models?days=90&model=last_click&currency=USD', () => page.locator('table[aria-label="Model comparison"] tbody tr').first().waitFor());
    expect(await page.locator('table[aria-label="Model comparison"] td[data-diff]').count()).toBeGreaterThan(0);
    await check('models', 'models');
  }, 60_000);

  it('Customers and a journey', async () => {
    await open('#/customers', () => page.getByRole('table', { name: 'Customers' }).locator('tbody tr').first().waitFor());
    await check('customers', 'customers');
    await page.getByRole('table', { name: 'Customers' }).locator('tbody tr a').first().click();
    await page.locator('ol.timeline li').first().waitFor();
    await check('journey', 'journey');
  }, 60_000);

  it('Links', async () => {
    await open('#/links', () => page.locator('tr[data-slug="social-21"] td[data-cell="net"]').filter({ hasText: /\d/ }).waitFor());
    await check('links', 'links');
  }, 60_000);

  it('Affiliates', async () => {
    await open('#/affiliates', () => page.locator('tr[data-partner="ann-sample"]').waitFor());
    await check('affiliates', 'affiliates');
  }, 60_000);

  it('Privacy, Settings (with Meta), Sync and Set up', async () => {
    await open('#/privacy', () => page.getByRole('heading', { name: 'Requests handled' }).waitFor());
    await check('privacy');
    await open('#/settings', () => page.getByRole('heading', { name: 'Exchange rates (ECB)' }).waitFor());
    await check('settings');
    await page.getByRole('heading', { name: /Meta/ }).first().scrollIntoViewIfNeeded();
    await check('meta');
    await open('#/sync', () => page.getByRole('heading', { name: 'Runs by itself' }).waitFor());
    await check('sync');
    await open('#/onboarding', () => page.getByRole('heading', { name: /^3\. Stripe/ }).waitFor());
    await check('onboarding');
  }, 120_000);
});
