import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRedirector, type LocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import type pino from 'pino';
import { CONNECTED_ACCOUNT } from '../fake-stripe/seed';
import { startFakeStripe } from '../fake-stripe/server';
import { runCli } from './testing/run-cli';

// `revtrail` as a real process, against a real local redirector.
const TOKEN = 'cli-sync-token-0123456789abcdefghijklmnopq';
let dir: string;
let r: LocalRedirector;

const cli = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) =>
  runCli(args, { REVTRAIL_HOME: join(dir, 'home'), REVTRAIL_SECRET_KEY_FILE: join(dir, 'key', 'secrets.key'), ...opts.env }, opts.stdin);

function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(root, e.name)) : [join(root, e.name)]));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-cli-'));
  r = await startLocalRedirector({ dataDir: join(dir, 'redirector'), port: 0, log: silentLogger as pino.Logger, settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0' } });
  await fetch(`${r.url}/api/v1/links/launch`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ destination: 'https://brand.com/launch', channel: 'Newsletter' }),
  });
  for (let i = 0; i < 12; i++) {
    await fetch(`${r.url}/launch`, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' } });
  }
  await r.app.revtrail.recorder.flush();
  await r.replaySpill();
}, 60_000);

afterAll(async () => {
  await r?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('revtrail CLI', () => {
  it('builds a populated workspace: add, connect (token on stdin), sync, status', async () => {
    expect((await cli(['status'])).out).toContain('No workspaces yet.');
    const add = await cli(['workspace', 'add', 'My', 'Shop']);
    expect(add).toMatchObject({ code: 0 });
    expect(add.out).toMatch(/Created workspace "My Shop"/);
    expect((await cli(['workspace', 'add', 'my shop'])).code).toBe(2);
    // No redirector yet, so nothing would reach one: the desktop itself refuses, naming the rule.
    const intranet = await cli(['links', 'set', 'intranet', '--url', 'http://10.0.0.5/', '--channel', 'X']);
    expect([intranet.code, intranet.err]).toEqual([2, expect.stringContaining('destination refused by the private-network rule')]);
    expect((await cli(['links', 'list'])).out).not.toContain('intranet');

    const connect = await cli(['connect', 'redirector', '--url', r.url], { stdin: `${TOKEN}\n` });
    expect(connect.err).toBe('');
    expect(connect).toMatchObject({ code: 0 });

    const set = await cli(['links', 'set', 'podcast', '--url', 'https://brand.com/listen', '--channel', 'Podcast', '--campaign', 'ep-12']);
    expect(set).toMatchObject({ code: 0 });
    expect(set.out).toContain('podcast: Saved and live on the redirector.');
    const live = await fetch(`${r.url}/podcast`, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' } });
    expect(live.headers.get('location')).toMatch(/^https:\/\/brand\.com\/listen/);
    expect((await cli(['links', 'set', 'bad slug', '--url', 'https://brand.com/', '--channel', 'X'])).code).toBe(2);
    expect((await cli(['links', 'set', 'x1', '--url', 'javascript:alert(1)', '--channel', 'X'])).err).toContain('http or https');
    // The redirector itself in another spelling: refused here with the redirector's words, before anything is queued.
    const loop = await cli(['links', 'set', 'loop', '--url', `http://LOCALHOST.:${r.port}/podcast`, '--channel', 'X']);
    expect(loop.code).not.toBe(0);
    expect(loop.err).toContain('destination refused by the self rule');
    expect((await cli(['links', 'list'])).out).not.toContain('loop');

    const sync = await cli(['sync']);
    expect(sync.code).toBe(0);
    expect(sync.out).toContain('2 links, 13 new clicks');
    expect((await cli(['links', 'list'])).out).toMatch(/^podcast\tPodcast\thttps:\/\/brand\.com\/listen\tlive$/m);
    expect(sync.err).toContain('clicks: 13 received'); // plain progress lines when not on a terminal

    const status = await cli(['status', '--json']);
    const body = JSON.parse(status.out) as { workspaces: { counts: { clicks: number; links: number }; redirector: { connected: boolean } }[] };
    expect(body.workspaces[0]).toMatchObject({ counts: { clicks: 13, links: 2 }, redirector: { connected: true } });

    // The token is nowhere in plaintext: not in the data dir, not in output.
    for (const file of filesUnder(join(dir, 'home'))) expect(readFileSync(file).includes(TOKEN), file).toBe(false);
    expect(statSync(join(dir, 'key', 'secrets.key')).mode & 0o777).toBe(0o600);
    expect(status.out + sync.out + connect.out).not.toContain(TOKEN);
  }, 60_000);

  it('says a link saved with --disabled is disabled, and the redirector answers it as not found', async () => {
    const paused = await cli(['links', 'set', 'paused', '--url', 'https://brand.com/later', '--channel', 'Podcast', '--disabled']);
    expect([paused.code, paused.out]).toEqual([0, 'paused: Saved and disabled on the redirector: its address answers "not found" until the link is enabled again.\n']);
    expect((await fetch(`${r.url}/paused`, { redirect: 'manual' })).status).toBe(404);
    const again = await cli(['links', 'set', 'paused', '--url', 'https://brand.com/later', '--channel', 'Podcast']);
    expect(again.out).toBe('paused: Saved and live on the redirector.\n');
    expect((await fetch(`${r.url}/paused`, { redirect: 'manual' })).status).toBe(302);
  }, 30_000);

  it('refuses a wrong token with exit code 4 and keeps the old one', async () => {
    const wrong = await cli(['connect', 'redirector', '--url', r.url], { env: { REVTRAIL_SYNC_TOKEN: 'not-the-token-0123456789abcdef' } });
    expect(wrong.code).toBe(4);
    expect(wrong.err).toContain('refused the sync token');
    expect((await cli(['sync'])).code).toBe(0);
  }, 30_000);

  it('says when the redirector is unreachable (exit 5)', async () => {
    const down = await cli(['connect', 'redirector', '--url', 'http://127.0.0.1:9'], { env: { REVTRAIL_SYNC_TOKEN: TOKEN } });
    expect(down.code).toBe(5);
    expect(down.err).toContain('did not answer');
  }, 30_000);

  it('refuses a database from a newer Revtrail with exit 6, the version found and what to do, and leaves it as it was', async () => {
    const home = join(dir, 'home-newer');
    const env = { REVTRAIL_HOME: home };
    expect((await cli(['workspace', 'add', 'Future'], { env })).code).toBe(0);
    expect((await cli(['links', 'list'], { env })).code).toBe(0);
    const [wsId] = readdirSync(join(home, 'workspaces'));
    const path = join(home, 'workspaces', wsId!, 'workspace.sqlite');
    const db = new Database(path);
    db.pragma('user_version = 999');
    db.close();
    const before = readFileSync(path);
    const run = await cli(['links', 'list'], { env });
    expect([run.code, run.err]).toEqual([6, expect.stringMatching(/schema 999; this version knows \d+.*install the newer version/)]);
    expect(run.err).not.toMatch(/Something went wrong|\n\s+at /);
    expect(readFileSync(path).equals(before)).toBe(true);
  }, 30_000);

  it.each([
    [['frobnicate'], 2, 'Unknown command'],
    [['sync', '--bogus'], 2, 'Unknown option --bogus.'],
    [['connect', 'redirector'], 2, 'needs --url'],
    [['connect', 'redirector', '--url', 'ftp://x'], 2, 'http(s) address'],
    [['status', '--workspace', 'Nope'], 3, 'No workspace named "Nope"'],
    [[], 2, 'Usage: revtrail'],
  ])('answers %j with exit %i and a message, no stack trace', async (args, code, message) => {
    const run = await cli(args, { env: { REVTRAIL_SYNC_TOKEN: TOKEN } });
    expect(run.code).toBe(code);
    expect(run.err).toContain(message);
    expect(run.err).not.toMatch(/\n\s+at /);
  }, 30_000);
  it('connects Stripe (restricted key on stdin), syncs it, and shows it in status', async () => {
    const fake = await startFakeStripe({ seed: 'default' });
    try {
      const env = { REVTRAIL_STRIPE_API_BASE: fake.url };
      const sk = await cli(['connect', 'stripe'], { env, stdin: `${fake.keys.secret}\n` });
      expect(sk.code).toBe(2);
      expect(sk.err).toContain('never asks for a full secret key');

      const connect = await cli(['connect', 'stripe'], { env, stdin: `${fake.keys.withoutBalance}\n` });
      expect(connect.err).toBe('');
      expect(connect.code).toBe(0);
      expect(connect.out).toContain('[x] Charges (Read)');
      expect(connect.out).toContain('[ ] Balance (Read): missing rak_balance_read');

      const charges = fake.state.platform.charges.size;
      const sync = await cli(['sync', '--stripe'], { env });
      expect(sync.code).toBe(0);
      expect(sync.out).toContain(`Stripe: ${charges} new charges`);
      expect(sync.out).toContain('Missing Balance (rak_balance_read)');
      expect(sync.out).not.toContain('Redirector:');

      const both = await cli(['sync'], { env });
      expect(both.code).toBe(0);
      expect(both.out).toContain('Redirector:');
      expect(both.out).toContain('Stripe: 0 new charges (0 changed)');

      const status = await cli(['status', '--json'], { env });
      const body = JSON.parse(status.out) as { workspaces: { stripe: { connected: boolean }; counts: { charges: number; refunds: number } }[] };
      expect(body.workspaces[0]).toMatchObject({ stripe: { connected: true }, counts: { charges, refunds: fake.state.platform.refunds.size } });

      for (const file of filesUnder(join(dir, 'home'))) expect(readFileSync(file).includes(fake.keys.withoutBalance), file).toBe(false);
      expect(connect.out + sync.out + both.out + status.out + sync.err).not.toContain(fake.keys.withoutBalance);

      // Stripe Connect: a second workspace reads a connected account through the Stripe-Account header.
      expect((await cli(['workspace', 'add', 'Connected'])).code).toBe(0);
      const other = { ...env, REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_STRIPE_KEY: fake.keys.restricted };
      expect((await cli(['connect', 'redirector', '--url', r.url, '--workspace', 'Connected'], { env: other })).code).toBe(0);
      const badId = await cli(['connect', 'stripe', '--workspace', 'Connected', '--account', 'nope'], { env: other });
      expect([badId.code, badId.err]).toEqual([2, expect.stringContaining('acct_')]);
      const unknown = await cli(['connect', 'stripe', '--workspace', 'Connected', '--account', 'acct_1Unknown'], { env: other });
      expect([unknown.code, unknown.err]).toEqual([4, expect.stringContaining('cannot read that connected account')]);
      const connected = await cli(['connect', 'stripe', '--workspace', 'Connected', '--account', CONNECTED_ACCOUNT], { env: other });
      expect(connected.out).toContain(`account ${CONNECTED_ACCOUNT}`);
      const account = fake.state.findAccount(CONNECTED_ACCOUNT)!;
      const syncConnected = await cli(['sync', '--stripe', '--workspace', 'Connected', '--json'], { env: other });
      expect(JSON.parse(syncConnected.out)).toMatchObject({ stripe: { counts: { charges: { added: account.charges.size } } } });
      expect(account.charges.size).not.toBe(charges);
      expect(fake.state.log.entries.filter((e) => e.account === CONNECTED_ACCOUNT).length).toBeGreaterThan(10);
    } finally {
      await fake.close();
    }
  }, 60_000);

  it('connects Stripe at a test-mode address with --api-base, kept per workspace, without REVTRAIL_STRIPE_API_BASE', async () => {
    const fake = await startFakeStripe({ seed: 'default' });
    try {
      expect((await cli(['workspace', 'add', 'Trial'])).code).toBe(0);
      const env = { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_STRIPE_KEY: fake.keys.restricted, REVTRAIL_STRIPE_API_BASE: '' };
      expect((await cli(['connect', 'redirector', '--url', r.url, '--workspace', 'Trial'], { env })).code).toBe(0);
      const wrong = await cli(['connect', 'stripe', '--workspace', 'Trial', '--api-base', 'http://10.1.2.3:12111'], { env });
      expect([wrong.code, wrong.err]).toEqual([2, expect.stringContaining('http only on this computer')]);
      const down = await cli(['connect', 'stripe', '--workspace', 'Trial', '--api-base', 'http://127.0.0.1:9'], { env });
      expect([down.code, down.err]).toEqual([5, expect.stringContaining('Nothing answered at http://127.0.0.1:9, the Stripe API address set for test mode')]);
      const connect = await cli(['connect', 'stripe', '--workspace', 'Trial', '--api-base', `${fake.url}/`], { env });
      expect(connect.err).toBe('');
      expect(connect.out).toContain(`Connected "Trial" to ${fake.url}, a test-mode address instead of Stripe (test-mode key). Permissions:`);
      // Later commands find the address in the workspace, not in the environment.
      const sync = await cli(['sync', '--stripe', '--workspace', 'Trial'], { env: { REVTRAIL_STRIPE_API_BASE: '' } });
      expect([sync.code, sync.out]).toEqual([0, expect.stringContaining(`Stripe: ${fake.state.platform.charges.size} new charges`)]);
      expect((await cli(['status', '--workspace', 'Trial'])).out).toContain(`Stripe connected at ${fake.url} (test mode)`);
    } finally {
      await fake.close();
    }
  }, 60_000);
});
