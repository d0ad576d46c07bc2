import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '@revtrail/shared';
import { startFakeStripe, type FakeStripe } from '../../fake-stripe/server';
import { createCore } from '../core';
import type { SecretStore } from '../secrets/types';
import { checkStripeApiBase } from './test-mode';

// Test mode through the real parts: the core's Stripe client and its fake-Stripe controls over HTTP to the fake.
const EMAIL_KEY = 'test-mode-email-hash-key-0123456789abcdef';
let dir: string;
let fake: FakeStripe;
let notFake: Server;
let notFakeUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-test-mode-'));
  fake = await startFakeStripe({ seed: 'default' });
  // A Stripe-compatible server that is not the fake: it passes Stripe's API through and has no /_fake/.
  notFake = createServer((req, res) => {
    if (req.url?.startsWith('/_fake/')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"Unrecognized request URL"}}');
      return;
    }
    const upstream = request(`${fake.url}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => notFake.listen(0, '127.0.0.1', resolve));
  notFakeUrl = `http://127.0.0.1:${(notFake.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await fake?.close();
  notFake?.closeAllConnections();
  await new Promise((resolve) => notFake?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

function coreIn(name: string) {
  const secrets = new Map<string, string>();
  const store: SecretStore = {
    description: 'memory',
    get: async (k) => secrets.get(k) ?? null,
    set: async (k, v) => void secrets.set(k, v),
    delete: async (k) => void secrets.delete(k),
  };
  const requests: string[] = [];
  const counted: typeof fetch = (input, init) => {
    requests.push(String(input));
    return fetch(input, init);
  };
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const dataDir = join(dir, name);
  // No REVTRAIL_STRIPE_API_BASE: each workspace's own address decides.
  const core = createCore({ dataDir, clock: systemClock, log, secrets: store, fetch: counted, surface: 'app' });
  return { core, secrets, requests, dataDir };
}

async function workspaceIn(c: ReturnType<typeof coreIn>) {
  const ws = await c.core.call('workspaces.add', { name: 'Try' });
  if (!ws.ok) throw new Error(ws.error.message);
  c.secrets.set(`ws_${ws.value.id}.email_hash_key`, EMAIL_KEY);
  return ws.value;
}

describe('checkStripeApiBase', () => {
  it.each([
    ['http://127.0.0.1:12111', 'http://127.0.0.1:12111'],
    ['http://localhost:12111/', 'http://localhost:12111'],
    ['https://stripe-mock.internal.example:8443', 'https://stripe-mock.internal.example:8443'],
    ['https://api.stripe.com', null],
    ['https://api.stripe.com/', null],
    ['', null],
  ])('takes %j as %j', (raw, base) => {
    expect(checkStripeApiBase(raw)).toEqual({ ok: true, base });
  });

  it.each([
    ['http://10.0.0.5:12111', /http only on this computer/],
    ['http://stripe.example.com', /http only on this computer/],
    ['ftp://127.0.0.1', /https address, or http on this computer/],
    ['127.0.0.1:12111', /https address, or http on this computer/],
    ['http://user:pw@127.0.0.1:12111', /without a path, query or user name/],
    ['http://127.0.0.1:12111/v1', /without a path/],
    ['http://127.0.0.1:12111/?key=rk_test_x', /without a path, query/],
  ])('refuses %j', (raw, message) => {
    const r = checkStripeApiBase(raw);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(message);
    expect(!r.ok && r.message).not.toContain('rk_test_x');
  });
});

describe('core: Stripe test mode', () => {
  it('connects a workspace to the fake by its address, knows it is the fake, simulates a purchase and syncs it', async () => {
    const c = coreIn('fake');
    const ws = await workspaceIn(c);
    // Connected to Stripe (no address): test mode asks nobody.
    expect(await c.core.call('stripe.testMode', { workspace: ws.id })).toEqual({ ok: true, value: { apiBase: null, fake: null, problem: null } });
    expect(c.requests).toEqual([]);

    const bad = await c.core.call('stripe.connect', { workspace: ws.id, key: fake.keys.restricted, apiBase: 'http://192.168.1.20:12111' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringContaining('http only on this computer') } });

    const connected = await c.core.call('stripe.connect', { workspace: ws.id, key: fake.keys.restricted, apiBase: fake.url });
    expect(connected.ok, !connected.ok ? connected.error.message : '').toBe(true);
    expect(connected.ok && connected.value.workspace.stripeApiBase).toBe(fake.url);
    expect(connected.ok && connected.value.checks.every((x) => x.ok)).toBe(true);
    // The key is stored like any key: in the secret store only; the address in the workspace list.
    expect(c.secrets.get(`ws_${ws.id}.stripe_key`)).toBe(fake.keys.restricted);
    const listFile = readFileSync(join(c.dataDir, 'workspaces.json'), 'utf8');
    expect(listFile).toContain(fake.url);
    expect(listFile).not.toContain(fake.keys.restricted);

    const mode = await c.core.call('stripe.testMode', { workspace: ws.id });
    expect(mode.ok && mode.value).toMatchObject({ apiBase: fake.url, fake: { settlementCurrency: 'usd', currencies: expect.arrayContaining(['usd', 'eur']) }, problem: null });

    const before = fake.state.platform.charges.size;
    const bought = await c.core.call('stripe.simulatePurchase', { workspace: ws.id, email: 'newcomer@example.com', amountMinor: 4900, currency: 'usd' });
    expect(bought.ok, !bought.ok ? bought.error.message : '').toBe(true);
    expect(bought.ok && bought.value).toMatchObject({ email: 'newcomer@example.com', customerCreated: true, amountMinor: 4900, currency: 'USD', chargeId: expect.stringMatching(/^ch_/) });
    expect(fake.state.platform.charges.size).toBe(before + 1);
    const again = await c.core.call('stripe.simulatePurchase', { workspace: ws.id, email: 'newcomer@example.com', amountMinor: 1500, currency: 'eur' });
    expect(again.ok && again.value.customerCreated).toBe(false);

    const synced = await c.core.call('sync.stripe', { workspace: ws.id });
    expect(synced.ok, !synced.ok ? synced.error.message : '').toBe(true);
    const customers = await c.core.call('reports.customers', { workspace: ws.id });
    expect(customers.ok && customers.value.rows.length).toBeGreaterThan(0);
    c.core.close();
  });

  it('simulates no purchase at Stripe or at an address that is not the fake, and refuses a bad one', async () => {
    const c = coreIn('not-fake');
    const ws = await workspaceIn(c);
    expect(await c.core.call('stripe.simulatePurchase', { workspace: ws.id, email: 'a@b.co', amountMinor: 100, currency: 'usd' })).toMatchObject({
      ok: false,
      error: { code: 'not_found', message: expect.stringContaining('works only with the fake Stripe: connect it under Test mode on the Set up screen') },
    });
    const connected = await c.core.call('stripe.connect', { workspace: ws.id, key: fake.keys.restricted, apiBase: notFakeUrl });
    expect(connected.ok, !connected.ok ? connected.error.message : '').toBe(true);
    expect(await c.core.call('stripe.testMode', { workspace: ws.id })).toMatchObject({ ok: true, value: { apiBase: notFakeUrl, fake: null, problem: null } });
    const before = fake.state.platform.charges.size;
    expect(await c.core.call('stripe.simulatePurchase', { workspace: ws.id, email: 'a@b.co', amountMinor: 100, currency: 'usd' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input', message: expect.stringContaining(`${notFakeUrl} is not Revtrail's fake Stripe`) },
    });
    expect(fake.state.platform.charges.size).toBe(before);

    // Back at the fake: its refusals come through in its words; the core's own checks go first.
    expect((await c.core.call('stripe.connect', { workspace: ws.id, key: fake.keys.restricted, apiBase: fake.url })).ok).toBe(true);
    for (const [args, message] of [
      [{ email: 'not an email', amountMinor: 100, currency: 'usd' }, 'must be an email address'],
      [{ email: 'a@b.co', amountMinor: 0, currency: 'usd' }, 'more than zero'],
      [{ email: 'a@b.co', amountMinor: 1.5, currency: 'usd' }, 'more than zero'],
      [{ email: 'a@b.co', amountMinor: 100, currency: 'dollars' }, 'three-letter code'],
      [{ email: 'a@b.co', amountMinor: 100, currency: 'xyz' }, 'The fake Stripe refused the purchase: This fake cannot settle xyz'],
    ] as const) {
      const r = await c.core.call('stripe.simulatePurchase', { workspace: ws.id, ...args });
      expect(r, JSON.stringify(args)).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringContaining(message) } });
    }
    expect(fake.state.platform.charges.size).toBe(before);

    c.core.close();
  });

  it('says when nothing answers at the test address, and keeps neither the key nor the address', async () => {
    const c = coreIn('down');
    const ws = await workspaceIn(c);
    const down = 'http://127.0.0.1:9';
    const started = Date.now();
    const r = await c.core.call('stripe.connect', { workspace: ws.id, key: fake.keys.restricted, apiBase: down });
    expect(r).toMatchObject({ ok: false, error: { code: 'unreachable', message: `Nothing answered at ${down}, the Stripe API address set for test mode: check that the server there is running (and the address), then try again.` } });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(c.secrets.has(`ws_${ws.id}.stripe_key`)).toBe(false);
    const list = await c.core.call('workspaces.list', {});
    expect(list.ok && (list.value[0]!.stripeApiBase ?? null)).toBe(null);
    c.core.close();
  });
});
