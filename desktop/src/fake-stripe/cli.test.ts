// `npm run fake-stripe -- ...` as a process, the way a user runs it (the npm script is `tsx src/fake-stripe/main.ts`).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startFakeStripe, STANDARD_SECRET_KEY, type FakeStripe } from './server';
import { client } from './testing';
import { startReceiver, type Receiver } from './webhook-receiver';

const DESKTOP = join(import.meta.dirname, '..', '..');
const ENV = { ...process.env, FAKE_STRIPE_KEY: '', FAKE_STRIPE_URL: '', FAKE_STRIPE_WEBHOOK_SECRET: '' };

function start(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', 'src/fake-stripe/main.ts', ...args], { cwd: DESKTOP, env: ENV });
}

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = start(args);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function fake(): Promise<FakeStripe> {
  const f = await startFakeStripe({ seed: 'default' });
  open.push(f);
  return f;
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  open.push(r);
  return r;
}

/** No "    at file:line" frames: the user sees a sentence, not a stack. */
const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe('npm run fake-stripe (the command line)', () => {
  it('--help prints the usage and exits 0; an unknown option says so and exits 2', async () => {
    const help = await run(['--help']);
    expect([help.code, help.err]).toEqual([0, '']);
    expect(help.out).toMatch(/^Usage:/);
    expect(help.out).toContain('--webhook-url URL');
    expect(help.out).toContain('purchase --email EMAIL --amount 49.00');
    expect((await run(['purchase', '--help'])).code).toBe(0);

    const bogus = await run(['--bogus']);
    expect([bogus.code, bogus.out]).toEqual([2, '']);
    expect(bogus.err).toBe("Unknown option '--bogus'.\nRun `npm run fake-stripe -- --help` for the options.\n");
    const bad = await Promise.all([
      run(['--port', 'eighty']),
      run(['--webhook-url', 'not a url']),
      run(['--webhook-url', 'http://127.0.0.1:1/h', '--webhook-secret', 'hunter2']),
      run(['--webhook-secret', 'whsec_abcdefgh1234']),
      run(['--webhook-url', 'http://127.0.0.1:1/h', '--webhook-events', 'charge.*']),
      run(['--lacking', 'nothing']),
      run(['stray']),
    ]);
    for (const r of bad) {
      expect(r.code, r.err).toBe(2);
      noStack(r.err);
      expect(r.err.split('\n')[0]!.length).toBeGreaterThan(10);
    }
    expect(bad[2]!.err).not.toContain('hunter2');
  });

  it('purchase charges an email on a running fake, in major units of the currency, and says what it made', async () => {
    const f = await fake();
    expect(f.keys.secret).toBe(STANDARD_SECRET_KEY);
    const rx = await receiver();
    const endpoint = f.state.addWebhookEndpoint({ url: rx.url, enabledEvents: ['charge.succeeded'] }).endpoint;
    const bought = await run(['purchase', '--email', 'buyer@example.com', '--amount', '49.00', '--currency', 'usd', '--url', f.url, '--metadata', 'revtrail_vid=vQ3x9Lk2PzR7mW4tB8nC1d']);
    expect([bought.code, bought.err]).toEqual([0, '']);
    const chargeId = /charge\s+(ch_\w+)/.exec(bought.out)![1]!;
    expect(bought.out).toContain(`Charged buyer@example.com 49.00 USD on the fake Stripe at ${f.url}:`);
    expect(bought.out).toMatch(/customer\s+cus_\w+ \(new\)/);
    expect(bought.out).toMatch(/events\s+customer\.created evt_\w+, charge\.succeeded evt_\w+/);
    expect(bought.out).toContain(`webhooks  being sent to ${endpoint.id}`);

    const stripe = client(f, f.keys.restricted);
    const charge = await stripe.charges.retrieve(chargeId);
    expect(charge).toMatchObject({ amount: 4_900, currency: 'usd', status: 'succeeded', metadata: { revtrail_vid: 'vQ3x9Lk2PzR7mW4tB8nC1d' } });
    expect(charge.billing_details.email).toBe('buyer@example.com');
    await f.state.webhooks.idle();
    expect(rx.received.map((r) => ((JSON.parse(r.body) as Stripe.Event).data.object as Stripe.Charge).id)).toEqual([chargeId]);

    const yen = await run(['purchase', '--email', 'buyer@example.com', '--amount', '4900', '--currency', 'JPY', '--url', f.url]);
    expect(yen.code).toBe(0);
    expect(yen.out).toContain('Charged buyer@example.com 4900 JPY');
    expect(yen.out).toMatch(/\(existing\)/);
    const minor = await run(['purchase', '--email', 'kw@example.com', '--amount-minor', '1234', '--currency', 'kwd', '--url', f.url]);
    expect(minor.out).toContain('Charged kw@example.com 1.234 KWD');
  });

  it('refund refunds part of a charge in major units, or what is left of it', async () => {
    const f = await fake();
    const { charge } = f.state.purchase({ email: 'r@example.com', amount: 4_900, currency: 'eur' });
    const part = await run(['refund', '--charge', charge.id, '--amount', '10.50', '--url', f.url]);
    expect([part.code, part.err]).toEqual([0, '']);
    expect(part.out).toContain(`Refunded 10.50 EUR of ${charge.id}`);
    expect(part.out).toContain('the charge now has 10.50 EUR of 49.00 EUR refunded');
    expect(part.out).toMatch(/events\s+refund\.created evt_\w+, charge\.refunded evt_\w+/);
    expect(part.out).toContain('webhooks  none');
    const rest = await run(['refund', '--charge', charge.id, '--url', f.url, '--reason', 'duplicate']);
    expect(rest.out).toContain('(fully refunded)');
    const refunds = await client(f, f.keys.restricted).refunds.list({ charge: charge.id });
    expect(refunds.data.map((r) => [r.amount, r.reason])).toEqual([[3_850, 'duplicate'], [1_050, 'requested_by_customer']]);
  });

  it('answers bad input with one sentence and exit 2, and an absent fake with exit 1', async () => {
    const f = await fake();
    const cases = await Promise.all([
      run(['purchase', '--email', 'nobody', '--amount', '1', '--url', f.url]),
      run(['purchase', '--email', 'a@b.co', '--amount', '49.001', '--url', f.url]),
      run(['purchase', '--email', 'a@b.co', '--amount', '49.5', '--currency', 'jpy', '--url', f.url]),
      run(['purchase', '--email', 'a@b.co', '--amount', '1', '--amount-minor', '100', '--url', f.url]),
      run(['purchase', '--email', 'a@b.co', '--url', f.url]),
      run(['purchase', '--email', 'a@b.co', '--amount', '5', '--currency', 'xyz', '--url', f.url]),
      run(['refund', '--charge', 'ch_doesnotexist', '--amount', '1.00', '--url', f.url]),
      run(['refund', '--charge', 'ch_doesnotexist', '--url', f.url]),
      run(['purchase', '--email', 'a@b.co', '--amount', '5', '--url', f.url, '--key', 'sk_test_notthisfakes0000']),
      run(['refund', '--url', f.url]),
      run(['purchase', '--email', 'a@b.co', '--amount', '5', '--url', f.url, '--key', f.keys.restricted]),
    ]);
    for (const r of cases) {
      expect(r.code, r.err).toBe(2);
      expect(r.out).toBe('');
      noStack(r.err);
    }
    expect(cases[2]!.err).toContain('JPY');
    expect(cases[5]!.err).toContain('cannot settle xyz');
    expect(cases[6]!.err).toContain("No such charge: 'ch_doesnotexist'");
    expect(cases[8]!.err).toMatch(/refused the key: Invalid API Key provided: sk_test_\*+0000/);
    expect(cases[10]!.err).toMatch(/--key takes a secret test key/);
    expect(cases[10]!.err).not.toContain(f.keys.restricted);
    expect(f.state.platform.customers.newestFirst().some((c) => c.email === 'a@b.co')).toBe(false);

    const gone = await receiver();
    const url = `http://127.0.0.1:${gone.port}`;
    await gone.close();
    const absent = await run(['purchase', '--email', 'a@b.co', '--amount', '5', '--url', url]);
    expect(absent.code).toBe(1);
    expect(absent.err).toContain(`No fake Stripe answers at ${url} (ECONNREFUSED)`);
    noStack(absent.err);
  });

  it('serves with --webhook-url: prints a secret that verifies the purchases and refunds it then delivers, and stops on SIGTERM', async () => {
    const rx = await receiver();
    const server = start(['--port', '0', '--webhook-url', rx.url, '--webhook-events', 'charge.succeeded,charge.refunded']);
    let out = '';
    server.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    try {
      await vi.waitFor(() => expect(out).toContain('signing secret:'), { timeout: 15_000 });
      const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
      const secret = /signing secret: (whsec_[A-Za-z0-9]+)/.exec(out)![1]!;
      expect(out).toContain(`Webhooks: each charge.succeeded, charge.refunded event is signed and POSTed to ${rx.url}`);

      const bought = await run(['purchase', '--email', 'live@example.com', '--amount', '25.00', '--url', url]);
      expect(bought.code).toBe(0);
      const chargeId = /charge\s+(ch_\w+)/.exec(bought.out)![1]!;
      expect((await run(['refund', '--charge', chargeId, '--amount', '5', '--url', url])).code).toBe(0);
      await vi.waitFor(() => expect(rx.received).toHaveLength(2), { timeout: 5_000 });
      const verify = new Stripe('sk_test_x').webhooks;
      const events = rx.received.map((r) => verify.constructEvent(r.body, String(r.headers['stripe-signature']), secret));
      expect(events.map((e) => [e.type, (e.data.object as Stripe.Charge).id])).toEqual([
        ['charge.succeeded', chargeId],
        ['charge.refunded', chargeId],
      ]);
      expect((events[1]!.data.object as Stripe.Charge).amount_refunded).toBe(500);
    } finally {
      server.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
