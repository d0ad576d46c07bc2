import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { BrowserMode } from '../src/launch/browser-mode';
import { chromiumMissing, launchChromium, SCREENSHOTS, startSpecApp } from './support';

// The Privacy screen in browser mode: a person found by email, visitor id and Telegram user id, an erasure, the request log.
describe.skipIf(chromiumMissing !== '')(`Privacy screen${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  let dir: string;
  let app: BrowserMode;
  let browser: Browser;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-ui-privacy-'));
    app = await startSpecApp(dir);
    expect((await app.host.dispatch('workspaces.add', { name: 'Shop' })).ok).toBe(true);
    // Emails are looked up by their hash under the redirector's key: the local redirector provides one.
    expect((await app.host.dispatch('shell.useLocalRedirector', {})).ok).toBe(true);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds by email, refuses a malformed visitor id with what one looks like, and logs each request', async () => {
    await page.goto(app.url);
    await page.getByRole('link', { name: 'Privacy' }).click();
    await page.getByRole('heading', { name: 'Privacy' }).waitFor();
    await page.getByLabel('Email address', { exact: true }).fill('alice@example.com');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('table', { name: 'Found' }).waitFor();
    expect(await page.locator('[data-section="found"]').textContent()).toContain('0 records found (linked: 0 browsers, 1 email hash, 0 Stripe customers)');
    await shot('privacy-00-found-by-email');
    await page.getByLabel('Find by').selectOption('visitor');
    await page.getByLabel('Visitor id (rt_vid cookie)', { exact: true }).fill('short');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByText(/22 characters/).first().waitFor();
    await page.getByRole('table', { name: 'Requests handled' }).waitFor();
    expect(await page.getByRole('table', { name: 'Requests handled' }).locator('tbody tr').count()).toBe(1);
    await shot('privacy-01-found-and-log');
  }, 60_000);

  it('finds by Telegram user id (as the CLI\'s --telegram does), refusing a @username with what an id looks like', async () => {
    await page.getByLabel('Find by').selectOption('telegram');
    await page.getByLabel('Telegram user id', { exact: true }).fill('@alice');
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByText(/not their @username/).first().waitFor();
    await page.getByLabel('Telegram user id', { exact: true }).fill('724365116');
    await page.getByRole('button', { name: 'Find' }).click();
    // The core linked the id's keyed hash: only a Telegram request counts a Telegram user.
    await expect.poll(() => page.locator('[data-section="found"]').textContent()).toContain('0 records found (linked: 0 browsers, 0 email hashes, 0 Stripe customers, 1 Telegram user)');
    await expect.poll(() => page.getByRole('table', { name: 'Requests handled' }).locator('tbody tr').count()).toBe(2);
    expect(await page.getByRole('table', { name: 'Requests handled' }).locator('tbody tr').first().locator('td').nth(2).textContent()).toBe('telegram');
    expect(await page.locator('[data-section="found"]').textContent()).toContain('On the redirector: 0 Telegram bot starts, 0 Telegram payments.');
    await shot('privacy-02-found-by-telegram-id');
  }, 60_000);
});
