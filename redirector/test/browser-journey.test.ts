import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { chromiumMissing, chromiumPath } from './chromium';
import { hashEmail, normalizeEmail, type Click, type Identity, type Pageview } from '@revtrail/shared';
import { silentLogger } from '../src/log';
import { startLocalRedirector, type LocalRedirector } from '../src/local';
import type pino from 'pino';
import { CHROME_UA } from './support';

// The whole first-party loop in a real browser: a link made through the API, clicked in Chromium, the
// cookie set, the landing page on another host adopting the visitor id with the pixel, identify(), and
// every event back through the sync API.
const missing = chromiumMissing();
const TOKEN = 'journey-sync-token-0123456789abcdefghijkl';

describe.skipIf(missing !== '')(`link → browser → pixel → sync API${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let dir: string;
  let r: LocalRedirector;
  let site: Server;
  let siteOrigin: string;
  let browser: Browser;
  const requests: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-journey-'));
    // The shop: a landing page on "localhost", a different host from the redirector's 127.0.0.1.
    site = createServer((req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(
        `<!doctype html><title>Shop</title><h1>Pricing</h1>` +
          `<form id="f" action="/thanks" method="get"><input type="email" name="email"><button>Buy</button></form>` +
          `<script async src="${r.url}/p.js" data-auto-identify></script>`,
      );
    });
    await new Promise<void>((ok) => site.listen(0, '127.0.0.1', ok));
    siteOrigin = `http://localhost:${(site.address() as { port: number }).port}`;
    r = await startLocalRedirector({
      dataDir: dir,
      port: 0,
      log: silentLogger as pino.Logger,
      // The shop runs on this machine: a local redirector takes it as a destination only with this setting.
      settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0', REVTRAIL_ALLOWED_ORIGINS: siteOrigin, REVTRAIL_ALLOW_PRIVATE_DESTINATIONS: 'true' },
    });
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await r?.close();
    await new Promise((ok) => site?.close(ok));
    rmSync(dir, { recursive: true, force: true });
  });

  async function feed<T>(kind: string): Promise<T[]> {
    const res = await fetch(`${r.url}/api/v1/${kind}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return ((await res.json()) as { items: T[] }).items;
  }

  it('records the click, sets the cookie, and binds the visitor to an email hash', async () => {
    const put = await fetch(`${r.url}/api/v1/links/spring-sale`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ destination: `${siteOrigin}/pricing`, channel: 'Newsletter', campaign: 'spring', utm: { utm_source: 'newsletter', utm_medium: 'email' } }),
    });
    expect(put.status).toBe(201);

    // Headless Chromium says "HeadlessChrome": rightly a bot to the redirector. A person's browser does not.
    const context = await browser.newContext({ userAgent: CHROME_UA });
    const page = await context.newPage();
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(`${r.url}/spring-sale?fbclid=FB.123`);
    await page.waitForFunction("!location.search.includes('rt_vid') && document.cookie.includes('rt_vid=')");

    // Landed on the shop, with the UTMs and the click id, the visitor id taken out of the address bar.
    const landed = new URL(page.url());
    expect(landed.origin + landed.pathname).toBe(`${siteOrigin}/pricing`);
    expect(Object.fromEntries(landed.searchParams)).toEqual({ fbclid: 'FB.123', utm_source: 'newsletter', utm_medium: 'email' });

    // The redirector's first-party cookie, HttpOnly, on its own host; the shop's copy from the pixel.
    const redirectorCookie = (await context.cookies(r.url)).find((c) => c.name === 'rt_vid')!;
    expect(redirectorCookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    const vid = redirectorCookie.value;
    expect((await context.cookies(siteOrigin)).find((c) => c.name === 'rt_vid')?.value).toBe(vid);

    await page.fill('input[type=email]', ' Buyer@Example.com ');
    await Promise.all([page.waitForURL(/\/thanks/), page.click('button')]);
    await expect.poll(async () => (await feed<Identity>('identities')).length, { timeout: 10_000 }).toBe(1);

    const [click] = await feed<Click>('clicks');
    expect(click).toMatchObject({ slug: 'spring-sale', visitorId: vid, clickIds: { fbclid: 'FB.123' }, bot: false, channel: 'Newsletter', browser: expect.stringMatching(/Chrom/) });
    const pageviews = await feed<Pageview>('pageviews');
    expect(pageviews[0]).toMatchObject({ visitorId: vid, url: `${siteOrigin}/pricing?fbclid=FB.123&utm_source=newsletter&utm_medium=email` });
    const [identity] = await feed<Identity>('identities');
    expect(identity).toMatchObject({ visitorId: vid, source: 'form', emailHash: await hashEmail(normalizeEmail('buyer@example.com')!, r.config.emailHashKey) });

    // A second visit keeps the same visitor.
    await page.goto(`${r.url}/spring-sale`);
    await page.waitForURL(/\/pricing/);
    await expect.poll(async () => (await feed<Click>('clicks')).map((c) => c.visitorId), { timeout: 10_000 }).toEqual([vid, vid]);

    // Nothing left this machine.
    for (const url of requests) expect(new URL(url).hostname).toMatch(/^(127\.0\.0\.1|localhost)$/);
    await context.close();
  }, 60_000);
});
