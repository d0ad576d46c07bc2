/**
 * Who a client is (IP, country, host, protocol) comes from what it cannot forge: CloudFront's viewer
 * headers only with this deployment's origin proof, otherwise the socket. The issue measured the opposite:
 * 1,500 wrong-token guesses with rotating CloudFront-Viewer-Address got no 429, a spoofed victim address
 * locked the victim's valid token out, and CloudFront-Viewer-Country was recorded from anyone.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { Click } from '@revtrail/shared';
import { rateLimitKey } from '../src/visitor';
import { CHROME_UA, closeSharedDynamo, cookieOf, makeTestApp, type TestApp } from './support';

afterAll(closeSharedDynamo);

const ORIGIN_SECRET = 'client-identity-origin-secret-0123456789ab';
const WRONG_SECRET = ORIGIN_SECRET.replace(/.$/, 'c'); // same length: only the value differs
const FUNCTION_URL_HOST = 'abc123xyz.lambda-url.eu-west-1.on.aws';
const EDGE = '130.176.1.10'; // a CloudFront edge: the socket address of everything that came through it
const SYNC_LIMIT = 1200; // per minute, routes/sync.ts

/** A request as this deployment's CloudFront forwards it to the function URL. */
function viaCloudFront(viewer: string, country: string, proof = ORIGIN_SECRET): Record<string, string> {
  return {
    host: FUNCTION_URL_HOST,
    'x-forwarded-host': 'go.brand.com',
    'x-revtrail-origin-proof': proof,
    'cloudfront-viewer-address': `${viewer}:50123`,
    'cloudfront-viewer-country': country,
    'user-agent': CHROME_UA,
  };
}

async function clicks(t: TestApp): Promise<Click[]> {
  t.clock.advance(1);
  const res = await t.app.inject({ url: '/api/v1/clicks?limit=1000', headers: t.auth, remoteAddress: '10.0.0.99' });
  expect(res.statusCode).toBe(200);
  return res.json().items as Click[];
}

/** Wrong-token sync API calls until the first 429; the number answered before it. */
async function guessesUntilLimited(t: TestApp, from: string, headers: (i: number) => Record<string, string>): Promise<number> {
  for (let i = 0; i <= SYNC_LIMIT; i++) {
    const res = await t.app.inject({ url: '/api/v1/status', remoteAddress: from, headers: { authorization: `Bearer guess-${i}`, ...headers(i) } });
    if (res.statusCode === 429) return i;
    expect(res.statusCode).toBe(401);
  }
  return SYNC_LIMIT + 1;
}

describe('with an origin secret configured (behind CloudFront)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ settings: { REVTRAIL_ORIGIN_SECRET: ORIGIN_SECRET, REVTRAIL_COOKIE_DOMAIN: 'brand.com' } });
    await t.putLink('spring', { destination: 'https://brand.com/pricing', channel: 'Newsletter' });
  });

  it('without the proof, rotating spoofed viewer addresses all share the socket bucket: guesses get 429', async () => {
    const answered = await guessesUntilLimited(t, '198.51.100.7', (i) => ({
      'cloudfront-viewer-address': `203.0.${i >> 8}.${i & 255}:443`,
      'x-forwarded-for': `192.0.2.${i & 255}`,
    }));
    expect(answered).toBe(SYNC_LIMIT);
  });

  it('without the proof, a spoofed victim address does not lock the victim out', async () => {
    const victim = '198.51.100.50';
    const spoof = { 'cloudfront-viewer-address': `${victim}:443`, 'x-forwarded-for': victim };
    expect(await guessesUntilLimited(t, '192.0.2.66', () => spoof)).toBe(SYNC_LIMIT);
    const own = await t.app.inject({ url: '/api/v1/status', remoteAddress: victim, headers: t.auth });
    expect(own.statusCode).toBe(200);
  });

  it('with the proof, each CloudFront viewer has its own bucket though all arrive from one edge', async () => {
    expect(await guessesUntilLimited(t, EDGE, () => viaCloudFront('198.51.100.8', 'FR'))).toBe(SYNC_LIMIT);
    const other = await t.app.inject({ url: '/api/v1/status', remoteAddress: EDGE, headers: { ...viaCloudFront('198.51.100.9', 'FR'), ...t.auth } });
    expect(other.statusCode).toBe(200);
  });

  it('with the proof, one IPv6 /64 is one bucket: rotating through the subscriber\'s prefix gets 429', async () => {
    const answered = await guessesUntilLimited(t, EDGE, (i) => viaCloudFront(`2001:db8:1:2:${(i + 1).toString(16)}::7`, 'FR'));
    expect(answered).toBe(SYNC_LIMIT);
    const neighbour = await t.app.inject({ url: '/api/v1/status', remoteAddress: EDGE, headers: { ...viaCloudFront('2001:db8:1:3::7', 'FR'), ...t.auth } });
    expect(neighbour.statusCode).toBe(200);
  });

  it('records CloudFront\'s country and hashes its viewer address only with the right proof', async () => {
    await t.app.inject({ url: '/spring', remoteAddress: EDGE, headers: viaCloudFront('203.0.113.9', 'FR') });
    t.clock.advance(1);
    await t.app.inject({ url: '/spring', remoteAddress: EDGE, headers: viaCloudFront('203.0.113.9', 'FR', WRONG_SECRET) });
    t.clock.advance(1);
    const { 'x-revtrail-origin-proof': _proof, ...unproven } = viaCloudFront('203.0.113.9', 'FR');
    await t.app.inject({ url: '/spring', remoteAddress: EDGE, headers: unproven });
    t.clock.advance(1);
    // The same viewer reaching the same host directly: the IP hash proves which address was used above.
    await t.app.inject({ url: '/spring', remoteAddress: '203.0.113.9', headers: { host: 'go.brand.com', 'user-agent': CHROME_UA } });
    t.clock.advance(1);
    await t.app.inject({ url: '/spring', remoteAddress: EDGE, headers: { host: FUNCTION_URL_HOST, 'user-agent': CHROME_UA } });

    const [proven, wrong, missing, direct, edge] = await clicks(t);
    expect(proven!.country).toBe('FR');
    expect(proven!.ipHash).toBe(direct!.ipHash);
    for (const click of [wrong!, missing!]) {
      expect(click.country).toBeNull();
      expect(click.ipHash).toBe(edge!.ipHash);
    }
  });

  it('takes the host and https from CloudFront only with the proof, for the cookie', async () => {
    const proven = await t.app.inject({ url: '/spring', remoteAddress: EDGE, headers: viaCloudFront('203.0.113.9', 'FR') });
    expect(cookieOf(proven.headers['set-cookie'], 'rt_vid')).toMatch(/Domain=brand\.com.*Secure/);

    const forged = await t.app.inject({
      url: '/spring',
      remoteAddress: '203.0.113.9',
      headers: { host: FUNCTION_URL_HOST, 'x-forwarded-host': 'go.brand.com', 'x-forwarded-proto': 'https', 'user-agent': CHROME_UA },
    });
    const cookie = cookieOf(forged.headers['set-cookie'], 'rt_vid')!;
    expect(cookie).not.toContain('Domain=');
    expect(cookie).not.toContain('Secure');
  });

  it('reads an IPv6 viewer address, which CloudFront sends unbracketed before the port', async () => {
    await t.app.inject({ url: '/spring', remoteAddress: EDGE, headers: viaCloudFront('2001:db8::7', 'DE') });
    t.clock.advance(1);
    await t.app.inject({ url: '/spring', remoteAddress: '2001:db8::7', headers: { host: 'go.brand.com', 'user-agent': CHROME_UA } });
    const [proven, direct] = await clicks(t);
    expect(proven!.ipHash).toBe(direct!.ipHash);
  });

  it('ignores a malformed CloudFront address or country even with the proof', async () => {
    await t.app.inject({ url: '/spring', remoteAddress: EDGE, headers: { ...viaCloudFront('203.0.113.9', 'fr'), 'cloudfront-viewer-address': 'not-an-ip:1' } });
    t.clock.advance(1);
    await t.app.inject({ url: '/spring', remoteAddress: EDGE, headers: { host: 'go.brand.com', 'user-agent': CHROME_UA } });
    const [odd, edge] = await clicks(t);
    expect(odd!.country).toBeNull();
    expect(odd!.ipHash).toBe(edge!.ipHash);
  });
});

describe('without an origin secret (a local redirector)', () => {
  it('believes no CloudFront header, whatever proof a request brings', async () => {
    const t = await makeTestApp();
    await t.putLink('spring', { destination: 'https://brand.com/pricing', channel: 'Newsletter' });
    await t.app.inject({ url: '/spring', remoteAddress: '192.0.2.1', headers: viaCloudFront('203.0.113.9', 'FR') });
    t.clock.advance(1);
    await t.app.inject({ url: '/spring', remoteAddress: '192.0.2.1', headers: { host: FUNCTION_URL_HOST, 'user-agent': CHROME_UA } });
    const [spoofed, plain] = await clicks(t);
    expect(spoofed!.country).toBeNull();
    expect(spoofed!.ipHash).toBe(plain!.ipHash);
  });
});

describe('rate-limit buckets', () => {
  it.each([
    ['198.51.100.7', '198.51.100.7'],
    ['::ffff:198.51.100.7', '198.51.100.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    [undefined, 'unknown'],
  ])('%s -> %s', (ip, key) => {
    expect(rateLimitKey(ip)).toBe(key);
  });
});
