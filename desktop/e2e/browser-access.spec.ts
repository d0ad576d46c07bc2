import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import type { BrowserMode } from '../src/launch/browser-mode';
import { RPC_BODY_LIMIT } from '../src/web/server';
import { chromiumMissing, launchChromium, SCREENSHOTS, startSpecApp } from './support';

// How a browser holds browser mode's access key: from the printed address's fragment into the tab, sent
// only as a bearer header, never as a cookie (which every other service on 127.0.0.1 would receive).
describe.skipIf(chromiumMissing !== '')(`browser mode's access key${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  let dir: string;
  let app: BrowserMode;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const toApp: Request[] = [];
  const shot = (p: Page, name: string) => p.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const openPrintedAddress = (p: Page) => p.getByRole('heading', { name: 'Open the address Revtrail printed' });
  // Strings: the page's globals are not Node's, which this file is typed against.
  const storedKey = (p: Page) => p.evaluate<string | null>("sessionStorage.getItem('revtrail.accessKey')");
  const printedToken = () => new URLSearchParams(new URL(app.url).hash.slice(1)).get('token')!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-ui-access-'));
    app = await startSpecApp(dir);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('request', (r) => {
      if (r.url().startsWith(app.web.origin)) toApp.push(r);
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a tab opened without the printed address says where the key is', async () => {
    const tab = await context.newPage();
    await tab.goto(app.web.origin);
    await openPrintedAddress(tab).waitFor();
    expect(await tab.getByText(/This tab has no access key/).count()).toBe(1);
    await shot(tab, 'access-01-open-printed-address');
    await tab.close();
  }, 30_000);

  it('takes the key from the fragment into the tab, out of the address bar, and sends it only as a header', async () => {
    expect(new URL(app.url).hash).toMatch(/^#token=./);
    await page.goto(app.url);
    await page.getByRole('heading', { name: 'Welcome to Revtrail' }).waitFor();
    expect(new URL(page.url()).hash).toBe('');
    const token = printedToken();
    expect(await storedKey(page)).toBe(token);

    await page.getByRole('button', { name: 'Open a sample workspace' }).click();
    await page.locator('[data-chart="daily"] .recharts-bar-rectangle').first().waitFor({ timeout: 30_000 });
    await shot(page, 'access-02-dashboard-after-fragment');

    // A reload keeps the tab's key; the address stays clean.
    await page.reload();
    await page.locator('[data-chart="daily"] .recharts-bar-rectangle').first().waitFor({ timeout: 30_000 });
    expect(new URL(page.url()).hash).toBe('#/dashboard');

    expect(await context.cookies()).toEqual([]);
    const guarded = toApp.filter((r) => /\/(rpc\/|events$)/.test(new URL(r.url()).pathname));
    expect(guarded.length).toBeGreaterThan(0);
    for (const r of toApp) {
      const headers = await r.allHeaders();
      expect(headers.cookie, r.url()).toBeUndefined();
      expect(r.url(), r.url()).not.toContain(token);
      if (guarded.includes(r)) expect(headers.authorization, r.url()).toBe(`Bearer ${token}`);
    }
  }, 60_000);

  it('another tab of the same browser does not inherit the key', async () => {
    const tab = await context.newPage();
    await tab.goto(`${app.web.origin}/#/dashboard`);
    await openPrintedAddress(tab).waitFor();
    await tab.close();
  }, 30_000);

  it('an RPC body over the limit gets 413 with a message, not a broken connection', async () => {
    const answer = await page.evaluate(
      async ({ size, token }) => {
        const res = await fetch('/rpc/workspaces.list', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: `{}${' '.repeat(size)}`,
        });
        return { status: res.status, body: await res.json() };
      },
      { size: 2 * RPC_BODY_LIMIT, token: printedToken() },
    );
    expect(answer).toEqual({ status: 413, body: { ok: false, error: { code: 'invalid_input', message: expect.stringMatching(/larger than Revtrail accepts \(1 MiB\)/) } } });
  }, 30_000);

  it('a key the server no longer takes sends the tab back to the printed address', async () => {
    await page.evaluate("sessionStorage.setItem('revtrail.accessKey', 'a-key-from-an-earlier-start')");
    await page.reload();
    await openPrintedAddress(page).waitFor();
    expect(await page.getByText(/no longer valid/).count()).toBe(1);
    expect(await storedKey(page)).toBeNull();
  }, 30_000);
});
