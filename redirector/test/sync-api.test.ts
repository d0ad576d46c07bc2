import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Click, Link } from '@revtrail/shared';
import { secretMatches } from '../src/secret-match';
import { CHROME_UA, TOKEN, closeSharedDynamo, makeTestApp, type TestApp } from './support';

afterAll(closeSharedDynamo);

describe('sync API authentication', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });

  it.each([
    ['no header', {}],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['a wrong token', { authorization: `Bearer ${TOKEN.slice(0, -1)}x` }],
    ['a longer token', { authorization: `Bearer ${TOKEN}x` }],
    ['another scheme', { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` }],
    ['the token without scheme', { authorization: TOKEN }],
  ])('refuses %s with 401', async (_name, headers) => {
    for (const url of ['/api/v1/clicks', '/api/v1/links', '/api/v1/keys', '/api/v1/status']) {
      const res = await t.app.inject({ url, headers });
      expect(res.statusCode, url).toBe(401);
      expect(res.headers['www-authenticate']).toContain('Bearer');
      expect(res.body).not.toContain(TOKEN);
    }
    const put = await t.app.inject({ method: 'PUT', url: '/api/v1/links/x1', headers, payload: { destination: 'https://brand.com', channel: 'X' } });
    expect(put.statusCode).toBe(401);
    expect(await t.store.getLink('x1')).toBeNull();
  });

  it.each(['bearer', 'BEARER', 'beArer'])('takes the auth scheme in any case (%s), as RFC 9110 says', async (scheme) => {
    const res = await t.app.inject({ url: '/api/v1/status', headers: { authorization: `${scheme} ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
  });

  it('compares tokens in constant time, by digest, whatever their lengths', () => {
    expect(secretMatches(TOKEN, TOKEN)).toBe(true);
    expect(secretMatches('', TOKEN)).toBe(false);
    expect(secretMatches(`${TOKEN}${TOKEN}`, TOKEN)).toBe(false);
  });

  it('rate-limits the API per client, guesses included', async () => {
    let last = 0;
    for (let i = 0; i < 1201; i++) {
      last = (await t.app.inject({ url: '/api/v1/status', headers: { authorization: 'Bearer nope' } })).statusCode;
    }
    expect(last).toBe(429);
    const ok = await t.app.inject({ url: '/api/v1/status', headers: t.auth, remoteAddress: '10.9.9.9' });
    expect(ok.statusCode).toBe(200);
  });

  it('gives feed pages their own, larger budget, so a full pull of a thousand pages a minute is never throttled', async () => {
    const statuses = new Set<number>();
    // More than the 1,200 a minute of the other routes, from one client (bad token: the limit runs first).
    for (let i = 0; i < 1500; i++) statuses.add((await t.app.inject({ url: '/api/v1/clicks?limit=1000', headers: { authorization: 'Bearer nope' } })).statusCode);
    expect([...statuses]).toEqual([401]);
    expect((await t.app.inject({ url: '/api/v1/clicks?limit=1000', headers: t.auth })).statusCode).toBe(200);
  });
});

describe('links', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });

  it('creates (201), updates (200) keeping createdAt, reads and lists', async () => {
    const body = { destination: 'https://brand.com/a', channel: 'Newsletter', campaign: 'c1', partnerId: 'p1', utm: { utm_source: 'nl' } };
    const created = await t.app.inject({ method: 'PUT', url: '/api/v1/links/spring', headers: t.auth, payload: body });
    expect(created.statusCode).toBe(201);
    const createdAt = created.json().link.createdAt;
    t.clock.advance(1000);
    const updated = await t.app.inject({ method: 'PUT', url: '/api/v1/links/spring', headers: t.auth, payload: { ...body, enabled: false } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().link).toMatchObject({ createdAt, updatedAt: createdAt + 1000, enabled: false });
    const got = await t.app.inject({ url: '/api/v1/links/spring', headers: t.auth });
    expect(got.json().link.destination).toBe('https://brand.com/a');
    await t.putLink('alpha', { destination: 'https://brand.com/b', channel: 'Ads' });
    const list = await t.app.inject({ url: '/api/v1/links', headers: t.auth });
    expect(list.json().items.map((l: Link) => l.slug)).toEqual(['alpha', 'spring']);
    expect((await t.app.inject({ url: '/api/v1/links/none', headers: t.auth })).statusCode).toBe(404);
  });

  it.each([
    ['javascript: destination', 'ok1', { destination: 'javascript:alert(1)', channel: 'X' }, /scheme rule: a destination must be an http or https address/],
    ['data: destination', 'ok1', { destination: 'data:text/html,x', channel: 'X' }, /scheme rule/],
    ['relative destination', 'ok1', { destination: '//evil.example', channel: 'X' }, /not-a-url rule: this is not a full web address/],
    ['credentials in destination', 'ok1', { destination: 'https://a:b@brand.com', channel: 'X' }, /userinfo rule/],
    ['missing channel', 'ok1', { destination: 'https://brand.com' }, /channel/],
    ['unknown field', 'ok1', { destination: 'https://brand.com', channel: 'X', owner: 'me' }, /owner/],
    ['bad UTM key', 'ok1', { destination: 'https://brand.com', channel: 'X', utm: { utm_evil: 'x' } }, /utm_evil/],
    ['reserved slug', 'api', { destination: 'https://brand.com', channel: 'X' }, /reserved/],
    ['slug with a dot', 'a.b', { destination: 'https://brand.com', channel: 'X' }, /slug/],
    ['loop to itself', 'ok1', { destination: 'http://localhost/x', channel: 'X' }, /self rule: .*tracking domain/],
  ])('refuses a %s with a clear 400', async (_name, slug, body, message) => {
    const res = await t.app.inject({ method: 'PUT', url: `/api/v1/links/${slug}`, headers: t.auth, payload: body });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('invalid_input');
    expect(res.json().error.message).toMatch(message);
  });

  it('refuses a non-JSON or oversized body with a 4xx', async () => {
    const bad = await t.app.inject({ method: 'PUT', url: '/api/v1/links/ok1', headers: { ...t.auth, 'content-type': 'application/json' }, payload: '{"destination":' });
    expect(bad.statusCode).toBe(400);
    const huge = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/links/ok1',
      headers: t.auth,
      payload: { destination: 'https://brand.com', channel: 'x'.repeat(9000) },
    });
    expect(huge.statusCode).toBe(413);
  });

  it('exports links as JSON, formula-safe CSV and an nginx map', async () => {
    await t.putLink('spring', { destination: 'https://brand.com/p?a=1&b=$x', channel: '=HYPERLINK("http://x","y")', utm: { utm_source: 'nl' } });
    await t.putLink('off', { destination: 'https://brand.com/off', channel: 'X', enabled: false });
    const json = await t.app.inject({ url: '/api/v1/links/export?format=json', headers: t.auth });
    expect(json.headers['content-disposition']).toMatch(/attachment; filename="revtrail-links-2026-11-24.json"/);
    expect(JSON.parse(json.body).links).toHaveLength(2);

    const csv = await t.app.inject({ url: '/api/v1/links/export?format=csv', headers: t.auth });
    const lines = csv.body.split('\r\n');
    expect(lines[0]).toBe('slug,destination,channel,campaign,partner_id,utm_source,utm_medium,utm_campaign,utm_term,utm_content,enabled,created_at,updated_at');
    expect(lines[2]).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);

    const nginx = await t.app.inject({ url: '/api/v1/links/export?format=nginx', headers: t.auth });
    expect(nginx.body).toContain('map $uri $revtrail_destination {');
    expect(nginx.body).toContain('    /spring "https://brand.com/p?a=1&b=%24x&utm_source=nl";');
    expect(nginx.body).not.toContain('/off ');

    const bad = await t.app.inject({ url: '/api/v1/links/export?format=xml', headers: t.auth });
    expect(bad.statusCode).toBe(400);
  });
});

describe('event feeds', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
    await t.putLink('spring', { destination: 'https://brand.com/', channel: 'Newsletter' });
  });

  it('pages through clicks in order with a cursor, and serves nothing twice', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      await t.app.inject({ url: `/spring?utm_content=${i}`, headers: { 'user-agent': CHROME_UA } });
      t.clock.advance(10);
    }
    let cursor = '';
    for (let page = 0; page < 10; page++) {
      const res = await t.app.inject({ url: `/api/v1/clicks?limit=3&cursor=${cursor}`, headers: t.auth });
      const body = res.json() as { items: Click[]; cursor: string; hasMore: boolean };
      ids.push(...body.items.map((c) => c.utm.utm_content!));
      cursor = body.cursor;
      if (!body.hasMore) break;
    }
    expect(ids).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    await t.app.inject({ url: '/spring?utm_content=7', headers: { 'user-agent': CHROME_UA } });
    t.clock.advance(1);
    const next = await t.app.inject({ url: `/api/v1/clicks?cursor=${cursor}`, headers: t.auth });
    expect(next.json().items.map((c: Click) => c.utm.utm_content)).toEqual(['7']);
  });

  it('holds back events younger than the settle time', async () => {
    const s = await makeTestApp({ settings: { REVTRAIL_FEED_SETTLE_MS: '5000' }, clock: t.clock });
    await s.putLink('spring', { destination: 'https://brand.com/', channel: 'Newsletter' });
    await s.app.inject({ url: '/spring', headers: { 'user-agent': CHROME_UA } });
    const early = await s.app.inject({ url: '/api/v1/clicks', headers: s.auth });
    expect(early.json().items).toEqual([]);
    s.clock.advance(5001);
    const later = await s.app.inject({ url: `/api/v1/clicks?cursor=${early.json().cursor}`, headers: s.auth });
    expect(later.json().items).toHaveLength(1);
  });

  it.each([
    ['a forged cursor', '/api/v1/clicks?cursor=zzz', /cursor/],
    ['limit 0', '/api/v1/clicks?limit=0', /limit/],
    ['limit over 5000', '/api/v1/pageviews?limit=5001', /limit/],
    ['an unknown parameter', '/api/v1/identities?since=1', /since/],
  ])('refuses %s with a 400', async (_name, url, message) => {
    const res = await t.app.inject({ url, headers: t.auth });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(message);
  });

  it('reports status and hands the email-hash key to the desktop', async () => {
    const status = await t.app.inject({ url: '/api/v1/status', headers: t.auth });
    expect(status.json()).toMatchObject({ apiVersion: 1, store: 'up', retentionDays: 90, attributionWindowDays: 30 });
    const keys = await t.app.inject({ url: '/api/v1/keys', headers: t.auth });
    expect(keys.json()).toEqual({ emailHashKey: t.config.emailHashKey });
    expect(keys.headers['cache-control']).toBe('no-store');
  });
});
