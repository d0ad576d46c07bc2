import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Result } from '@revtrail/shared';
import type { Series } from '../src/core/attribution/reports';
import type { Workspace } from '../src/core/workspaces/registry';
import type { BrowserMode } from '../src/launch/browser-mode';
import { lastDays } from '../src/renderer/report-range';
import { chromiumMissing, expectNoSeriousA11yViolations, launchChromium, SCREENSHOTS, startSpecApp } from './support';

// 03:00 UTC on Nov 30 is still Nov 29 in New York, the workspace's zone here, while the page's own zone is UTC: the
// chart's "today" must be the workspace's day, the last day of the range the core cut.
const NOW = Date.parse('2026-11-30T03:00:00Z');
const ZONE = 'America/New_York';

// Today has only its hours so far: the dashboard's charts mark it as partial (a dashed end of the traffic lines, a
// pale dashed-outlined bar, "Today" on the axis, "(today, so far)" in the tooltip and the table) instead of drawing
// it as a whole day that seems to drop. The figures are the core's, unchanged.
describe.skipIf(chromiumMissing !== '')(`Dashboard: today, so far${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  let dir: string;
  let app: BrowserMode;
  let browser: Browser;
  let page: Page;
  let ws: Workspace;
  const must = <T,>(r: Result<unknown>): T => {
    if (!r.ok) throw new Error(r.error.message);
    return r.value as T;
  };
  const SLOW = { timeout: 15_000 };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-ui-partial-day-'));
    app = await startSpecApp(dir, { clock: { now: () => NOW } });
    ws = must<Workspace>(await app.host.dispatch('shell.createSample', {}));
    must(await app.host.dispatch('settings.set', { workspace: ws.id, timeZone: ZONE }));
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 2, locale: 'en-US', timezoneId: 'UTC', colorScheme: 'light', bypassCSP: true });
    page = await context.newPage();
    await page.clock.setFixedTime(NOW);
    await page.goto(app.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks the last day of the last 30 days as today so far, in the workspace zone, with its figures unchanged', async () => {
    const series = must<Series>(await app.host.dispatch('reports.series', { workspace: ws.id, ...lastDays(30, ZONE, NOW), model: 'last_click', currency: 'USD' }));
    const today = series.points.at(-1)!;
    expect(today.from).toBe('2026-11-29');
    await page.goto(`${app.url.split('#')[0]}#/dashboard?days=30&model=last_click&currency=USD`);
    const traffic = page.locator('[data-chart="traffic"]');
    const daily = page.locator('[data-chart="daily"]');
    await traffic.locator('.recharts-line-curve').first().waitFor(SLOW);
    await daily.locator('.recharts-bar-rectangle').first().waitFor(SLOW);
    expect(await traffic.getAttribute('data-partial')).toBe('2026-11-29');
    expect(await daily.getAttribute('data-partial')).toBe('2026-11-29');

    // Each traffic line is solid over the whole days and dashed from yesterday to today.
    const dashed = traffic.locator('.recharts-line.so-far .recharts-line-curve');
    expect(await dashed.count()).toBe(2);
    for (const d of await dashed.all()) expect(await d.getAttribute('stroke-dasharray')).toBe('5 4');
    const solid = traffic.locator('.recharts-line:not(.so-far) .recharts-line-curve');
    expect(await solid.count()).toBe(2);
    for (const s of await solid.all()) expect(await s.getAttribute('stroke-dasharray')).toBeNull();

    // The axis says "Today" under the last point, not a date that reads as a whole day.
    for (const chart of [traffic, daily]) {
      const ticks = await chart.locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents();
      expect(ticks.at(-1)).toBe('Today');
      expect(ticks.filter((t) => t === 'Today')).toHaveLength(1);
    }
    // Today's bars (every channel with money today): paler, with a dashed outline; the other days' are not.
    const bars = daily.locator('.recharts-bar-rectangle path');
    const dashes = await bars.evaluateAll((ps) => ps.map((p) => [p.getAttribute('from'), p.getAttribute('stroke-dasharray'), p.getAttribute('fill-opacity')]));
    const todays = dashes.filter(([from]) => from === '2026-11-29');
    expect(todays.length).toBe(Object.values(today.netByChannel).filter((n) => n !== 0).length);
    expect(todays.length).toBeGreaterThan(0);
    for (const [, dash, opacity] of todays) expect([dash, opacity]).toEqual(['5 4', '0.4']);
    for (const [from, dash] of dashes) if (from !== '2026-11-29') expect(dash).toBeNull();

    // The tooltip of today's point names it and gives the core's own figures.
    const box = (await traffic.locator('.recharts-cartesian-grid').boundingBox())!;
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    const tooltip = traffic.locator('.chart-tooltip');
    await tooltip.waitFor();
    expect(await tooltip.locator('.chart-tooltip-title').textContent()).toBe('Sun, Nov 29, 2026 (today, so far)');
    const lines = await tooltip.locator('li').allTextContents();
    expect(lines.map((l) => l.trim())).toEqual([...(today.clicks ? [`Clicks ${today.clicks.toLocaleString('en-US')}`] : []), ...(today.visitors ? [`Visitors ${today.visitors.toLocaleString('en-US')}`] : [])]);
    // Yesterday's is a whole day, named by its date alone.
    await page.mouse.move(box.x + box.width * (1 - 1.5 / series.points.length), box.y + box.height / 2);
    await expect.poll(() => tooltip.locator('.chart-tooltip-title').textContent()).toBe('Sat, Nov 28, 2026');

    // The figures as a table say it too, in words a screen reader reads.
    const lastRow = page.locator('table[aria-label="Figures per bucket"] tbody tr').last();
    expect(await lastRow.getAttribute('data-partial')).toBe('');
    expect(await lastRow.locator('td').first().textContent()).toBe('Sun, Nov 29, 2026 (today, so far)');
    expect(await page.locator('table[aria-label="Figures per bucket"] tbody tr[data-partial]').count()).toBe(1);
    // The legend names the dashes, so the mark does not rest on its look alone.
    expect(await traffic.locator('.chart-legend').textContent()).toContain('Dashed: today, so far');
    expect(await daily.locator('.chart-legend').textContent()).toContain('Pale, dashed: today, so far');

    // Both charts close up without a tooltip over them, then the page with today's tooltip.
    await page.mouse.move(0, 0);
    await tooltip.waitFor({ state: 'hidden' });
    await page.locator('.chart-pair').screenshot({ path: join(SCREENSHOTS, 'dashboard-partial-day-charts.png') });
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    await tooltip.waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-partial-day.png'), fullPage: true });
    await expectNoSeriousA11yViolations(page, 'dashboard with today so far');
  }, 90_000);
});
