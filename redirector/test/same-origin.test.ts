/**
 * Same-origin mode (docs/same-origin.md): the merchant's own site forwards a prefix to the redirector with
 * the proxy proof. Only with that proof are the proxy's visitor address, host, scheme and country believed;
 * rate limits and IP hashes follow the proven address; forged or unproven headers change nothing.
 * test/nginx-same-origin.test.ts drives the same through a real nginx and Chromium.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Click, Pageview } from '@revtrail/shared';
import { parseConfig } from '../src/config';
import { PROXY_CHECK_HEADER, type ProxyCheck } from '../src/routes/same-origin';
import { PROXY_HEADERS } from '../src/visitor';
import { CHROME_UA, closeSharedDynamo, cookieOf, makeTestApp, testConfig, type TestApp } from './support';

afterAll(closeSharedDynamo);

const PROXY_SECRET = 'same-origin-proxy-secret-0123456789abcdef';
const ORIGIN_SECRET = 'same-origin-origin-secret-0123456789abcde';
const WRONG = PROXY_SECRET.replace(/.$/, 'g'); // same length: only the value differs
const MERCHANT = '192.0.2.80'; // the merchant's web server: the socket address of everything it forwards
const SITE = 'https://www.brand.com';
const COLLECT_LIMIT = 120; // per minute, routes/collect.ts
const WINDOW_S = 30 * 86_400;

/** A request as the merchant's proxy forwards it: its recipe sets all of these, replacing what the visitor sent. */
function viaMerchant(visitor: string, over: Record<string, string> = {}): Record<string, string> {
  return {
    host: 'go.brand.com',
    [PROXY_HEADERS.proof]: PROXY_SECRET,
    [PROXY_HEADERS.host]: 'www.brand.com',
    [PROXY_HEADERS.clientIp]: visitor,
    [PROXY_HEADERS.proto]: 'https',
    [PROXY_HEADERS.country]: '',
    'user-agent': CHROME_UA,
    ...over,
  };
}

describe('through the merchant\'s proxy (REVTRAIL_PROXY_SECRET set)', () => {
  let t: TestApp;
  const collect = (headers: Record<string, string>, body: Record<string, unknown> = { t: 'pageview', url: `${SITE}/pricing` }) =>
    t.app.inject({ method: 'POST', url: '/api/v1/collect', remoteAddress: MERCHANT, headers: { origin: SITE, 'content-type': 'text/plain;charset=UTF-8', ...headers }, payload: JSON.stringify(body) });
  const feed = async <T>(kind: string): Promise<T[]> => {
    t.clock.advance(1);
    return (await t.app.inject({ url: `/api/v1/${kind}?limit=1000`, headers: t.auth, remoteAddress: '10.0.0.99' })).json().items as T[];
  };

  beforeEach(async () => {
    // No allowed origins: a same-origin post needs none. The cookie domain is the apex, as on AWS.
    t = await makeTestApp({ settings: { REVTRAIL_PROXY_SECRET: PROXY_SECRET, REVTRAIL_COOKIE_DOMAIN: 'brand.com', REVTRAIL_CONSENT: 'opt-out' } });
    await t.putLink('spring', { destination: 'https://www.brand.com/pricing', channel: 'Newsletter' });
    await t.putLink('uk', { destination: 'https://brand.co.uk/pricing', channel: 'Newsletter' });
  });

  it('sets the visitor cookie as the merchant\'s host, Secure, for the whole window, and redirects', async () => {
    const res = await t.app.inject({ url: '/spring?utm_source=nl', remoteAddress: MERCHANT, headers: viaMerchant('203.0.113.9') });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('https://www.brand.com/pricing?utm_source=nl');
    const cookie = cookieOf(res.headers['set-cookie'], 'rt_vid')!;
    expect(cookie).toMatch(new RegExp(`^rt_vid=[\\w-]{22}; Max-Age=${WINDOW_S}; Domain=brand\\.com; Path=/; HttpOnly; Secure; SameSite=Lax$`));

    // A merchant site outside the cookie domain gets a cookie of its own host, and the id travels on to a
    // destination that host's cookie does not reach.
    const uk = await t.app.inject({ url: '/uk', remoteAddress: MERCHANT, headers: viaMerchant('203.0.113.9', { [PROXY_HEADERS.host]: 'shop.brand.co.uk' }) });
    const ukCookie = cookieOf(uk.headers['set-cookie'], 'rt_vid')!;
    expect(ukCookie).not.toContain('Domain=');
    expect(new URL(uk.headers.location as string).searchParams.get('rt_vid')).toBe(ukCookie.slice(7, 29));
  });

  it('ignores every forwarded header without the proof, or with a wrong one', async () => {
    const forged = {
      [PROXY_HEADERS.host]: 'www.brand.com',
      [PROXY_HEADERS.clientIp]: '198.51.100.1',
      [PROXY_HEADERS.proto]: 'https',
      [PROXY_HEADERS.country]: 'FR',
      'x-forwarded-host': 'www.brand.com',
      'x-forwarded-for': '198.51.100.1',
      'x-forwarded-proto': 'https',
      'cloudfront-viewer-country': 'FR',
      'user-agent': CHROME_UA,
    };
    for (const proof of [{}, { [PROXY_HEADERS.proof]: WRONG }, { [PROXY_HEADERS.proof]: [PROXY_SECRET, PROXY_SECRET] }]) {
      const res = await t.app.inject({ url: '/spring', remoteAddress: MERCHANT, headers: { host: 'go.brand.com', ...forged, ...(proof as Record<string, string>) } });
      const cookie = cookieOf(res.headers['set-cookie'], 'rt_vid')!;
      // go.brand.com's own cookie (its Host header), not Secure: neither the host nor https was believed.
      expect(cookie).toContain('Domain=brand.com');
      expect(cookie).not.toContain('Secure');
      t.clock.advance(1);
    }
    await t.app.inject({ url: '/spring', remoteAddress: MERCHANT, headers: { host: 'go.brand.com', 'user-agent': CHROME_UA } });
    const clicks = await feed<Click>('clicks');
    expect(clicks).toHaveLength(4);
    for (const click of clicks) expect(click.country).toBeNull();
    // Every forged click hashed the socket's address, as the plain request did.
    expect(new Set(clicks.map((c) => c.ipHash)).size).toBe(1);
  });

  it('hashes the proven visitor address, not the proxy\'s, and takes a valid country', async () => {
    await t.app.inject({ url: '/spring', remoteAddress: MERCHANT, headers: viaMerchant('203.0.113.9', { [PROXY_HEADERS.country]: 'de' }) });
    t.clock.advance(1);
    // The same visitor straight to the merchant's host: the IP hash shows which address was used above.
    await t.app.inject({ url: '/spring', remoteAddress: '203.0.113.9', headers: { host: 'www.brand.com', 'user-agent': CHROME_UA } });
    t.clock.advance(1);
    await t.app.inject({ url: '/spring', remoteAddress: MERCHANT, headers: viaMerchant('2001:db8::9', { [PROXY_HEADERS.country]: 'Germany' }) });
    const [proxied, direct, v6] = await feed<Click>('clicks');
    expect(proxied!.ipHash).toBe(direct!.ipHash);
    expect(proxied!.country).toBe('DE');
    expect(v6!.ipHash).not.toBe(proxied!.ipHash);
    expect(v6!.country).toBeNull();
  });

  it('rate-limits collect per proven visitor address: one visitor is stopped, the others behind the same proxy are not', async () => {
    let answered = 0;
    for (; answered <= COLLECT_LIMIT; answered++) {
      const res = await collect(viaMerchant('203.0.113.20'));
      if (res.statusCode === 429) break;
      expect(res.statusCode).toBe(204);
    }
    expect(answered).toBe(COLLECT_LIMIT);
    expect((await collect(viaMerchant('203.0.113.21'))).statusCode).toBe(204);

    // Forged addresses without the proof all share the proxy's own bucket.
    let forged = 0;
    for (; forged <= COLLECT_LIMIT; forged++) {
      const { [PROXY_HEADERS.proof]: _proof, ...unproven } = viaMerchant(`198.51.100.${forged & 255}`);
      const res = await collect(unproven);
      if (res.statusCode === 429) break;
    }
    expect(forged).toBe(COLLECT_LIMIT);
  });

  it('collect: a same-origin post needs no allowed origin, and sets the cookie again with the whole window each time', async () => {
    const first = await collect(viaMerchant('203.0.113.9'), { t: 'pageview', url: `${SITE}/pricing`, vid: 'AbCdEfGhIjKlMnOpQrStUv' });
    expect(first.statusCode).toBe(204);
    expect(first.headers['access-control-allow-origin']).toBe(SITE);
    expect(cookieOf(first.headers['set-cookie'], 'rt_vid')).toMatch(new RegExp(`^rt_vid=AbCdEfGhIjKlMnOpQrStUv; Max-Age=${WINDOW_S}; Domain=brand\\.com; Path=/; HttpOnly; Secure; SameSite=Lax$`));
    // The cookie back: set again all the same (a capped one of before is replaced by this uncapped one).
    const again = await collect({ ...viaMerchant('203.0.113.9'), cookie: 'rt_vid=AbCdEfGhIjKlMnOpQrStUv' });
    expect(cookieOf(again.headers['set-cookie'], 'rt_vid')).toContain(`rt_vid=AbCdEfGhIjKlMnOpQrStUv; Max-Age=${WINDOW_S}`);
    // Straight to the tracking domain, a cookie already there is left as it is.
    const direct = await t.app.inject({
      method: 'POST',
      url: '/api/v1/collect',
      headers: { host: 'go.brand.com', origin: 'http://go.brand.com', cookie: 'rt_vid=AbCdEfGhIjKlMnOpQrStUv', 'content-type': 'text/plain' },
      payload: JSON.stringify({ t: 'pageview', url: 'https://go.brand.com/x' }),
    });
    expect(direct.statusCode).toBe(204);
    expect(cookieOf(direct.headers['set-cookie'], 'rt_vid')).toBeNull();
    // Another site posting through the proxy is not same-origin: refused (no allowed origins here).
    expect((await collect({ ...viaMerchant('203.0.113.9'), origin: 'https://evil.example' })).statusCode).toBe(403);
    const pageviews = await feed<Pageview>('pageviews');
    expect(pageviews.map((p) => p.visitorId)).toEqual(['AbCdEfGhIjKlMnOpQrStUv', 'AbCdEfGhIjKlMnOpQrStUv', 'AbCdEfGhIjKlMnOpQrStUv']);
  });

  it('a withdrawal through the proxy removes the visitor cookie but sets no consent cookie over the pixel\'s own', async () => {
    const res = await collect({ ...viaMerchant('203.0.113.9'), cookie: 'rt_vid=AbCdEfGhIjKlMnOpQrStUv; rt_consent=0' }, { t: 'forget' });
    expect(res.statusCode).toBe(204);
    expect(cookieOf(res.headers['set-cookie'], 'rt_vid')).toContain('Max-Age=0');
    expect(cookieOf(res.headers['set-cookie'], 'rt_consent')).toBeNull();
    // The pixel's rt_consent=0 on that host still stops the links.
    const click = await t.app.inject({ url: '/spring', remoteAddress: MERCHANT, headers: { ...viaMerchant('203.0.113.9'), cookie: 'rt_consent=0' } });
    expect(cookieOf(click.headers['set-cookie'], 'rt_vid')).toBeNull();
  });

  it('behind CloudFront as well, the merchant proxy\'s word wins: CloudFront saw the proxy, not the visitor', async () => {
    const both = await makeTestApp({ settings: { REVTRAIL_PROXY_SECRET: PROXY_SECRET, REVTRAIL_ORIGIN_SECRET: ORIGIN_SECRET, REVTRAIL_COOKIE_DOMAIN: 'brand.com' } });
    await both.putLink('spring', { destination: 'https://www.brand.com/pricing', channel: 'Newsletter' });
    const edge = '130.176.1.10';
    const cloudFront = { host: 'abc.lambda-url.eu-west-1.on.aws', 'x-forwarded-host': 'go.brand.com', 'x-revtrail-origin-proof': ORIGIN_SECRET, 'cloudfront-viewer-address': `${MERCHANT}:443`, 'cloudfront-viewer-country': 'US' };
    await both.app.inject({ url: '/spring', remoteAddress: edge, headers: { ...viaMerchant('203.0.113.9', { [PROXY_HEADERS.country]: 'FR' }), ...cloudFront } });
    both.clock.advance(1);
    await both.app.inject({ url: '/spring', remoteAddress: edge, headers: { ...viaMerchant('203.0.113.9'), ...cloudFront } });
    both.clock.advance(1);
    await both.app.inject({ url: '/spring', remoteAddress: '203.0.113.9', headers: { host: 'www.brand.com', 'user-agent': CHROME_UA } });
    both.clock.advance(1);
    const clicks = (await both.app.inject({ url: '/api/v1/clicks', headers: both.auth })).json().items as Click[];
    expect(clicks.map((c) => c.country)).toEqual(['FR', null, null]);
    expect(clicks[0]!.ipHash).toBe(clicks[2]!.ipHash);
  });

  describe('GET /proxy-check', () => {
    const check = async (headers: Record<string, string>, query = '') => {
      const res = await t.app.inject({ url: `/proxy-check${query}`, remoteAddress: MERCHANT, headers });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).not.toContain(PROXY_SECRET);
      return { res, body: res.json() as ProxyCheck };
    };

    it('says the proof was valid, what host and scheme it believes, and that the query, cookie and address arrived', async () => {
      const { res, body } = await check({ ...viaMerchant('203.0.113.9'), cookie: 'rt_probe=n0nce-1' }, '?rt_probe=n0nce-1');
      expect(body).toEqual({
        revtrail: 'proxy-check',
        proof: 'valid',
        clientAddress: 'forwarded',
        host: 'www.brand.com',
        protocol: 'https',
        query: 'n0nce-1',
        cookie: 'n0nce-1',
        cookieMaxAgeSeconds: WINDOW_S,
      });
      expect(res.headers[PROXY_CHECK_HEADER]).toBe('valid');
      // The probe cookie removed through the proxy: the checker sees Set-Cookie come back.
      expect(cookieOf(res.headers['set-cookie'], 'rt_probe')).toMatch(/^rt_probe=; Max-Age=0; Domain=brand\.com; Path=\/; HttpOnly; Secure/);
    });

    it('tells a wrong, a missing and an unconfigured proof apart, and a proxy that drops the visitor address', async () => {
      expect((await check(viaMerchant('203.0.113.9', { [PROXY_HEADERS.proof]: WRONG }))).body).toMatchObject({ proof: 'invalid', clientAddress: null, host: 'go.brand.com', protocol: 'http' });
      expect((await check({ host: 'go.brand.com' })).body).toMatchObject({ proof: 'missing', query: null, cookie: null });
      const { [PROXY_HEADERS.clientIp]: _ip, ...noAddress } = viaMerchant('203.0.113.9');
      expect((await check(noAddress)).body).toMatchObject({ proof: 'valid', clientAddress: 'missing' });
      expect((await check(viaMerchant('not-an-address'))).body).toMatchObject({ proof: 'valid', clientAddress: 'invalid' });
      expect((await check(viaMerchant('203.0.113.9'), '?rt_probe=%3Cscript%3E')).body.query).toBeNull();

      const plain = await makeTestApp();
      const res = await plain.app.inject({ url: '/proxy-check', headers: viaMerchant('203.0.113.9') });
      expect(res.json()).toMatchObject({ proof: 'not-configured', host: 'go.brand.com', protocol: 'http' });
    });
  });
});

describe('REVTRAIL_PROXY_SECRET', () => {
  const base = { REVTRAIL_TABLE: 'revtrail', REVTRAIL_SYNC_TOKEN: 'a'.repeat(40), REVTRAIL_EMAIL_HASH_KEY: 'b'.repeat(40), REVTRAIL_IP_SALT_SEED: 'c'.repeat(40) };

  it('is none by default and for SST\'s placeholder, and refused short or equal to another secret', () => {
    const none = parseConfig(base);
    expect(none.ok && none.config.proxySecret).toBeNull();
    const placeholder = parseConfig({ ...base, REVTRAIL_PROXY_SECRET: 'unset' });
    expect(placeholder.ok && placeholder.config.proxySecret).toBeNull();
    expect(testConfig({ REVTRAIL_PROXY_SECRET: PROXY_SECRET }).proxySecret).toBe(PROXY_SECRET);
    const short = parseConfig({ ...base, REVTRAIL_PROXY_SECRET: 'short' });
    expect(short.ok ? [] : short.errors).toEqual([expect.stringMatching(/REVTRAIL_PROXY_SECRET must be at least 32 characters/)]);
    for (const same of ['c'.repeat(40), ORIGIN_SECRET]) {
      const r = parseConfig({ ...base, REVTRAIL_ORIGIN_SECRET: ORIGIN_SECRET, REVTRAIL_PROXY_SECRET: same });
      expect(r.ok ? [] : r.errors).toEqual([expect.stringMatching(/REVTRAIL_PROXY_SECRET must differ from the other secrets/)]);
    }
  });
});
