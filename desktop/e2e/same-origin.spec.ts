import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import type { BrowserMode } from '../src/launch/browser-mode';
import { chromiumMissing, launchChromium, SCREENSHOTS, startSpecApp } from './support';

// Links screen → Same-origin mode in browser mode, against the app's own local redirector (with a proxy secret)
// behind a shop on 127.0.0.1 that forwards /_rt/ with the Node recipe of redirector/docs/same-origin/. The card is
// filled and checked, a wrong secret shows what to fix, and each link's details say its mode.
const SECRET = 'e2e-same-origin-proxy-secret-0123456789abc';
type Handler = (req: IncomingMessage, res: ServerResponse) => boolean;

describe.skipIf(chromiumMissing !== '')(`same-origin mode on the Links screen${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  let dir: string;
  let app: BrowserMode;
  let browser: Browser;
  let page: Page;
  let shop: string;
  let wrongShop: string;
  const servers: Server[] = [];
  const shot = (name: string, target: Page | Locator = page) =>
    'goto' in target ? target.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true }) : target.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  const call = async <T,>(method: string, args: Record<string, unknown>): Promise<T> => {
    const r = await app.host.dispatch(method, args);
    if (!r.ok) throw new Error(`${method}: ${r.error.message}`);
    return r.value as T;
  };
  const card = () => page.locator('details[aria-label="Same-origin mode"]');
  const checklist = () => card().getByRole('list', { name: 'Same-origin check' }).locator('li');

  async function site(handler: Handler): Promise<string> {
    const server = createServer((req, res) => {
      if (handler(req, res)) return;
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Shop</title><h1>Shop</h1>');
    });
    servers.push(server);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-ui-same-origin-'));
    app = await startSpecApp(dir, { localRedirector: { port: 0, settings: { REVTRAIL_PROXY_SECRET: SECRET, REVTRAIL_ALLOW_PRIVATE_DESTINATIONS: 'true' } } });
    const ws = (await call<{ id: string }>('workspaces.add', { name: 'Shop' })).id;
    await call('shell.useLocalRedirector', { workspace: ws });
    const { revtrailProxy } = (await import(new URL('../../redirector/docs/same-origin/node-proxy.mjs', import.meta.url).href)) as {
      revtrailProxy: (o: { target: string; secret: string }) => Handler;
    };
    const redirector = app.host.localRedirector!.url;
    shop = await site(revtrailProxy({ target: redirector, secret: SECRET }));
    wrongShop = await site(revtrailProxy({ target: redirector, secret: SECRET.replace(/.$/, 'x') }));
    await call('links.save', { workspace: ws, slug: 'spring', link: { destination: `${shop}/pricing`, channel: 'Newsletter' } });
    await call('links.save', { workspace: ws, slug: 'partner', link: { destination: 'https://partner.example/offer', channel: 'Affiliates' } });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(app.url).origin });
    page = await context.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is off at first: the card says so and each link is in tracking-domain mode', async () => {
    await page.goto(app.url);
    await page.getByRole('link', { name: 'Links' }).click();
    await card().waitFor();
    expect(await card().locator('summary').textContent()).toBe('Same-origin mode off: links and the pixel use the tracking domain');
    await page.getByRole('button', { name: 'spring' }).click();
    await expect.poll(() => page.locator('[data-mode]').first().textContent()).toMatch(/^Mode: tracking domain, because same-origin mode is not set up/);
  }, 60_000);

  it('a wrong secret on the site: the check says what to fix', async () => {
    await card().locator('summary').click();
    await card().getByLabel("Your site's address").fill(wrongShop);
    await card().getByRole('button', { name: 'Set up and check' }).click();
    await card().locator('[data-check="failed"]').waitFor({ timeout: 20_000 });
    expect(await checklist().filter({ hasText: '✗' }).allTextContents()).toEqual(["✗ The proxy secret the site sends is not the redirector's: set the same value on both."]);
    await shot('same-origin-00-wrong-secret', card());
  }, 60_000);

  it('through the site with the recipe: every item passes, the snippet and the link go through the site', async () => {
    await card().getByLabel("Your site's address").fill(shop);
    await card().getByRole('button', { name: 'Save and check' }).click();
    await card().locator('[data-check="ok"]').waitFor({ timeout: 20_000 });
    const items = await checklist().allTextContents();
    expect(items).toHaveLength(9);
    expect(items.every((i) => i.startsWith('✓'))).toBe(true);
    expect(await card().locator('summary').textContent()).toBe(`Same-origin mode on: 1 link of 2 through ${new URL(shop).host}`);
    expect(await card().locator('pre.snippet').textContent()).toBe(`<script async src="${shop}/_rt/p.js" data-auto-identify></script>`);
    await card().getByRole('button', { name: 'Copy same-origin pixel snippet' }).click();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(`<script async src="${shop}/_rt/p.js" data-auto-identify></script>`);

    const spring = page.locator('[data-mode="same-origin"]');
    await spring.waitFor();
    expect(await spring.getAttribute('data-checked')).toBe('ok');
    expect(await spring.locator('code').textContent()).toBe(`${shop}/_rt/spring`);
    await shot('same-origin-01-on', page);
    await page.setViewportSize({ width: 800, height: 1000 });
    await shot('same-origin-02-on-800px', page);
    await page.setViewportSize({ width: 1280, height: 1000 });

    // The link works through the site: a redirect to its destination, the cookie set by the site's host.
    const res = await fetch(`${shop}/_rt/spring`, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (Macintosh) Chrome/131.0.0.0 Safari/537.36' } });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${shop}/pricing`);
    expect(res.headers.getSetCookie()[0]).toMatch(/^rt_vid=[\w-]{22}; Max-Age=2592000; Path=\/; HttpOnly; SameSite=Lax$/);

    await page.getByRole('button', { name: 'partner' }).click();
    await expect.poll(() => page.locator('[data-mode="tracking-domain"]').textContent()).toMatch(/because its destination is not on your same-origin site/);
  }, 60_000);

  it('turned off: links go back to the tracking domain', async () => {
    await card().getByRole('button', { name: 'Turn off' }).click();
    await expect.poll(() => card().locator('summary').textContent()).toBe('Same-origin mode off: links and the pixel use the tracking domain');
    expect(await page.locator('[data-mode="same-origin"]').count()).toBe(0);
  }, 30_000);
});
