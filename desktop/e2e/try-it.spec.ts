import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { startFakeStripe, type FakeStripe } from '../src/fake-stripe/server';
import type { BrowserMode } from '../src/launch/browser-mode';
import { CHROME_UA, chromiumMissing, expectNoSeriousA11yViolations, launchChromium, nonLoopback, recordRequests, SCREENSHOTS, startShop, startSpecApp } from './support';

// The README's try-it path in a real browser, with nothing but what ships: the app connects the fake Stripe by
// its address (test mode, no REVTRAIL_STRIPE_API_BASE), a visitor clicks a link and signs up through the pixel,
// the "simulate a purchase" control has the fake charge that email, Sync brings both in, and the dashboard
// credits the purchase to the link's channel.
describe.skipIf(chromiumMissing !== '')(`try it in five minutes${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  let dir: string;
  let fake: FakeStripe;
  let shop: { origin: string; server: Server };
  let app: BrowserMode;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let appRequests: string[];
  let clickedAt = 0;
  const EMAIL = 'newcomer@example.com';
  const shot = (name: string, target: Page | Locator = page) =>
    'goto' in target ? target.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true }) : target.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  const stripeStep = () => page.locator('[data-step="stripe"]');
  const simulate = () => page.locator('[data-step="simulate"]');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-ui-try-it-'));
    // No seed: the purchase made here is the only payment, so the dashboard shows exactly it.
    fake = await startFakeStripe();
    shop = await startShop(() => app.host.localRedirector!.url);
    app = await startSpecApp(dir, {
      // The shop's site is allowed from the app's pixel panel below, not by a redirector setting.
      localRedirector: { port: 0, settings: { REVTRAIL_FEED_SETTLE_MS: '0', REVTRAIL_ALLOW_PRIVATE_DESTINATIONS: 'true' } },
    });
    browser = await launchChromium();
    // bypassCSP: axe-core is injected into the page to check the new controls.
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    appRequests = recordRequests(context);
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await fake?.close();
    await new Promise((ok) => shop?.server.close(ok));
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects the fake Stripe on the Set up screen by its address (test mode), and offers a purchase only then', async () => {
    await page.goto(app.url);
    await page.getByLabel('Workspace name').fill('Try it');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.getByRole('button', { name: 'Use the local redirector' }).click();
    await page.getByRole('heading', { name: '2. Redirector: connected' }).waitFor();

    // A pasted test key at Stripe's own address cannot reach the fake: test mode is where its address goes.
    const disclosure = stripeStep().locator('details.test-mode');
    expect(await disclosure.getAttribute('open')).toBeNull();
    await disclosure.locator('summary').click();
    await stripeStep().getByLabel(/Stripe API address/).fill('http://192.168.1.9:12111');
    await stripeStep().getByLabel(/Restricted key/).fill(fake.keys.restricted);
    await stripeStep().getByRole('button', { name: 'Connect Stripe' }).click();
    await stripeStep().getByRole('alert').filter({ hasText: 'http only on this computer' }).waitFor();

    await stripeStep().getByLabel(/Stripe API address/).fill(fake.url);
    await stripeStep().getByRole('button', { name: 'Connect Stripe' }).click();
    const checklist = page.getByRole('list', { name: 'Stripe permissions' });
    await checklist.waitFor();
    expect(await checklist.locator('li.missing').count()).toBe(0);
    await stripeStep().locator('[data-note="test-mode"]').filter({ hasText: `payments are read from ${fake.url}, not from Stripe` }).waitFor();
    await simulate().getByRole('heading', { name: 'Simulate a purchase (fake Stripe)' }).waitFor();
    await shot('try-it-01-set-up-test-mode');
    await expectNoSeriousA11yViolations(page, 'Set up in test mode');
  }, 60_000);

  it('a link, the shop allowed on the pixel panel, and a visitor who clicks and signs up through the pixel', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Links' }).click();
    await page.getByRole('button', { name: 'New link' }).click();
    const form = page.getByRole('form', { name: 'New link' });
    await form.getByLabel('Slug').fill('try');
    await form.getByLabel('Destination').fill(`${shop.origin}/pricing`);
    await form.getByLabel('Channel').fill('Podcast');
    await form.getByRole('button', { name: 'Create link' }).click();
    await page.getByRole('status').filter({ hasText: 'try: Saved and live on the redirector.' }).waitFor();
    const pixel = page.getByRole('region', { name: 'Pixel' });
    await pixel.getByLabel(/Allow another site/).fill(shop.origin);
    await pixel.getByRole('button', { name: 'Allow', exact: true }).click();
    await pixel.getByRole('status').filter({ hasText: `${shop.origin} may send pixel events now.` }).waitFor();
    await shot('try-it-02-links-pixel');
    await expectNoSeriousA11yViolations(page, 'Links with the pixel panel');

    const visitor = await browser.newContext({ userAgent: CHROME_UA });
    const tab = await visitor.newPage();
    clickedAt = Date.now();
    await tab.goto(`${app.host.localRedirector!.url}/try`);
    await tab.waitForURL(/\/pricing/);
    await tab.waitForFunction("document.cookie.includes('rt_vid=')");
    await tab.fill('input[type=email]', EMAIL);
    await Promise.all([tab.waitForURL(/\/thanks/), tab.click('button')]);
    const local = app.host.localRedirector!;
    await expect
      .poll(async () => {
        const res = await fetch(`${local.url}/api/v1/identities`, { headers: { authorization: `Bearer ${local.config.syncToken}` } });
        return ((await res.json()) as { items: unknown[] }).items.length;
      }, { timeout: 15_000 })
      .toBe(1);
    await visitor.close();
  }, 60_000);

  it('simulates a purchase for that email through the fake, syncs, and the dashboard credits it to the link', async () => {
    // Stripe's times are whole seconds: the charge must come after the click's second.
    await expect.poll(() => Date.now(), { timeout: 5_000 }).toBeGreaterThan(clickedAt + 1_100);
    await page.getByRole('link', { name: '+ Workspace / connections' }).click();
    const form = simulate().getByRole('form', { name: 'Simulate a purchase' });
    await form.getByLabel("Buyer's email").fill(EMAIL);
    await form.getByLabel('Amount').fill('49.5x');
    await form.getByRole('button', { name: 'Simulate the purchase' }).click();
    await simulate().getByRole('alert').filter({ hasText: 'Give an amount above zero in USD, with at most 2 decimals' }).waitFor();
    expect(fake.state.platform.charges.size).toBe(0);

    await form.getByLabel('Amount').fill('49.00');
    await form.getByRole('button', { name: 'Simulate the purchase' }).click();
    const made = simulate().getByRole('status').filter({ hasText: `The fake Stripe charged ${EMAIL} $49.00 (a new customer` });
    await made.waitFor();
    expect(fake.state.platform.charges.size).toBe(1);
    const charge = [...fake.state.platform.charges.newestFirst()][0]!;
    expect([charge.amount, charge.currency, charge.status]).toEqual([4900, 'usd', 'succeeded']);
    await shot('try-it-03-simulated-purchase');

    await made.getByRole('button', { name: 'Sync now' }).click();
    await simulate()
      .getByRole('status')
      .filter({ hasText: 'Synced: 1 new sign-up from the pixel, 1 new payment from the fake Stripe.' })
      .waitFor({ timeout: 30_000 });
    await simulate().getByRole('link', { name: 'See it on the Dashboard' }).click();

    // The email the pixel identified carries the click's channel to the purchase.
    const podcast = page.locator('table[aria-label="Top channels"] tr[data-channel="Podcast"]');
    await expect.poll(() => podcast.locator('td[data-cell="net"]').textContent(), { timeout: 15_000 }).toBe('$49.00');
    expect(await page.locator('table[aria-label="Top channels"] tr[data-channel="Direct"]').count()).toBe(0);
    await shot('try-it-04-dashboard');

    // Nothing in the app or its pages left this machine, and the key never reached the page.
    expect(nonLoopback(appRequests)).toEqual([]);
    expect(await page.content()).not.toContain(fake.keys.restricted);
  }, 90_000);
});
