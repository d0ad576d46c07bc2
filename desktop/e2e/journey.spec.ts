import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { periodOf } from '@revtrail/shared/commission/period';
import { startFakeStripe, type FakeStripe } from '../src/fake-stripe/server';
import type { BrowserMode } from '../src/launch/browser-mode';
import { DATA_RENDERED_MARK } from '../src/renderer/marks';
import { CHROME_UA, chromiumMissing, launchChromium, nonLoopback, recordRequests, SCREENSHOTS, startShop, startSpecApp } from './support';

// The whole product in a real browser, on a fresh data dir: onboard, make a link, a visitor clicks it and
// signs up on the shop's site, Stripe bills them, the app syncs and shows it. Everything on 127.0.0.1.
describe.skipIf(chromiumMissing !== '')(`journey in browser mode${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  let dir: string;
  let stripe: FakeStripe;
  let shop: { origin: string; server: Server };
  let app: BrowserMode;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let appRequests: string[];
  let visitorRequests: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-ui-journey-'));
    stripe = await startFakeStripe();
    shop = await startShop(() => app.host.localRedirector!.url);
    app = await startSpecApp(dir, {
      stripeApiBase: stripe.url,
      // The shop runs on this machine: a local redirector takes it as a destination only with this setting.
      localRedirector: { port: 0, settings: { REVTRAIL_FEED_SETTLE_MS: '0', REVTRAIL_ALLOWED_ORIGINS: shop.origin, REVTRAIL_ALLOW_PRIVATE_DESTINATIONS: 'true' } },
    });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    appRequests = recordRequests(context);
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await stripe?.close();
    await new Promise((ok) => shop?.server.close(ok));
    rmSync(dir, { recursive: true, force: true });
  });

  it('onboards: workspace, the local redirector, a restricted Stripe key with its checklist', async () => {
    await page.goto(app.url);
    // The token left the address bar for this tab's storage, and no cookie carries it to other ports.
    expect(new URL(page.url()).hash).toBe('');
    expect(await context.cookies()).toEqual([]);
    await page.getByRole('heading', { name: 'Welcome to Revtrail' }).waitFor();
    await shot('01-onboarding');
    await page.getByLabel('Workspace name').fill('Acme <Shop>');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.getByText('Setting up Acme <Shop>').waitFor();

    await page.getByRole('button', { name: 'Use the local redirector' }).click();
    await page.getByRole('heading', { name: '2. Redirector: connected' }).waitFor();

    const createKey = page.getByRole('link', { name: 'Create the key in Stripe' });
    const href = new URL((await createKey.getAttribute('href'))!);
    expect(href.origin + href.pathname).toBe('https://dashboard.stripe.com/apikeys/create');
    expect(href.searchParams.getAll('permissions[]')).toContain('rak_charge_read');
    expect(await createKey.getAttribute('target')).toBe('_blank');

    await page.getByLabel(/Restricted key/).fill(stripe.keys.withoutBalance);
    await page.getByRole('button', { name: 'Connect Stripe' }).click();
    const checklist = page.getByRole('list', { name: 'Stripe permissions' });
    await checklist.waitFor();
    await expect.poll(() => checklist.locator('li.missing').allTextContents()).toEqual([expect.stringMatching(/Balance \(Read\): missing rak_balance_read/)]);
    await shot('02-onboarding-stripe-missing-permission');

    await page.getByLabel(/Restricted key/).fill(stripe.keys.restricted);
    await page.getByRole('button', { name: 'Replace key' }).click();
    await expect.poll(() => checklist.locator('li.missing').count()).toBe(0);
    expect(await checklist.locator('li.ok').count()).toBe(9);
    await page.getByRole('link', { name: 'Done: create your first link' }).waitFor();
    await shot('03-onboarding-done');
  }, 60_000);

  it('sets up an affiliate program and a partner paid by PayPal', async () => {
    await page.getByRole('link', { name: 'Affiliates' }).click();
    await page.getByRole('tab', { name: 'Programs' }).click();
    const program = page.getByRole('form', { name: 'New program' });
    await program.getByLabel('Name').fill('Partners 20%');
    await program.getByLabel('Commission (%)').fill('20');
    // Paid as soon as it is earned, so this run can pay it; the default keeps 30 days for refunds.
    await program.getByLabel('Holding days').fill('0');
    await program.getByRole('button', { name: 'Add program' }).click();
    await page.getByRole('table', { name: 'Programs' }).getByText('20% of net revenue, for life; held 0 days').waitFor();

    await page.getByRole('tab', { name: 'Partners' }).click();
    const partner = page.getByRole('form', { name: 'New partner' });
    await partner.getByLabel('Name', { exact: true }).fill('Ann <Writer>');
    await partner.getByLabel('Email', { exact: true }).fill('ann@example.org');
    await partner.getByLabel(/^Id/).fill('ann');
    await partner.getByLabel('PayPal email').fill('ann.paypal@example.org');
    await partner.getByRole('button', { name: 'Add partner' }).click();
    await page.locator('tr[data-partner="ann"]').getByText('Ann <Writer>').waitFor();
    await shot('04-affiliates-partners');
  }, 30_000);

  let shortUrl = '';
  it('creates a link for channel "Newsletter" with its QR code and pixel snippet', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Links' }).click();
    await page.getByRole('heading', { name: 'Links' }).waitFor();
    await page.getByRole('button', { name: 'New link' }).click();
    const form = page.getByRole('form', { name: 'New link' });
    await form.getByLabel('Slug').fill('spring');
    await form.getByLabel('Destination').fill(`${shop.origin}/pricing`);
    await form.getByLabel('Channel').fill('Newsletter');
    await form.getByLabel('Campaign', { exact: true }).fill('spring-launch');
    await form.getByLabel('utm_source').fill('newsletter');
    await form.getByLabel('Partner (affiliate links only)').selectOption('ann');
    await form.getByRole('button', { name: 'Create link' }).click();
    await page.getByRole('status').filter({ hasText: 'spring: Saved and live on the redirector.' }).waitFor();

    const row = page.locator('tr[data-slug="spring"]');
    await expect.poll(async () => (await row.locator('td').allTextContents()).slice(0, 9)).toEqual(['spring', 'Newsletter', 'spring-launch', 'ann', `${shop.origin}/pricing`, 'live', '0', '0', '—']);
    shortUrl = (await page.locator('code.short-url').textContent())!;
    expect(shortUrl).toBe(`${app.host.localRedirector!.url}/spring`);
    expect(await page.locator('pre.snippet').textContent()).toBe(`<script async src="${app.host.localRedirector!.url}/p.js" data-auto-identify></script>`);
    await expect.poll(() => page.locator('img.qr').getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    await shot('05-links');
  }, 60_000);

  it('a visitor clicks it, lands on the shop with the pixel and signs up with an email', async () => {
    const visitor = await browser.newContext({ userAgent: CHROME_UA });
    visitorRequests = recordRequests(visitor);
    const tab = await visitor.newPage();
    await tab.goto(shortUrl);
    await tab.waitForURL(/\/pricing/);
    expect(new URL(tab.url()).searchParams.get('utm_source')).toBe('newsletter');
    await tab.waitForFunction("document.cookie.includes('rt_vid=')");
    await tab.fill('input[type=email]', 'Buyer@Example.com');
    await Promise.all([tab.waitForURL(/\/thanks/), tab.click('button')]);
    const local = app.host.localRedirector!;
    // The identify beacon is in the redirector's journal; wait until its feed serves it.
    await expect
      .poll(async () => {
        const res = await fetch(`${local.url}/api/v1/identities`, { headers: { authorization: `Bearer ${local.config.syncToken}` } });
        return ((await res.json()) as { items: unknown[] }).items.length;
      }, { timeout: 15_000 })
      .toBe(1);
    await visitor.close();
  }, 60_000);

  it('Stripe bills that email (first payment, renewal, partial refund) and the app syncs it all', async () => {
    const s = stripe.state;
    const customer = s.addCustomer({ email: 'buyer@example.com', name: 'Buyer' });
    // A second after the click (Stripe speaks seconds), and in the past by the time the app syncs.
    const at = s.now() + 1;
    const { subscription } = s.addSubscription(customer.id, { unitAmount: 4_900, currency: 'usd', interval: 'month', nickname: 'Pro' }, { at });
    const renewal = s.renewSubscription(subscription.id, { at: at + 1 });
    s.refund(renewal.charge.id, 1_900, { at: at + 2 });
    await expect.poll(() => Date.now(), { timeout: 10_000 }).toBeGreaterThan((at + 3) * 1000);

    await page.getByRole('link', { name: 'Sync', exact: true }).click();
    await page.getByRole('heading', { name: 'Sync', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.locator('[data-outcome="redirector"] h2', { hasText: 'Redirector: done' }).waitFor({ timeout: 30_000 });
    await page.locator('[data-outcome="stripe"] h2', { hasText: 'Stripe: done' }).waitFor({ timeout: 30_000 });
    const count = (what: string) => page.locator(`dd[data-count="${what}"]`).textContent();
    await expect.poll(() => count('clicks')).toBe('1');
    expect(await count('identities')).toBe('1');
    expect(await count('links')).toBe('1');
    expect(await count('charges')).toBe('2');
    expect(await count('refunds')).toBe('1');
    // Progress arrived as events while it ran, per feed.
    expect(await page.getByRole('listitem').filter({ hasText: /^redirector · clicks: 1 received/ }).count()).toBe(1);
    expect(await page.getByRole('listitem').filter({ hasText: /^stripe · charges: 2 received/ }).count()).toBe(1);
    await shot('06-sync');
  }, 90_000);

  it("the dashboard shows Newsletter's net revenue, and the link its stats", async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const newsletter = page.locator('table[aria-label="Top channels"] tr[data-channel="Newsletter"]');
    // 49.00 first payment + 49.00 renewal - 19.00 refunded.
    await expect.poll(() => newsletter.locator('td[data-cell="net"]').textContent(), { timeout: 15_000 }).toBe('$79.00');
    expect((await newsletter.locator('td').allTextContents()).slice(0, 4)).toEqual(['Newsletter', '1', '1', '1']);
    // The headline numbers: 79.00 net from the one customer, who came through the one click of the one visitor.
    const stat = async (key: string) => (await page.locator(`[data-stat="${key}"] .stat-value`).textContent())?.trim();
    await expect.poll(() => stat('netMinor')).toBe('$79.00');
    expect([await stat('netMinor'), await stat('customers'), await stat('clicks'), await stat('visitors'), await stat('conversionRate')]).toEqual(['$79.00', '1', '1', '1', '100%']);
    await page.locator('[data-chart="daily"] .recharts-bar-rectangle').first().waitFor();
    expect(await page.evaluate((mark) => performance.getEntriesByName(mark).length, DATA_RENDERED_MARK)).toBe(1);
    await shot('07-dashboard');

    await page.getByRole('link', { name: 'Links' }).click();
    const row = page.locator('tr[data-slug="spring"]');
    await expect.poll(() => row.locator('td[data-cell="net"]').textContent()).toBe('$79.00');
    expect(await row.locator('td[data-cell="clicks"]').textContent()).toBe('1');
    expect(await row.locator('td[data-cell="customers"]').textContent()).toBe('1');
    await shot('08-links-stats');
  }, 30_000);

  it('pays the partner: commissions, a payout run, and a PayPal file with the right amount', async () => {
    await page.getByRole('link', { name: 'Affiliates' }).click();
    // 20% of 49.00 twice, less 20% of the 19.00 refunded.
    await expect.poll(() => page.locator('tr[data-partner="ann"] [data-currency="USD"]').textContent(), { timeout: 10_000 }).toMatch(/^\$15\.80 payable/);
    await page.getByRole('tab', { name: 'Commissions' }).click();
    const lines = page.getByRole('table', { name: 'Commissions' });
    await expect.poll(() => lines.locator('tr[data-line="commission"]').count()).toBe(2);
    expect(await lines.locator('tr[data-line="reversal"] td').nth(5).textContent()).toBe('-$3.80');
    await shot('09-affiliates-commissions');

    await page.getByRole('tab', { name: 'Payouts' }).click();
    // The month opens on the last finished one (in the workspace's zone, UTC here); these charges are this month's.
    await page.getByLabel('Month').fill(periodOf(Date.now(), 'UTC'));
    await page.getByRole('list', { name: 'Preview' }).getByText('paypal: $15.80 to Ann <Writer> ($15.80)').waitFor();
    await page.getByRole('button', { name: 'Create payout run' }).click();
    const batch = page.getByRole('table', { name: 'Payout runs' }).locator('tr[data-batch]');
    await batch.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), batch.getByRole('button', { name: 'PayPal file' }).click()]);
    const text = await new Promise<string>((done, fail) => {
      void download.createReadStream().then((stream) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
        stream.on('error', fail);
      }, fail);
    });
    const rows = text.trim().split(/\r?\n/).map((l) => l.split(','));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.slice(0, 4)).toEqual(['ann.paypal@example.org', '15.80', 'USD', 'ann']);
    expect(rows[0]!.at(-1)).toBe('PAYPAL');
    expect(download.suggestedFilename()).toMatch(/paypal/i);

    await batch.getByLabel('Payment reference').fill('PP-2026-0001');
    await batch.getByRole('button', { name: 'Mark paid' }).click();
    await batch.getByText('(PP-2026-0001)').waitFor();
    await shot('10-affiliates-payouts');
  }, 60_000);

  it('customers and settings screens show the same facts', async () => {
    await page.getByRole('link', { name: 'Customers' }).click();
    const customers = page.getByRole('table', { name: 'Customers' });
    await customers.locator('tbody tr').first().waitFor();
    expect(await customers.locator('tbody tr').count()).toBe(1);
    // A journey has its own address, and Back returns to the list.
    await customers.locator('tbody tr a').click();
    await page.waitForURL(/#\/customers\/cus_/);
    // The landing pageview right after the click is the click's own landing, not a touchpoint of its own.
    const journey = page.locator('ol.timeline li');
    await expect.poll(() => journey.evaluateAll((els) => els.map((e) => e.getAttribute('data-event')))).toEqual(['click', 'identify', 'charge', 'charge', 'refund']);
    await shot('11-customers');
    await page.goBack();
    await customers.locator('tbody tr').first().waitFor();
    expect(new URL(page.url()).hash).toBe('#/customers');

    await page.getByRole('link', { name: 'Settings' }).click();
    const form = page.getByRole('form', { name: 'Attribution settings' });
    await form.getByLabel('Attribution window (days)').fill('7');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: /Saved; the attribution was rebuilt/ }).waitFor();
    await shot('12-settings');
  }, 30_000);

  it('names customers by a short label, and by their Stripe name only once Privacy allows it', async () => {
    await page.getByRole('link', { name: 'Customers' }).click();
    const first = page.getByRole('table', { name: 'Customers' }).locator('tbody tr a').first();
    await expect.poll(() => first.textContent()).toMatch(/^Customer [0-9A-HJKMNP-TV-Z]{6}$/);
    const label = (await first.textContent())!;
    await page.getByRole('link', { name: 'Privacy' }).click();
    const allow = page.getByLabel('Show customers by their Stripe name or email');
    expect(await allow.isChecked()).toBe(false);
    // The box shows the saved setting: it turns once the core has saved it.
    await allow.click();
    await expect.poll(() => allow.isChecked()).toBe(true);
    await page.getByRole('link', { name: 'Customers' }).click();
    // Read from the fake Stripe as the list is shown; the label stays beside it.
    await expect.poll(() => first.textContent()).toBe('Buyer');
    expect(await page.getByRole('table', { name: 'Customers' }).locator('tbody tr td').first().textContent()).toBe(`Buyer buyer@example.com · ${label}`);
    await shot('11b-customers-named');
    await page.getByRole('link', { name: 'Privacy' }).click();
    await allow.click();
    await expect.poll(() => allow.isChecked()).toBe(false);
    await page.getByRole('link', { name: 'Customers' }).click();
    await expect.poll(() => first.textContent()).toBe(label);
  }, 30_000);

  it('offers a sample workspace, labelled as made-up data', async () => {
    await page.getByRole('link', { name: '+ Workspace / connections' }).click();
    await page.getByRole('button', { name: 'Add another workspace' }).click();
    await page.getByRole('button', { name: 'Open a sample workspace' }).click();
    await page.getByRole('note').filter({ hasText: 'Sample workspace: every click, customer and payment here is made up' }).waitFor({ timeout: 30_000 });
    const rows = page.locator('table[aria-label="Top channels"] tbody tr');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(6);
    await shot('13-sample-dashboard');
    // The real workspace is untouched and one pick away.
    await page.getByRole('combobox', { name: 'Workspace', exact: true }).selectOption({ label: 'Acme <Shop>' });
    await expect.poll(() => page.getByRole('note').count()).toBe(0);
  }, 60_000);

  it('made no request to any host but this machine, in the app or in the visitor\'s browser', () => {
    expect(appRequests.length).toBeGreaterThan(5);
    expect(visitorRequests.length).toBeGreaterThan(2);
    expect(nonLoopback(appRequests)).toEqual([]);
    expect(nonLoopback(visitorRequests)).toEqual([]);
  });
});
