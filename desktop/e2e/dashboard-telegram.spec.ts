import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { newEventId, type Click, type Result, type TelegramPayment, type TelegramStart } from '@revtrail/shared';
import { factClick } from '../src/core/attribution/testing/facts';
import { openDatabase } from '../src/core/db/open';
import { insertClicks } from '../src/core/redirector/repo';
import { insertTelegramPayments, insertTelegramStarts } from '../src/core/telegram/repo';
import type { Workspace } from '../src/core/workspaces/registry';
import type { BrowserMode } from '../src/launch/browser-mode';
import { chromiumMissing, launchChromium, SCREENSHOTS, startSpecApp } from './support';

// The dashboard's Bot starts and Stars columns: absent while no row of the range has any, shown (Stars in their
// own unit, apart from Net) once a click on a bot link led to a /start and a Stars payment. The rows are written
// into the workspace's database as the redirector sync writes them (its insert functions), then credited by a rebuild.
describe.skipIf(chromiumMissing !== '')(`Dashboard Telegram columns${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  let dir: string;
  let app: BrowserMode;
  let browser: Browser;
  let page: Page;
  let ws: Workspace;
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const must = <T,>(r: Result<unknown>): T => {
    if (!r.ok) throw new Error(r.error.message);
    return r.value as T;
  };
  const T0 = Date.now() - 3 * 86_400_000;
  const VISITOR = 'TelegramVisitor0000001';
  const click = (id: string, over: Partial<Click>): Click =>
    factClick({ id, slug: 'web', at: T0, visitorId: 'WebVisitor000000000001', device: 'mobile', ...over });

  const withDb = (f: (db: ReturnType<typeof openDatabase>) => void) => {
    const db = openDatabase(join(dir, 'data', 'workspaces', ws.id, 'workspace.sqlite'));
    try {
      f(db);
    } finally {
      db.close();
    }
  };
  const headers = (table: string) => page.getByRole('table', { name: table }).locator('thead th').allTextContents();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-ui-dashboard-tg-'));
    app = await startSpecApp(dir);
    ws = must<Workspace>(await app.host.dispatch('workspaces.add', { name: 'Bot shop' }));
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows no bot columns while the range has no bot starts nor Stars', async () => {
    withDb((db) => insertClicks(db, [click(newEventId(T0), {})]));
    await page.goto(app.url);
    await page.getByRole('table', { name: 'Top channels' }).locator('tr[data-channel="Newsletter"]').waitFor();
    await page.getByRole('table', { name: 'Top links' }).waitFor();
    expect(await headers('Top channels')).not.toContain('Bot starts');
    expect(await headers('Top channels')).not.toContain('Stars');
    expect(await headers('Top links')).not.toContain('Bot starts');
    await shot('dashboard-telegram-00-no-bot');
  }, 60_000);

  it('shows Bot starts and Stars (never converted) once a bot link brought a start and a Stars payment', async () => {
    const clickId = newEventId(T0 + 1);
    const userHash = 'a'.repeat(64);
    withDb((db) => {
      insertClicks(db, [click(clickId, { slug: 'tg-ads', visitorId: VISITOR, channel: 'Telegram ads', campaign: 'spring' })]);
      const start: TelegramStart = { id: newEventId(T0 + 2), at: T0 + 60_000, startedAt: T0 + 60_000, updateId: 1, userHash, tokenDigest: 'd'.repeat(32), visitorId: VISITOR, clickId };
      expect(insertTelegramStarts(db, [start])).toBe(1);
      const payment: TelegramPayment = {
        id: newEventId(T0 + 3),
        at: T0 + 120_000,
        kind: 'payment',
        paidAt: T0 + 120_000,
        updateId: 2,
        userHash,
        currency: 'XTR',
        amountMinor: 1200,
        chargeId: 'stxE2E1',
        providerChargeId: null,
        recurring: false,
      };
      expect(insertTelegramPayments(db, [payment])).toBe(1);
    });
    must(await app.host.dispatch('attribution.rebuild', { workspace: ws.id }));
    await page.reload();
    const channels = page.getByRole('table', { name: 'Top channels' });
    await channels.locator('tr[data-channel="Telegram ads"]').waitFor();
    await expect.poll(() => headers('Top channels'), { timeout: 15_000 }).toContain('Bot starts');
    expect(await headers('Top channels')).toContain('Stars');
    const tg = channels.locator('tr[data-channel="Telegram ads"]');
    expect(await tg.locator('td[data-cell="bot-starts"]').textContent()).toBe('1');
    expect(await tg.locator('td[data-cell="stars"]').textContent()).toBe('1,200 Stars');
    // Stars are not money of the report's currency: Net stays at nothing.
    expect((await tg.locator('td[data-cell="net"]').textContent())!.replace(/[^\d]/g, '')).toBe('000');
    const news = channels.locator('tr[data-channel="Newsletter"]');
    expect(await news.locator('td[data-cell="stars"]').textContent()).toBe('0 Stars');
    // The breakdowns follow: the bot link, its campaign and "No partner" carry the same figures.
    for (const [table, key] of [
      ['Top links', 'tg-ads'],
      ['Campaigns', 'spring'],
      ['Partners', ''],
    ] as const) {
      expect(await headers(table)).toEqual(expect.arrayContaining(['Bot starts', 'Stars']));
      const row = page.getByRole('table', { name: table }).locator(`tr[data-key="${key}"]`);
      expect(await row.locator('td[data-cell="bot-starts"]').textContent()).toBe('1');
      expect(await row.locator('td[data-cell="stars"]').textContent()).toBe('1,200 Stars');
    }
    await shot('dashboard-telegram-01-bot-columns');
  }, 60_000);
});
