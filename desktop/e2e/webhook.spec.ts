import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STRIPE_WEBHOOK_EVENT_TYPES, STRIPE_WEBHOOK_PATH } from '@revtrail/shared';
import { startLocalRedirector, type LocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import type pino from 'pino';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { EncryptedFileSecretStore } from '../src/core/secrets/encrypted-file';
import { createStripeClient } from '../src/core/stripe/client';
import type { FakePurchaseAnswer, FakeRefundAnswer } from '../src/fake-stripe/controls';
import { startFakeStripe, type FakeStripe } from '../src/fake-stripe/server';
import type { BrowserMode } from '../src/launch/browser-mode';
import { chromiumMissing, launchChromium, nonLoopback, recordRequests, SCREENSHOTS, startSpecApp } from './support';

// Settings → Stripe webhook in browser mode, then a purchase and a refund made in the fake Stripe reach the
// dashboard with nobody pressing Sync: the fake delivers its events signed to the local redirector, and the
// host's own scheduler (only its 15 s webhooks job here) reads the objects they name, by id.
describe.skipIf(chromiumMissing !== '')(`Stripe webhook on the Settings screen and the dashboard${chromiumMissing ? ` (skipped: ${chromiumMissing})` : ''}`, () => {
  let dir: string;
  let fake: FakeStripe;
  let app: BrowserMode;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let appRequests: string[];
  let ws: string;
  let endpointUrl: string;
  let purchase: FakePurchaseAnswer;
  let refund: FakeRefundAnswer;
  let fixed: LocalRedirector | undefined;
  /** Every value the app put in its secret store. */
  const stored: string[] = [];
  const shot = (name: string, target: Page | Locator = page) =>
    'goto' in target ? target.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true }) : target.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
  const call = async <T,>(method: string, args: Record<string, unknown>): Promise<T> => {
    const r = await app.host.dispatch(method, args);
    if (!r.ok) throw new Error(`${method}: ${r.error.message}`);
    return r.value as T;
  };
  /** The fake's own test controls, with its secret key (never the restricted key the app holds). */
  const control = async <T,>(path: string, body: unknown): Promise<T> => {
    const res = await fetch(`${fake.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${fake.keys.secret}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`fake Stripe ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  /** What Revtrail asked Stripe: the fake's log, without the test's own requests (its controls, the endpoint it added). */
  const revtrailRequests = () =>
    fake.state.log.entries.filter((e) => !e.path.startsWith('/_fake/') && !e.path.startsWith('/v1/webhook_endpoints')).map((e) => `${e.method} ${e.path}${e.query}`);
  const section = () => page.getByRole('region', { name: 'Stripe webhook' });
  const field = (name: string) => section().locator(`[data-webhook="${name}"]`);
  const direct = () => page.locator('table[aria-label="Top channels"] tr[data-channel="Direct"]');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-ui-webhook-'));
    fake = await startFakeStripe();
    const store = new EncryptedFileSecretStore(join(dir, 'data', 'secrets.enc'), join(dir, 'secrets.key'));
    app = await startSpecApp(dir, {
      secrets: {
        description: store.description,
        get: (name) => store.get(name),
        set: (name, value) => (stored.push(value), store.set(name, value)),
        delete: (name) => store.delete(name),
      },
      stripeApiBase: fake.url,
      localRedirector: { port: 0, settings: { REVTRAIL_FEED_SETTLE_MS: '0' } },
      // The app's schedule with only the webhook read, at its own 15 s period: the hourly pull would list
      // everything and the ECB job reaches the internet. It starts a second after the host, not ten.
      schedule: { jobs: ['webhooks'], firstRunDelayMs: 1_000 },
    });
    ws = (await call<{ id: string }>('workspaces.add', { name: 'Shop' })).id;
    await call('shell.useLocalRedirector', { workspace: ws });
    await call('stripe.connect', { workspace: ws, key: fake.keys.restricted });
    // The first full pull (Set up's, or the hourly one): webhooks bring what changes after it.
    await call('sync.stripe', { workspace: ws });
    endpointUrl = `${app.host.localRedirector!.url}${STRIPE_WEBHOOK_PATH}`;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(app.url).origin });
    appRequests = recordRequests(context);
    page = await context.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await fixed?.close();
    await app?.close();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the webhooks job by itself, every 15 s', async () => {
    const schedule = await call<{ job: string; everyMs: number }[]>('shell.schedule', {});
    expect(schedule.map((j) => [j.job, j.everyMs])).toEqual([['webhooks', 15_000]]);
  });

  it('shows the endpoint, the events to select, and that nothing has arrived yet', async () => {
    await page.goto(app.url);
    await page.getByRole('link', { name: 'Settings' }).click();
    await section().waitFor();
    expect(await field('url').textContent()).toBe(endpointUrl);
    const events = section().getByRole('list', { name: 'Events to select' }).locator('li');
    expect(await events.allTextContents()).toEqual([...STRIPE_WEBHOOK_EVENT_TYPES]);
    await section().getByRole('button', { name: 'Copy URL' }).click();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(endpointUrl);
    await section().getByRole('button', { name: 'Copy the list' }).click();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(STRIPE_WEBHOOK_EVENT_TYPES.join('\n'));
    // This redirector is on 127.0.0.1: the section says Stripe reaches it only through a tunnel.
    await section().getByText('Stripe cannot reach it from the internet').waitFor();
    expect(await field('secrets').textContent()).toBe('none yet: save it above');
    expect(await field('last').textContent()).toBe('never');
    expect(await field('received').textContent()).toBe('0 events');
    expect(await field('refused').textContent()).toBe('none');
    await shot('webhook-00-settings-section', section());
  }, 60_000);

  it('refuses an API key pasted as the signing secret, in the terms of the form', async () => {
    const form = section().getByRole('form', { name: 'Webhook signing secret' });
    await form.getByLabel(/^Signing secret/).fill(fake.keys.restricted);
    await form.getByRole('button', { name: 'Save' }).click();
    const alert = section().getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^The first \(new\) signing secret is a Stripe API key|^The signing secret is a Stripe API key/);
    expect(await alert.textContent()).not.toContain(fake.keys.restricted);
    expect(await field('secrets').textContent()).toBe('none yet: save it above');
  }, 30_000);

  it('saves the whsec_ of the endpoint added in Stripe: the redirector takes it', async () => {
    // The endpoint added as a user adds it in Stripe's dashboard; Stripe (the fake) answers its signing secret once.
    const stripe = createStripeClient(fake.keys.secret, { apiBase: fake.url });
    const endpoint = await stripe.webhookEndpoints.create({ url: endpointUrl, enabled_events: [...STRIPE_WEBHOOK_EVENT_TYPES] as Stripe.WebhookEndpointCreateParams.EnabledEvent[] });
    expect(endpoint.secret).toMatch(/^whsec_/);
    const form = section().getByRole('form', { name: 'Webhook signing secret' });
    await form.getByLabel(/^Signing secret/).fill(endpoint.secret!);
    await form.getByRole('button', { name: 'Save' }).click();
    await section().getByRole('status').filter({ hasText: 'The redirector now accepts events Stripe signs with this secret.' }).waitFor();
    await expect.poll(() => field('secrets').textContent()).toBe('set');
    expect(stored).toContain(endpoint.secret);
    // The form forgets it; the secret is in the secret store, never in the page.
    expect(await form.getByLabel(/^Signing secret/).inputValue()).toBe('');
    expect(await page.content()).not.toContain(endpoint.secret!);
  }, 30_000);

  it('a purchase made in Stripe reaches the dashboard without Sync, read by id only', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.locator('.card').filter({ has: page.getByRole('heading', { name: /^Top channels/ }) }).getByText(/^Nothing .* yet/).waitFor();
    expect(await direct().count()).toBe(0);
    fake.state.log.clear();

    purchase = await control<FakePurchaseAnswer>('/_fake/purchases', { email: 'buyer@example.com', amount: 4_900, currency: 'usd' });
    expect(purchase.webhook_endpoints).toHaveLength(1);
    // The dashboard was not opened again: it reads again when the webhook read says the data changed.
    await expect.poll(() => direct().locator('td').allTextContents(), { timeout: 40_000, interval: 250 }).toEqual([
      'Direct', '0', '0', '1', '—', '$49.00', '$0.00', '$49.00', '—',
    ]);
    expect(revtrailRequests().filter((r) => !isProbe(r)).sort()).toEqual(
      [`GET /v1/charges/${purchase.charge.id}?expand[0]=balance_transaction`, `GET /v1/customers/${purchase.customer.id}`].sort(),
    );
  }, 60_000);

  it('then a refund: the dashboard shows it, nobody pressing Sync, and Stripe was asked only for what changed', async () => {
    refund = await control<FakeRefundAnswer>('/_fake/refunds', { charge: purchase.charge.id, amount: 1_900 });
    await expect.poll(() => direct().locator('td[data-cell="net"]').textContent(), { timeout: 40_000, interval: 250 }).toBe('$30.00');
    expect((await direct().locator('td').allTextContents()).slice(5, 8)).toEqual(['$49.00', '$19.00', '$30.00']);
    await shot('webhook-02-dashboard-after-refund');

    const asked = revtrailRequests();
    // Reads by id of what the events named, twice the charge (bought, then refunded), and nothing listed:
    // no events page, no list of charges since a time (a full pull's), only the first read's permission probes.
    expect(asked.filter((r) => !isProbe(r)).sort()).toEqual(
      [
        `GET /v1/charges/${purchase.charge.id}?expand[0]=balance_transaction`,
        `GET /v1/charges/${purchase.charge.id}?expand[0]=balance_transaction`,
        `GET /v1/customers/${purchase.customer.id}`,
        `GET /v1/refunds/${refund.refund.id}`,
      ].sort(),
    );
    expect(asked.every((r) => r.startsWith('GET '))).toBe(true);
    expect(asked.filter((r) => /[?&](created|starting_after)/.test(r))).toEqual([]);
    const probes = asked.filter(isProbe);
    expect(new Set(probes).size).toBe(probes.length);
  }, 60_000);

  it('Settings shows when the last webhook arrived and how many: one per event the fake delivered', async () => {
    const delivered = fake.state.webhooks.deliveries.filter((d) => d.status === 200);
    const emitted = [...purchase.events, ...refund.events].map((e) => e.id).sort();
    expect([...new Set(delivered.map((d) => d.eventId))].sort()).toEqual(emitted);
    await page.getByRole('link', { name: 'Settings' }).click();
    await section().waitFor();
    expect(await field('received').textContent()).toBe(`${emitted.length} events`);
    expect(await field('last').textContent()).toMatch(/^(now|\d+ seconds? ago) \(/);
    expect(await field('refused').textContent()).toBe('none');
    await shot('webhook-03-settings-after', section());
    await page.setViewportSize({ width: 800, height: 1000 });
    await section().scrollIntoViewIfNeeded();
    await shot('webhook-04-settings-800', section());
    await page.setViewportSize({ width: 1280, height: 1000 });
  }, 30_000);

  it('a delivery without a signature is refused, counted and explained on the Settings screen', async () => {
    const res = await fetch(endpointUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"evt_1","object":"event"}' });
    expect(res.status).toBe(400);
    // The refusal changes no data, so no sync announces it: the screen shows it when opened again.
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('link', { name: 'Settings' }).click();
    await expect.poll(() => field('refused').textContent(), { timeout: 10_000 }).toMatch(/^1 delivery \(nothing kept\), on /);
    const reason = section().getByRole('list', { name: 'Refused deliveries' }).locator('li[data-reason="unsigned"]');
    expect(await reason.textContent()).toBe('Unsigned (1 delivery): it carried no Stripe signature: not a delivery from Stripe.');
    await shot('webhook-05-settings-refused', section());
  }, 30_000);

  it('offers as reporting currency only what the reports can convert to, the payments\' own first', async () => {
    const { currencies, own } = await call<{ currencies: string[]; own: string[] }>('reports.currencies', { workspace: ws });
    expect(own).toEqual(['USD']);
    const form = page.getByRole('form', { name: 'Attribution settings' });
    const select = form.getByLabel('Reporting currency');
    expect(await select.inputValue()).toBe('USD');
    expect(await select.locator('optgroup').evaluateAll((groups) => groups.map((g) => g.getAttribute('label')))).toEqual([
      "Your payments' currencies",
      expect.stringMatching(/^Euro and ECB rates \(\d{4}-\d{2}-\d{2}\)$/),
    ]);
    const offered = await select.locator('option').evaluateAll((options) => options.map((o) => o.getAttribute('value')));
    expect(offered).toEqual(['USD', ...currencies.filter((c) => c !== 'USD')]);
    expect(offered).toContain('EUR');
    await page.setViewportSize({ width: 800, height: 1000 });
    await shot('webhook-06-settings-page-800');
    await page.setViewportSize({ width: 1280, height: 1000 });
    await select.selectOption('EUR');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.getByRole('status').filter({ hasText: /^Saved; the attribution was rebuilt/ }).waitFor();
    expect((await call<{ currency: string }>('settings.get', { workspace: ws })).currency).toBe('EUR');
  }, 30_000);

  it('a redirector that takes its secret from its own settings: the form checks the secret and the endpoint, and keeps nothing', async () => {
    const token = randomBytes(24).toString('base64url');
    const configured = `whsec_${randomBytes(24).toString('base64')}`;
    fixed = await startLocalRedirector({
      dataDir: join(dir, 'fixed-redirector'),
      port: 0,
      log: silentLogger as pino.Logger,
      settings: { REVTRAIL_SYNC_TOKEN: token, REVTRAIL_STRIPE_WEBHOOK_SECRET: configured },
    });
    const other = (await call<{ id: string }>('workspaces.add', { name: 'Configured' })).id;
    await call('redirector.connect', { workspace: other, url: fixed.url, token });
    await page.reload();
    await page.getByRole('combobox', { name: 'Workspace', exact: true }).selectOption({ label: 'Configured' });
    await page.getByRole('link', { name: 'Settings' }).click();
    await section().waitFor();
    expect(await field('url').textContent()).toBe(`${fixed.url}${STRIPE_WEBHOOK_PATH}`);
    await section().getByText('This redirector takes it from where it is deployed, not from here.').waitFor();
    expect(await field('secrets').textContent()).toBe('set');

    const form = section().getByRole('form', { name: 'Webhook signing secret' });
    const given = `whsec_${randomBytes(24).toString('base64')}`;
    await form.getByLabel(/^Signing secret/).fill(given);
    await form.getByRole('button', { name: 'Check' }).click();
    await section().getByRole('status').filter({ hasText: 'REVTRAIL_STRIPE_WEBHOOK_SECRET' }).waitFor();
    // The endpoint answered as this redirector's (an unsigned delivery refused), and the secret went nowhere.
    expect(await field('endpoint-check').getAttribute('class')).toBe('notice');
    expect(await field('endpoint-check').textContent()).toMatch(/^Endpoint check: .* The check itself shows below as one unsigned delivery refused\.$/);
    await expect.poll(() => field('refused').textContent(), { timeout: 10_000 }).toMatch(/^1 delivery \(nothing kept\), on /);
    expect(await app.host.core.call('webhook.status', { workspace: other })).toMatchObject({ ok: true, value: { endpoint: { secrets: 1 } } });
    expect(stored).not.toContain(given);
    await shot('webhook-07-settings-configured-redirector', section());
  }, 90_000);

  it('made no request to any host but this machine', () => {
    expect(appRequests.length).toBeGreaterThan(5);
    expect(nonLoopback(appRequests)).toEqual([]);
  });
});

/** The permission check of a first read: one object of each kind (limit=1), never a page through them. */
const isProbe = (request: string) => /[?&]limit=1(&|$)/.test(request);
