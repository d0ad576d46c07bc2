import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRedirector, type LocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import type pino from 'pino';
import { htmlPage, redirectorError, startProxy, type TestProxy } from '../core/redirector/testing/proxy';
import { startFakeStripe } from '../fake-stripe/server';
import { runCli, type CliRun } from './testing/run-cli';

// `revtrail` as a real process against a local redirector, through a proxy on 127.0.0.1 that plays an
// older redirector, a stricter one, a firewall, or a web server at the wrong address.
const TOKEN = 'cli-reporting-token-0123456789abcdefghijkl';
let dir: string;
let r: LocalRedirector;
let proxy: TestProxy;
let site: TestProxy;
const runs: CliRun[] = [];

async function cli(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) {
  const run = await runCli(args, { REVTRAIL_HOME: join(dir, 'home'), REVTRAIL_SECRET_KEY_FILE: join(dir, 'key', 'secrets.key'), ...opts.env }, opts.stdin);
  runs.push(run);
  return run;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-cli-reporting-'));
  r = await startLocalRedirector({ dataDir: join(dir, 'redirector'), port: 0, log: silentLogger as pino.Logger, settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0' } });
  proxy = await startProxy(r.url);
  site = await startProxy(null);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await site?.close();
  await r?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('revtrail: secrets stay out of errors', () => {
  it('refuses a token in the address (userinfo, query, fragment) without repeating it', async () => {
    expect((await cli(['workspace', 'add', 'Shop'])).code).toBe(0);
    const host = new URL(proxy.url).host;
    for (const url of [`http://x:${TOKEN}@${host}`, `http://${TOKEN}@${host}/`, `http://${host}/?token=${TOKEN}`, `http://${host}/?x=1#${TOKEN}`]) {
      const run = await cli(['connect', 'redirector', '--url', url], { stdin: `${TOKEN}\n` });
      expect(run.code, url).toBe(2);
      expect(run.err).toMatch(/put the token on stdin, not in the address|a token goes on stdin, not in the address/);
      expect(run.err + run.out).not.toContain(TOKEN);
    }
    expect(proxy.seen).toEqual([]);
  }, 30_000);

  it('says "that address is not a Revtrail redirector" to a web page, with what to do', async () => {
    const run = await cli(['connect', 'redirector', '--url', site.url], { stdin: `${TOKEN}\n` });
    expect(run.code).toBe(2);
    expect(run.err).toContain('that address is not a Revtrail redirector');
    expect(run.err).toContain('it is your tracking domain, e.g. https://go.brand.com');
    expect(run.err).not.toContain('Something went wrong');
    expect(run.err).not.toContain('<html');
    // A 404 page from a web server (the path is not there) is the same: not a redirector.
    site.rules = [() => htmlPage(404, 'Not Found')];
    const missing = await cli(['connect', 'redirector', '--url', site.url], { env: { REVTRAIL_SYNC_TOKEN: TOKEN } });
    expect([missing.code, missing.err]).toEqual([2, expect.stringContaining('that address is not a Revtrail redirector')]);
  }, 30_000);
});

describe('revtrail sync and status: what could not be done is reported and kept', () => {
  const puts = (slug: string) => proxy.seen.filter((x) => x === `PUT /api/v1/links/${slug}`).length;

  it('keeps a refused link change, shows it, and leaves retrying or discarding it to the user', async () => {
    expect((await cli(['connect', 'redirector', '--url', proxy.url], { stdin: `${TOKEN}\n` })).code).toBe(0);
    proxy.rules = [(m, path) => (m === 'PUT' && /^\/api\/v1\/links\/(strict|gone)$/.test(path) ? redirectorError(422, 'invalid_input', 'destination is not on the allowed list') : undefined)];

    const set = await cli(['links', 'set', 'strict', '--url', 'https://brand.com/strict', '--channel', 'Partners']);
    expect(set.code).toBe(2);
    expect(set.err).toContain('The redirector refused strict: destination is not on the allowed list. The change is kept');
    expect(set.err).toContain('kept');
    expect((await cli(['links', 'list'])).out).toMatch(/^strict\tPartners\thttps:\/\/brand\.com\/strict\trefused: destination is not on the allowed list\.$/m);

    const status = await cli(['status']);
    expect(status.out).toContain('link strict: refused by the redirector (422): destination is not on the allowed list');
    expect(status.out).toContain('revtrail links retry strict');
    const json = JSON.parse((await cli(['status', '--json'])).out) as { workspaces: { linkPushes: unknown[] }[] };
    expect(json.workspaces[0]!.linkPushes).toEqual([expect.objectContaining({ slug: 'strict', state: 'refused', status: 422, reason: 'destination is not on the allowed list.' })]);

    // A sync does not send it again: it would be refused again.
    const sync = await cli(['sync']);
    expect(sync.code).toBe(0);
    expect(puts('strict')).toBe(1);

    proxy.rules = [];
    const retry = await cli(['links', 'retry', 'strict']);
    expect([retry.code, retry.out]).toEqual([0, 'strict: Saved and live on the redirector.\n']);
    expect((await cli(['status'])).out).not.toContain('link strict');
    const live = await fetch(`${r.url}/strict`, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' } });
    expect(live.headers.get('location')).toMatch(/^https:\/\/brand\.com\/strict/);

    proxy.rules = [(m, path) => (m === 'PUT' && path === '/api/v1/links/gone' ? redirectorError(422, 'invalid_input', 'no') : undefined)];
    expect((await cli(['links', 'set', 'gone', '--url', 'https://brand.com/gone', '--channel', 'X'])).code).toBe(2);
    const discard = await cli(['links', 'discard', 'gone']);
    expect([discard.code, discard.out]).toEqual([0, 'The change of gone is discarded; the link stays as the redirector has it.\n']);
    expect((await cli(['links', 'list'])).out).not.toContain('gone');
    expect((await cli(['links', 'discard', 'gone'])).code).toBe(3);
    expect((await cli(['links', 'retry', 'gone'])).code).toBe(3);
    expect((await cli(['links', 'retry', 'bad slug'])).code).toBe(2);
  }, 60_000);

  it('skips a feed the redirector lacks with a warning and exit 0; status names it until it works again', async () => {
    proxy.rules = [(_m, path) => (path === '/api/v1/pageviews' ? redirectorError(404, 'not_found', 'Nothing here.') : undefined)];
    const sync = await cli(['sync']);
    expect(sync.code).toBe(0);
    expect(sync.out).toContain('Redirector: ');
    expect(sync.err).toMatch(/^warning: redirector pageviews skipped: The redirector at http:\/\/127\.0\.0\.1:\d+ has no \/api\/v1\/pageviews \(it answered 404\): it is older than this Revtrail\./m);
    const status = await cli(['status']);
    expect(status.out).toMatch(/^ {2}redirector pageviews: failed at \S+ \(last good pull \S+\): The redirector at .* has no \/api\/v1\/pageviews/m);
    expect(status.out).not.toMatch(/redirector clicks: failed/);
    expect(status.out).toMatch(/redirector http:\/\/127\.0\.0\.1:\d+, last pull \d{4}-/);

    proxy.rules = [];
    expect((await cli(['sync'])).err).not.toContain('warning');
    expect((await cli(['status'])).out).not.toContain('pageviews: failed');
  }, 60_000);

  it('keeps a change queued behind a proxy that answers 403, and exits non-zero only when nothing could be read', async () => {
    proxy.rules = [(m) => (m === 'PUT' ? htmlPage(403, 'Forbidden') : undefined)];
    const set = await cli(['links', 'set', 'behind', '--url', 'https://brand.com/behind', '--channel', 'X']);
    expect(set.code).toBe(0);
    expect(set.out).toContain('behind: Saved here; it goes at the next sync');
    expect(set.out).toContain('proxy or firewall');
    const partial = await cli(['sync', '--redirector']);
    expect(partial.code).toBe(0);
    expect(partial.err).toMatch(/^warning: redirector link-pushes skipped: .*answered PUT \/api\/v1\/links\/behind with 403 and a web page/m);
    expect((await cli(['status'])).out).toMatch(/^ {2}link behind: waiting for the next sync \(last try \S+: .*403/m);

    proxy.rules = [() => htmlPage(403, 'Forbidden')];
    const nothing = await cli(['sync', '--redirector']);
    expect(nothing.code).toBe(2);
    expect(nothing.err).toContain('that address is not a Revtrail redirector, or something in front of it');
    expect(nothing.err).not.toContain('Something went wrong');

    // A retry by hand that gets through clears the state a sync had recorded for link changes.
    proxy.rules = [];
    expect((await cli(['status'])).out).toMatch(/^ {2}redirector link-pushes: failed/m);
    expect((await cli(['links', 'retry', 'behind'])).out).toBe('behind: Saved and live on the redirector.\n');
    const after = await cli(['status']);
    expect(after.out).not.toContain('link behind');
    expect(after.out).not.toContain('link-pushes: failed');
    expect((await cli(['sync', '--redirector'])).code).toBe(0);
  }, 60_000);

  it('syncs Stripe when the redirector cannot be read at all: exit 0 and a warning', async () => {
    const fake = await startFakeStripe({ seed: 'default' });
    try {
      const env = { REVTRAIL_STRIPE_API_BASE: fake.url };
      expect((await cli(['connect', 'stripe'], { env, stdin: `${fake.keys.restricted}\n` })).code).toBe(0);
      proxy.rules = [() => htmlPage(403, 'Forbidden')];
      const both = await cli(['sync'], { env });
      expect(both.code).toBe(0);
      expect(both.out).toContain('Stripe: ');
      expect(both.err).toMatch(/^warning: redirector not synced: .*403/m);
      expect(both.out + both.err).not.toContain(fake.keys.restricted);
      expect((await cli(['sync', '--redirector'], { env })).code).toBe(2);
    } finally {
      proxy.rules = [];
      await fake.close();
    }
  }, 60_000);

  it('never printed the token', () => {
    expect(runs.length).toBeGreaterThan(20);
    for (const run of runs) expect(run.out + run.err).not.toContain(TOKEN);
  });
});
