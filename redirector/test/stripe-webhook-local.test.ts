import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type pino from 'pino';
import type { StripeHint, StripeWebhookStatus } from '@revtrail/shared';
import { startLocalRedirector, type LocalRedirector, type LocalSecrets } from '../src/local';
import { silentLogger } from '../src/log';
import { body, deliveryHeaders, OTHER_SECRET, stripeEvent, WEBHOOK_SECRET } from './stripe-events';

// The local redirector as the desktop runs it, over real HTTP: deliveries signed by the stripe package, the
// secret set through the sync API and kept across a restart.
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const TOKEN = 'local-webhook-sync-token-0123456789abcdefgh';

async function start(dir: string, opts: Partial<Parameters<typeof startLocalRedirector>[0]> = {}): Promise<LocalRedirector> {
  const r = await startLocalRedirector({
    dataDir: dir,
    port: 0,
    maintenance: false,
    log: silentLogger as pino.Logger,
    ...opts,
    settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0', ...opts.settings },
  });
  cleanups.push(() => r.close());
  return r;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'revtrail-webhook-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const auth = { authorization: `Bearer ${TOKEN}` };

async function deliver(r: LocalRedirector, event: Record<string, unknown>, secret = WEBHOOK_SECRET): Promise<Response> {
  const payload = body(event);
  return fetch(`${r.url}/webhooks/stripe`, { method: 'POST', headers: deliveryHeaders(payload, Date.now(), { secret }), body: payload });
}

const status = async (r: LocalRedirector) => (await (await fetch(`${r.url}/api/v1/webhooks/stripe`, { headers: auth })).json()) as StripeWebhookStatus;

const putSecrets = (r: LocalRedirector, secrets: unknown) =>
  fetch(`${r.url}/api/v1/webhooks/stripe/secrets`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ secrets }) });

async function hints(r: LocalRedirector): Promise<StripeHint[]> {
  return ((await (await fetch(`${r.url}/api/v1/stripe-hints?limit=1000`, { headers: auth })).json()) as { items: StripeHint[] }).items;
}

/** A POST with a 10 MB body, streamed; the answer may come before the body is sent. */
function postLarge(url: string, size: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(size) } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    // The server may close the connection once it has answered: that is not this test's failure.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    let sent = 0;
    const write = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

describe('local redirector: Stripe webhook over HTTP', () => {
  it('refuses deliveries until a secret is set through the sync API, then keeps it in secrets.json (0600) and across a restart', async () => {
    const dir = tempDir();
    let r = await start(dir);
    expect(await status(r)).toMatchObject({ secrets: 0, settable: true, setCommand: null, url: `${r.url}/webhooks/stripe` });
    const event = stripeEvent();
    const early = await deliver(r, event);
    expect(early.status).toBe(503);
    expect(((await early.json()) as { error: { reason: string } }).error.reason).toBe('no_secret');

    expect((await putSecrets(r, ['not-a-secret'])).status).toBe(400);
    expect((await putSecrets(r, [WEBHOOK_SECRET, OTHER_SECRET, 'whsec_third0123456789abcdefghij'])).status).toBe(400);
    const set = await putSecrets(r, [WEBHOOK_SECRET]);
    expect(set.status).toBe(200);
    expect(((await set.json()) as StripeWebhookStatus).secrets).toBe(1);
    const file = join(dir, 'secrets.json');
    expect(JSON.parse(readFileSync(file, 'utf8')).stripeWebhookSecrets).toEqual([WEBHOOK_SECRET]);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // Stripe's retry of the refused delivery, signed anew, is now kept.
    const retried = await deliver(r, event);
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual({ received: true, duplicate: false });
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect((await hints(r)).map((h) => h.eventId)).toEqual([event.id]);

    await r.close();
    cleanups.pop();
    r = await start(dir);
    expect(await status(r)).toMatchObject({ secrets: 1, received: 1, refused: { no_secret: 1 } });
    expect(await (await deliver(r, event)).json()).toEqual({ received: true, duplicate: true });
    // Rolled: both secrets for a while.
    expect((await putSecrets(r, [OTHER_SECRET, WEBHOOK_SECRET])).status).toBe(200);
    expect((await deliver(r, stripeEvent(), OTHER_SECRET)).status).toBe(200);
    expect((await deliver(r, stripeEvent(), WEBHOOK_SECRET)).status).toBe(200);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ syncToken: expect.any(String), stripeWebhookSecrets: [OTHER_SECRET, WEBHOOK_SECRET] });
  });

  it('refuses a 10 MB body with 413 over a real connection, and keeps working', async () => {
    const r = await start(tempDir(), { settings: { REVTRAIL_STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
    const res = await postLarge(`${r.url}/webhooks/stripe`, 10 * 1024 * 1024, deliveryHeaders('x', Date.now()));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.reason).toBe('too_large');
    expect((await deliver(r, stripeEvent())).status).toBe(200);
    expect((await status(r)).refused.too_large).toBe(1);
  });

  it('saves a secret set through the sync API where the desktop keeps the others, through its callback', async () => {
    const saved: Partial<LocalSecrets>[] = [];
    const secrets: LocalSecrets = { syncToken: TOKEN, emailHashKey: 'e'.repeat(40), ipSaltSeed: 'i'.repeat(40), stripeWebhookSecrets: [OTHER_SECRET] };
    const r = await start(tempDir(), { secrets, saveSecrets: async (changed) => void saved.push(changed) });
    expect((await deliver(r, stripeEvent(), OTHER_SECRET)).status).toBe(200);
    expect((await putSecrets(r, [WEBHOOK_SECRET])).status).toBe(200);
    expect(saved).toEqual([{ stripeWebhookSecrets: [WEBHOOK_SECRET] }]);
    expect((await deliver(r, stripeEvent(), WEBHOOK_SECRET)).status).toBe(200);
    expect((await deliver(r, stripeEvent(), OTHER_SECRET)).status).toBe(400);
  });

  it('erases hints from the store\'s files too: no byte of the object id is left, as text or hex', async () => {
    const dir = tempDir();
    const r = await start(dir, { settings: { REVTRAIL_STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
    const id = 'cus_LocalErasedCustomer01';
    const event = stripeEvent({ type: 'customer.updated', object: { id, object: 'customer', email: 'jenny.rosen@example.com' } });
    expect((await deliver(r, event)).status).toBe(200);
    const holding = () =>
      readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .map((name) => join(dir, name))
        .filter((path) => statSync(path).isFile() && [id, Buffer.from(id).toString('hex')].some((needle) => readFileSync(path).includes(needle)));
    expect(holding().length).toBeGreaterThan(0);
    const erase = await fetch(`${r.url}/api/v1/stripe-hints/erase`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ objectIds: [id] }) });
    expect(await erase.json()).toEqual({ deleted: 1 });
    expect(holding()).toEqual([]);
    expect(await (await deliver(r, event)).json()).toEqual({ received: true, duplicate: true });
    expect(holding()).toEqual([]);
  });

  it('answers 409 when the secrets cannot be saved here: passed in without a callback, or set in the environment', async () => {
    const secrets: LocalSecrets = { syncToken: TOKEN, emailHashKey: 'e'.repeat(40), ipSaltSeed: 'i'.repeat(40) };
    const passed = await start(tempDir(), { secrets });
    const fromEnv = await start(tempDir(), { settings: { REVTRAIL_STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
    for (const r of [passed, fromEnv]) {
      const res = await putSecrets(r, [OTHER_SECRET]);
      expect(res.status).toBe(409);
      expect((await status(r)).settable).toBe(false);
    }
    expect(((await (await putSecrets(fromEnv, [OTHER_SECRET])).json()) as { error: { message: string } }).error.message).toMatch(/REVTRAIL_STRIPE_WEBHOOK_SECRET setting/);
  });
});
