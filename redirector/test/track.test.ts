import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import cookie from '@fastify/cookie';
import { buildRedirectUrl, type Click } from '@revtrail/shared';
import { setVisitorCookie } from '../src/visitor-cookie';
import { CHROME_UA, IPHONE_UA, closeSharedDynamo, cookieOf, makeTestApp, type TestApp } from './support';

afterAll(closeSharedDynamo);

const ORIGIN_SECRET = 'track-test-origin-secret-0123456789abcdef';

async function clicks(t: TestApp): Promise<Click[]> {
  t.clock.advance(1);
  const res = await t.app.inject({ method: 'GET', url: '/api/v1/clicks?limit=1000', headers: t.auth });
  expect(res.statusCode).toBe(200);
  return res.json().items as Click[];
}

describe('GET /:slug', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ settings: { REVTRAIL_COOKIE_DOMAIN: 'brand.com', REVTRAIL_ORIGIN_SECRET: ORIGIN_SECRET } });
    await t.putLink('spring', {
      destination: 'https://brand.com/pricing?plan=pro',
      channel: 'Newsletter',
      campaign: 'spring-2026',
      partnerId: 'p_42',
      utm: { utm_source: 'newsletter', utm_medium: 'email' },
    });
    await t.putLink('away', { destination: 'https://shop.example.org/landing', channel: 'Paid social' });
  });

  it('redirects with UTMs added, visitor parameters forwarded, and records the click', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/spring?gclid=Cj0KCQ&utm_medium=cpc&ref=abc',
      headers: {
        // As this deployment's CloudFront forwards it to the function URL (see client-identity.test.ts).
        host: 'abc123xyz.lambda-url.eu-west-1.on.aws',
        'x-forwarded-host': 'go.brand.com',
        'x-revtrail-origin-proof': ORIGIN_SECRET,
        'user-agent': IPHONE_UA,
        referer: 'https://news.example.com/issue/12?email=someone@example.com',
        'cloudfront-viewer-address': '203.0.113.7:50123',
        'cloudfront-viewer-country': 'DE',
      },
    });
    expect(res.statusCode).toBe(302);
    const location = new URL(res.headers.location as string);
    expect(location.origin + location.pathname).toBe('https://brand.com/pricing');
    expect(Object.fromEntries(location.searchParams)).toEqual({
      plan: 'pro',
      gclid: 'Cj0KCQ',
      utm_medium: 'cpc',
      ref: 'abc',
      utm_source: 'newsletter',
    });
    expect(res.headers['cache-control']).toBe('private, no-store');

    const cookie = cookieOf(res.headers['set-cookie'], 'rt_vid')!;
    expect(cookie).toMatch(/^rt_vid=[A-Za-z0-9_-]{22};/);
    expect(cookie).toContain('Max-Age=2592000');
    expect(cookie).toContain('Domain=brand.com');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('SameSite=Lax');

    const [click] = await clicks(t);
    expect(click).toMatchObject({
      slug: 'spring',
      visitorId: cookie.slice(7, 29),
      referrerHost: 'news.example.com',
      referrerUrl: 'https://news.example.com/issue/12',
      device: 'mobile',
      browser: 'Mobile Safari',
      os: 'iOS',
      country: 'DE',
      clickIds: { gclid: 'Cj0KCQ' },
      utm: { utm_medium: 'cpc' },
      bot: false,
      duplicate: false,
      channel: 'Newsletter',
      campaign: 'spring-2026',
      partnerId: 'p_42',
    });
    expect(click!.at).toBe(t.clock.at - 1);
    expect(click!.ipHash).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(click)).not.toContain('203.0.113.7');
    expect(JSON.stringify(click)).not.toContain('someone@example.com');
  });

  it('keeps a returning visitor, flags a repeat within the window, and not after it', async () => {
    const first = await t.app.inject({ url: '/spring', headers: { 'user-agent': CHROME_UA } });
    const vid = cookieOf(first.headers['set-cookie'], 'rt_vid')!.slice(7, 29);
    t.clock.advance(60_000);
    const again = await t.app.inject({ url: '/spring', headers: { 'user-agent': CHROME_UA }, cookies: { rt_vid: vid } });
    expect(cookieOf(again.headers['set-cookie'], 'rt_vid')).toContain(`rt_vid=${vid};`);
    t.clock.advance(31 * 60_000);
    await t.app.inject({ url: '/spring', headers: { 'user-agent': CHROME_UA }, cookies: { rt_vid: vid } });
    const got = await clicks(t);
    expect(got.map((c) => [c.visitorId, c.duplicate])).toEqual([
      [vid, false],
      [vid, true],
      [vid, false],
    ]);
  });

  it('replaces a malformed cookie with a fresh visitor id', async () => {
    const res = await t.app.inject({ url: '/spring', headers: { 'user-agent': CHROME_UA, cookie: 'rt_vid=%%%<script>; other=1' } });
    expect(res.statusCode).toBe(302);
    expect(cookieOf(res.headers['set-cookie'], 'rt_vid')).toMatch(/^rt_vid=[A-Za-z0-9_-]{22};/);
  });

  it('hands the visitor id to a landing page outside the cookie domain, and only there', async () => {
    const res = await t.app.inject({ url: '/away?rt_vid=forged', headers: { 'user-agent': CHROME_UA } });
    const vid = cookieOf(res.headers['set-cookie'], 'rt_vid')!.slice(7, 29);
    const location = new URL(res.headers.location as string);
    expect(location.host).toBe('shop.example.org');
    expect(location.searchParams.getAll('rt_vid')).toEqual([vid]);
    const inside = await t.app.inject({ url: '/spring', headers: { 'user-agent': CHROME_UA } });
    expect(new URL(inside.headers.location as string).searchParams.has('rt_vid')).toBe(false);
  });

  it.each([
    ['a crawler', { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' }, 'GET', 'user_agent'],
    ['an empty user agent', {}, 'GET', 'user_agent'],
    ['a Slack unfurl', { 'user-agent': 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' }, 'GET', 'link_preview'],
    ['an iMessage preview', { 'user-agent': 'Mozilla/5.0 (Macintosh) AppleWebKit/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0' }, 'GET', 'link_preview'],
    ['a browser prefetch', { 'user-agent': CHROME_UA, 'sec-purpose': 'prefetch' }, 'GET', 'link_preview'],
    ['a HEAD request', { 'user-agent': CHROME_UA }, 'HEAD', 'head_request'],
  ] as const)('still redirects %s, marked as a bot and given no cookie', async (_name, headers, method, reason) => {
    const res = await t.app.inject({ method, url: '/away', headers });
    expect(res.statusCode).toBe(302);
    expect(new URL(res.headers.location as string).searchParams.has('rt_vid')).toBe(false);
    expect(res.headers['set-cookie']).toBeUndefined();
    const [click] = await clicks(t);
    expect(click).toMatchObject({ bot: true, botReason: reason, duplicate: false });
  });

  it('answers unknown, reserved and disabled slugs with a plain 404 page that reflects nothing', async () => {
    await t.putLink('off', { destination: 'https://brand.com/', channel: 'X', enabled: false });
    for (const url of ['/nope', '/off', '/api', '/%3Cscript%3Ealert(1)%3C%2Fscript%3E', '/a.b']) {
      const res = await t.app.inject({ url, headers: { 'user-agent': CHROME_UA } });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers.location).toBeUndefined();
      expect(res.body).not.toContain('<script>');
      expect(res.body).not.toContain('nope');
    }
    expect(await clicks(t)).toEqual([]);
  });

  it('sends unknown slugs to the configured fallback URL', async () => {
    const f = await makeTestApp({ settings: { REVTRAIL_FALLBACK_URL: 'https://brand.com/' } });
    const res = await f.app.inject({ url: '/nope' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('https://brand.com/');
  });

  it.each([
    '/spring?url=https://evil.example/&next=//evil.example&redirect=https:%2F%2Fevil.example',
    '/spring?@evil.example',
    '//evil.example',
    '/%2F%2Fevil.example',
    '/%5Cevil.example',
    '/https:%2F%2Fevil.example',
    '/spring/..%2F..%2Fevil.example',
    '/spring#https://evil.example',
  ])('is no open redirect: %s', async (url) => {
    const res = await t.app.inject({ url, headers: { 'user-agent': CHROME_UA } });
    expect(res.statusCode).toBeLessThan(500);
    if (res.statusCode === 302) expect(new URL(res.headers.location as string).host).toBe('brand.com');
    else expect(res.headers.location).toBeUndefined();
  });

  it.each([
    ['an overlong slug', `/${'a'.repeat(65)}`, [400, 414]],
    ['a very long slug', `/${'a'.repeat(5000)}`, [414]],
    ['an overlong click id', `/spring?fbclid=${'x'.repeat(600)}`, [400]],
    ['bad UTF-8 in the path', '/%FF%FE', [400, 404]],
    ['bad percent-encoding', '/%E0%A4%A', [400, 404]],
  ] as const)('answers %s with a 4xx and a message', async (_name, url, statuses) => {
    const res = await t.app.inject({ url, headers: { 'user-agent': CHROME_UA } });
    expect(statuses).toContain(res.statusCode);
    expect(res.body.length).toBeGreaterThan(0);
    expect(await clicks(t)).toEqual([]);
  });

  it('answers other methods with 405 and an Allow header', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'] as const) {
      const res = await t.app.inject({ method, url: '/spring', payload: 'x' });
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(res.json().error.code).toBe('method_not_allowed');
    }
  });

  it('builds every redirect URL as buildRedirectUrl does, the visitor id of that redirect in it, after a link changes too', async () => {
    const link = { destination: 'https://shop.example.org/landing', utm: {} };
    const queries = ['', 'gclid=abc&utm_medium=cpc', 'a=b%20c&x=rtVisitorIdPlaceholder', 'rt_vid=forged&q=%E2%9C%93'];
    for (const query of queries) {
      for (let i = 0; i < 2; i++) {
        const res = await t.app.inject({ url: `/away${query ? `?${query}` : ''}`, headers: { 'user-agent': CHROME_UA } });
        const vid = cookieOf(res.headers['set-cookie'], 'rt_vid')!.slice(7, 29);
        expect(res.headers.location).toBe(buildRedirectUrl(link, new URLSearchParams(query), vid));
      }
    }
    const bot = await t.app.inject({ url: '/away?gclid=abc&utm_medium=cpc', headers: { 'user-agent': 'Googlebot/2.1' } });
    expect(bot.headers.location).toBe(buildRedirectUrl(link, new URLSearchParams('gclid=abc&utm_medium=cpc')));
    await t.putLink('away', { destination: 'https://shop.example.org/other?rt_vid=x#top', channel: 'Paid social', utm: { utm_source: 'ads' } });
    const res = await t.app.inject({ url: '/away?gclid=abc&utm_medium=cpc', headers: { 'user-agent': CHROME_UA } });
    const vid = cookieOf(res.headers['set-cookie'], 'rt_vid')!.slice(7, 29);
    expect(res.headers.location).toBe(
      buildRedirectUrl({ destination: 'https://shop.example.org/other?rt_vid=x#top', utm: { utm_source: 'ads' } }, new URLSearchParams('gclid=abc&utm_medium=cpc'), vid),
    );
  });

  it.each([
    ['https, inside the cookie domain', { 'x-forwarded-host': 'go.brand.com', 'x-revtrail-origin-proof': ORIGIN_SECRET }, 'https'],
    ['http, another host', { host: '127.0.0.1:8787' }, 'http'],
  ] as const)('sets the visitor cookie exactly as @fastify/cookie writes it (%s)', async (_name, headers, proto) => {
    const res = await t.app.inject({ url: '/spring', headers: { 'user-agent': CHROME_UA, ...headers } });
    const written = cookieOf(res.headers['set-cookie'], 'rt_vid')!;
    const vid = written.slice(7, 29);
    const plain = Fastify({ trustProxy: true });
    await plain.register(cookie);
    plain.get('/', (req, reply) => {
      setVisitorCookie(req, reply, t.config, vid);
      return reply.send();
    });
    const host = 'x-forwarded-host' in headers ? headers['x-forwarded-host'] : headers.host;
    const expected = await plain.inject({ url: '/', headers: { host, 'x-forwarded-proto': proto } });
    expect(written).toBe(expected.headers['set-cookie']);
    await plain.close();
  });

  it('sees link changes made through the API at once, including disabling', async () => {
    await t.putLink('spring', { destination: 'https://brand.com/new', channel: 'Newsletter' });
    expect((await t.app.inject({ url: '/spring' })).headers.location).toBe('https://brand.com/new');
    await t.putLink('spring', { destination: 'https://brand.com/new', channel: 'Newsletter', enabled: false });
    expect((await t.app.inject({ url: '/spring' })).statusCode).toBe(404);
  });
});
