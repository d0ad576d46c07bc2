import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkFromInput, type DestinationRule } from '@revtrail/shared';
import { parseConfig } from '../src/config';
import { startLocalRedirector, type LocalRedirector } from '../src/local';
import { silentLogger } from '../src/log';
import { CHROME_UA, TOKEN, closeSharedDynamo, makeTestApp, sharedDynamo, type TestApp } from './support';

const auth = { authorization: `Bearer ${TOKEN}` };
const clicksOf = (items: { slug: string }[], slug: string) => items.filter((c) => c.slug === slug);

describe('a deployed redirector (public URL https://go.brand.com)', () => {
  // Requests reach it by its own name, as through CloudFront.
  const api = { ...auth, host: 'go.brand.com' };
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ settings: { REVTRAIL_PUBLIC_URL: 'https://go.brand.com', REVTRAIL_FALLBACK_URL: 'https://brand.com/' } });
  });

  const refused: [string, DestinationRule][] = [
    ['https://go.brand.com./x', 'self'],
    ['https://go.brand.com%2E/x', 'self'],
    ['https://GO.BRAND.COM/x', 'self'],
    ['https://example.com\t.evil.com/', 'control-characters'],
    ['https://example.com/\r\nx', 'control-characters'],
    ['https://example.com/\u0000', 'control-characters'],
    ['https://evil.com\\@example.com/', 'backslash'],
    ['https://brand.com@evil.com/', 'userinfo'],
    ['javascript:alert(1)', 'scheme'],
    ['//evil.example', 'not-a-url'],
    ['http://localhost/', 'private-network'],
    ['http://LOCALHOST./', 'private-network'],
    ['http://[::1]/', 'private-network'],
    ['http://[::ffff:127.0.0.1]/', 'private-network'],
    ['http://0.0.0.0/', 'private-network'],
    ['http://2130706433/', 'private-network'],
    ['http://10.0.0.5/', 'private-network'],
    ['http://[fe80::1]/', 'private-network'],
    ['http://169.254.169.254/latest/meta-data/', 'cloud-metadata'],
    ['http://metadata.google.internal/', 'cloud-metadata'],
    ['http://[fd00:ec2::254]/', 'cloud-metadata'],
  ];

  it.each(refused)('refuses %j by the %s rule and stores nothing', async (destination, rule) => {
    const res = await t.app.inject({ method: 'PUT', url: '/api/v1/links/refused', headers: api, payload: { destination, channel: 'X' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain(`destination refused by the ${rule} rule: `);
    expect((await t.app.inject({ url: '/api/v1/links/refused', headers: auth })).statusCode).toBe(404);
  });

  it('refuses the address a request reached it by, as well as its public URL', async () => {
    const res = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/links/loop',
      headers: { ...auth, host: 'abc.lambda-url.eu-west-1.on.aws' },
      payload: { destination: 'http://abc.lambda-url.eu-west-1.on.aws./loop', channel: 'X' },
    });
    expect(res.json().error.message).toContain('refused by the self rule');
  });

  it('stores, shows and exports the destination as it resolves', async () => {
    const res = await t.app.inject({ method: 'PUT', url: '/api/v1/links/typed', headers: api, payload: { destination: 'HTTPS://Brand.COM/a b?x=1', channel: 'X' } });
    expect(res.statusCode).toBe(201);
    expect(res.json().link.destination).toBe('https://brand.com/a%20b?x=1');
    const got = await t.app.inject({ url: '/api/v1/links/typed', headers: auth });
    expect(got.json()).toMatchObject({ link: { destination: 'https://brand.com/a%20b?x=1' }, refused: null });
    const csv = await t.app.inject({ url: '/api/v1/links/export?format=csv', headers: auth });
    expect(csv.body).toContain('typed,https://brand.com/a%20b?x=1,');
    const redirect = await t.app.inject({ url: '/typed', headers: { 'user-agent': CHROME_UA } });
    expect(redirect.headers.location).toMatch(/^https:\/\/brand\.com\/a%20b\?x=1&rt_vid=/);
  });

  it('flags a link stored before the rules refused it, and sends its visitors to the fallback instead', async () => {
    // As an older version stored it: the tab kept, so it shows example.com but resolves to example.com.evil.com.
    await t.store.putLink(linkFromInput('legacy', { destination: 'https://example.com\t.evil.com/', channel: 'X' }, t.clock.now()));
    const list = await t.app.inject({ url: '/api/v1/links', headers: auth });
    expect(list.json().items.map((l: { slug: string }) => l.slug)).toContain('legacy');
    expect(list.json().refused).toEqual([{ slug: 'legacy', rule: 'control-characters', message: expect.stringContaining('refused by the control-characters rule') }]);
    const one = await t.app.inject({ url: '/api/v1/links/legacy', headers: auth });
    expect(one.json().refused).toMatchObject({ rule: 'control-characters' });

    const res = await t.app.inject({ url: '/legacy', headers: { 'user-agent': CHROME_UA } });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('https://brand.com/');
    t.clock.advance(1);
    expect(clicksOf((await t.app.inject({ url: '/api/v1/clicks?limit=1000', headers: auth })).json().items, 'legacy')).toEqual([]);

    const fixed = await t.app.inject({ method: 'PUT', url: '/api/v1/links/legacy', headers: api, payload: { destination: 'https://example.com/', channel: 'X' } });
    expect(fixed.statusCode).toBe(200);
    expect((await t.app.inject({ url: '/legacy', headers: { 'user-agent': CHROME_UA } })).headers.location).toMatch(/^https:\/\/example\.com\/\?rt_vid=/);
    expect((await t.app.inject({ url: '/api/v1/links', headers: auth })).json().refused).toEqual([]);
  });
});

describe('REVTRAIL_FALLBACK_URL and REVTRAIL_ALLOW_PRIVATE_DESTINATIONS', () => {
  const base = { REVTRAIL_TABLE: 'revtrail', REVTRAIL_SYNC_TOKEN: 'a'.repeat(40), REVTRAIL_EMAIL_HASH_KEY: 'b'.repeat(40), REVTRAIL_IP_SALT_SEED: 'c'.repeat(40) };

  it.each([
    [{ REVTRAIL_PUBLIC_URL: 'https://go.brand.com', REVTRAIL_FALLBACK_URL: 'https://go.brand.com./' }, 'self'],
    [{ REVTRAIL_FALLBACK_URL: 'http://[::1]:3000/' }, 'private-network'],
    [{ REVTRAIL_FALLBACK_URL: 'http://169.254.169.254/', REVTRAIL_ALLOW_PRIVATE_DESTINATIONS: 'true' }, 'cloud-metadata'],
    [{ REVTRAIL_FALLBACK_URL: 'https://brand.com\t.evil.com/' }, 'control-characters'],
  ])('refuses the fallback %j by the %s rule', (over, rule) => {
    const r = parseConfig({ ...base, ...over });
    expect(r.ok === false && r.errors).toEqual([expect.stringContaining(`REVTRAIL_FALLBACK_URL refused by the ${rule} rule`)]);
  });

  it('keeps the fallback as it resolves, and allows a site on this machine only with the setting', () => {
    const r = parseConfig({ ...base, REVTRAIL_FALLBACK_URL: 'https://Brand.com' });
    expect(r.ok && r.config).toMatchObject({ fallbackUrl: 'https://brand.com/', allowPrivateDestinations: false });
    const local = parseConfig({ ...base, REVTRAIL_FALLBACK_URL: 'http://localhost:3000/', REVTRAIL_ALLOW_PRIVATE_DESTINATIONS: 'true' });
    expect(local.ok && local.config).toMatchObject({ fallbackUrl: 'http://localhost:3000/', allowPrivateDestinations: true });
    const bad = parseConfig({ ...base, REVTRAIL_ALLOW_PRIVATE_DESTINATIONS: 'yes' });
    expect(bad.ok === false && bad.errors).toEqual(['REVTRAIL_ALLOW_PRIVATE_DESTINATIONS must be true or false, got "yes"']);
  });
});

describe('a local redirector, over real HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revtrail-destinations-'));
  let strict: LocalRedirector;
  let open: LocalRedirector;

  beforeAll(async () => {
    const dynamo = await sharedDynamo();
    const start = (name: string, settings: Record<string, string>) =>
      startLocalRedirector({
        dataDir: join(dir, name),
        port: 0,
        dynamo,
        maintenance: false,
        log: silentLogger as pino.Logger,
        settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_TABLE: `dest_${name}`, REVTRAIL_FEED_SETTLE_MS: '0', ...settings },
      });
    strict = await start('strict', {});
    open = await start('open', { REVTRAIL_ALLOW_PRIVATE_DESTINATIONS: 'true' });
  }, 30_000);

  afterAll(async () => {
    await strict?.close();
    await open?.close();
    await closeSharedDynamo();
    rmSync(dir, { recursive: true, force: true });
  });

  async function put(r: LocalRedirector, slug: string, destination: string): Promise<{ status: number; message?: string }> {
    const res = await fetch(`${r.url}/api/v1/links/${slug}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ destination, channel: 'X' }),
    });
    const body = (await res.json()) as { error?: { message: string } };
    return { status: res.status, message: body.error?.message };
  }

  const selfSpellings = (port: number) => [
    `http://localhost:${port}/loop`,
    `http://LOCALHOST.:${port}/loop`,
    `http://127.0.0.1:${port}/loop`,
    `http://[::1]:${port}/loop`,
    `http://[::ffff:127.0.0.1]:${port}/loop`,
    `http://0.0.0.0:${port}/loop`,
    `http://2130706433:${port}/loop`,
    `http://127.1:${port}/loop`,
  ];

  it('refuses itself in every spelling, even where private destinations are allowed, and stores none', async () => {
    for (const r of [strict, open]) {
      for (const destination of selfSpellings(r.port)) {
        const res = await put(r, 'loop', destination);
        expect(res, destination).toEqual({ status: 400, message: expect.stringContaining('destination refused by the self rule') });
      }
      const list = (await (await fetch(`${r.url}/api/v1/links`, { headers: auth })).json()) as { items: unknown[] };
      expect(list.items).toEqual([]);
    }
  });

  it('takes a site on this machine only with REVTRAIL_ALLOW_PRIVATE_DESTINATIONS=true', async () => {
    const site = `http://localhost:${strict.port === 3000 || open.port === 3000 ? 3001 : 3000}/pricing`;
    const refused = await put(strict, 'shop', site);
    expect(refused.status).toBe(400);
    expect(refused.message).toContain('refused by the private-network rule');
    expect(refused.message).toContain('REVTRAIL_ALLOW_PRIVATE_DESTINATIONS=true');
    expect(await put(open, 'shop', site)).toEqual({ status: 201, message: undefined });
    const res = await fetch(`${open.url}/shop`, { redirect: 'manual', headers: { 'user-agent': CHROME_UA } });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(new RegExp(`^${site}\\?rt_vid=`));
  });

  it('does not follow a loop stored before the rules: one visit, no click, no second hop', async () => {
    const at = Date.now();
    await open.store.putLink(linkFromInput('old-loop', { destination: `http://localhost:${open.port}/old-loop`, channel: 'X' }, at));
    const res = await fetch(`${open.url}/old-loop`, { redirect: 'manual', headers: { 'user-agent': CHROME_UA } });
    expect(res.status).toBe(404);
    await open.replaySpill();
    const clicks = (await (await fetch(`${open.url}/api/v1/clicks`, { headers: auth })).json()) as { items: { slug: string }[] };
    expect(clicksOf(clicks.items, 'old-loop')).toEqual([]);
  });
});
