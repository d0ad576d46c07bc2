import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STRIPE_WEBHOOK_EVENT_TYPES, STRIPE_WEBHOOK_PATH, systemClock } from '@revtrail/shared';
import { startLocalRedirector, type LocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import type pino from 'pino';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseSecretStore } from '../../core/secrets/choose';
import { startHost } from '../../host/host';
import { runCli } from '../testing/run-cli';

// `revtrail connect webhook` and `revtrail webhook status` as real processes, against real local redirectors.
const TOKEN = 'cli-webhook-token-0123456789abcdefghijklmn';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
let dir: string;
let r: LocalRedirector;

const cli = (home: string, args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) =>
  runCli(args, { REVTRAIL_HOME: join(dir, home), REVTRAIL_SECRET_KEY_FILE: join(dir, home, 'secrets.key'), ...opts.env }, opts.stdin);
const start = (name: string, settings: Record<string, string> = {}) =>
  startLocalRedirector({ dataDir: join(dir, name), port: 0, log: silentLogger as pino.Logger, settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0', ...settings } });
/** Every byte the CLI wrote in its data folder's log, to check no secret went there. */
const logOf = (home: string) => {
  const logs = join(dir, home, 'logs');
  return readdirSync(logs).map((f) => readFileSync(join(logs, f), 'utf8')).join('\n');
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-cli-webhook-'));
  r = await start('redirector');
}, 60_000);
afterAll(async () => {
  await r?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('revtrail connect webhook', () => {
  it('prints the endpoint and the events to select, takes the secret on stdin, and status shows arrivals and refusals', async () => {
    expect((await cli('a', ['workspace', 'add', 'Shop'])).code).toBe(0);
    // No redirector yet: not set up (exit 3), saying what to connect first.
    const early = await cli('a', ['connect', 'webhook'], { stdin: `${SECRET}\n` });
    expect([early.code, early.err]).toEqual([3, expect.stringContaining('connect redirector')]);
    expect((await cli('a', ['connect', 'redirector', '--url', r.url], { stdin: `${TOKEN}\n` })).code).toBe(0);

    const bad = await cli('a', ['connect', 'webhook'], { stdin: 'whsec_oops\n' });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('does not look like a webhook signing secret');
    expect(bad.err).not.toContain('whsec_oops');
    expect((await cli('a', ['connect', 'webhook'], { stdin: '' })).code).toBe(2);

    const ok = await cli('a', ['connect', 'webhook'], { stdin: `${SECRET}\n` });
    expect(ok.err).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain(`Stripe webhook endpoint: ${r.url}${STRIPE_WEBHOOK_PATH}`);
    for (const type of STRIPE_WEBHOOK_EVENT_TYPES) expect(ok.out).toContain(`  ${type}\n`);
    expect(ok.out).toContain('The redirector now accepts events Stripe signs with this secret.');
    expect(ok.out).toContain('stripe listen --forward-to');

    // Stripe delivers one event signed with it, and something else one with another secret.
    const event = JSON.stringify({ id: 'evt_1CliTest000000000001', object: 'event', type: 'charge.succeeded', created: Math.floor(Date.now() / 1000), livemode: false, data: { object: { id: 'ch_1CliTest0000000000001', object: 'charge' } } });
    const post = (secret: string) =>
      fetch(`${r.url}${STRIPE_WEBHOOK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: event, secret }) }, body: event });
    expect((await post(SECRET)).status).toBe(200);
    expect((await post(`whsec_${randomBytes(32).toString('base64')}`)).status).toBe(400);

    const status = await cli('a', ['webhook', 'status']);
    expect(status.code).toBe(0);
    expect(status.out).toContain('Signing secrets set: 1');
    expect(status.out).toMatch(/Last webhook: \d{4}-\d\d-\d\dT[\d:]+Z; 1 stored, 0 redeliveries/);
    expect(status.out).toMatch(/Refused: 1\n {2}1 bad_signature: its signature matched no secret set/);
    expect(status.out).toContain('Stripe is not connected: hints are read once it is.');
    const json = JSON.parse((await cli('a', ['webhook', 'status', '--json'])).out) as { endpoint: { refused: Record<string, number> } };
    expect(json.endpoint.refused.bad_signature).toBe(1);

    // A rotation: the new and the old secret, from the environment this time.
    const next = `whsec_${randomBytes(32).toString('base64')}`;
    const rotate = await cli('a', ['connect', 'webhook'], { env: { REVTRAIL_WEBHOOK_SECRET: `${next},${SECRET}` } });
    expect(rotate.code).toBe(0);
    expect(rotate.out).toContain('either secret');
    expect((await cli('a', ['webhook', 'status'])).out).toContain('Signing secrets set: 2');

    for (const out of [ok.out, ok.err, status.out, rotate.out, logOf('a')]) {
      expect(out).not.toContain(SECRET);
      expect(out).not.toContain(next);
    }
  });

  it('saves the secret for the local redirector while it is not running, and Revtrail\'s next start gives it to it', async () => {
    const down = await start('down');
    expect((await cli('b', ['workspace', 'add', 'Shop'])).code).toBe(0);
    expect((await cli('b', ['connect', 'redirector', '--url', down.url], { stdin: `${TOKEN}\n` })).code).toBe(0);
    await down.close();
    const saved = await cli('b', ['connect', 'webhook'], { stdin: `${SECRET}\n` });
    expect(saved.code).toBe(0);
    expect(saved.out).toContain('takes effect when Revtrail starts');
    const status = await cli('b', ['webhook', 'status']);
    expect(status.code).toBe(0);
    expect(status.out).toContain('The redirector could not be asked');
    expect(status.out).toContain('A signing secret saved on this computer waits for the local redirector');
    expect(logOf('b')).not.toContain(SECRET);

    // Revtrail starts: the host reads the same secret store and its embedded redirector takes the secret.
    const home = join(dir, 'b');
    const secrets = await chooseSecretStore({ dataDir: home, keyFile: join(home, 'secrets.key'), env: {} });
    if (!secrets.ok) throw new Error(secrets.error.message);
    const host = await startHost({ mode: 'browser', dataDir: home, clock: systemClock, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, secrets: secrets.value, localRedirector: { port: 0 }, schedule: false });
    try {
      const local = host.localRedirector!;
      const answer = await fetch(`${local.url}/api/v1/webhooks/stripe`, { headers: { authorization: `Bearer ${local.config.syncToken}` } });
      expect(await answer.json()).toMatchObject({ secrets: 1, settable: true });
      const event = JSON.stringify({ id: 'evt_1CliTest000000000002', object: 'event', type: 'charge.succeeded', created: Math.floor(Date.now() / 1000), livemode: false, data: { object: { id: 'ch_1CliTest0000000000002', object: 'charge' } } });
      const delivered = await fetch(`${local.url}${STRIPE_WEBHOOK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: event, secret: SECRET }) }, body: event });
      expect(delivered.status).toBe(200);
    } finally {
      await host.close();
    }
  });

  it('a redirector whose own setting holds something else than a signing secret: status says it was set aside, and where to set one', async () => {
    const mistyped = await start('mistyped', { REVTRAIL_STRIPE_WEBHOOK_SECRET: 'sk_test_notasecret' });
    try {
      expect((await cli('c', ['workspace', 'add', 'Shop'])).code).toBe(0);
      expect((await cli('c', ['connect', 'redirector', '--url', mistyped.url], { stdin: `${TOKEN}\n` })).code).toBe(0);
      const status = await cli('c', ['webhook', 'status']);
      expect(status.out).toContain('Signing secrets set: none yet');
      expect(status.out).toContain('The signing secret configured was set aside: REVTRAIL_STRIPE_WEBHOOK_SECRET must hold Stripe signing secrets');
      expect(status.out).not.toContain('sk_test_notasecret');
      const connect = await cli('c', ['connect', 'webhook'], { stdin: `${SECRET}\n` });
      expect(connect.code).toBe(0);
      expect(connect.out).toContain('comes from its REVTRAIL_STRIPE_WEBHOOK_SECRET setting');
      expect(connect.out).toContain('Endpoint check:');
    } finally {
      await mistyped.close();
    }
  });
});
