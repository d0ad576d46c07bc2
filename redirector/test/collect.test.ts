import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { hashEmail, normalizeEmail, type Erasure, type Identity, type Pageview } from '@revtrail/shared';
import { feedErasure } from '../src/store/erasures';
import { CHROME_UA, EMAIL_KEY, closeSharedDynamo, cookieOf, makeTestApp, type TestApp } from './support';

afterAll(closeSharedDynamo);

const SITE = 'https://brand.com';
const VID = 'AbCdEfGhIjKlMnOpQrStUv';

describe('POST /api/v1/collect', () => {
  let t: TestApp;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/collect',
      headers: { origin: SITE, 'content-type': 'text/plain;charset=UTF-8', 'user-agent': CHROME_UA, ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const feed = async <T>(kind: string): Promise<T[]> => {
    t.clock.advance(1);
    return (await t.app.inject({ url: `/api/v1/${kind}`, headers: t.auth })).json().items as T[];
  };

  beforeEach(async () => {
    t = await makeTestApp({ settings: { REVTRAIL_ALLOWED_ORIGINS: `${SITE},https://www.brand.com`, REVTRAIL_COOKIE_DOMAIN: 'brand.com' } });
  });

  it('records a pageview with the landing page, its click ids and UTMs, and nothing else of the query', async () => {
    const res = await post(
      { t: 'pageview', url: `${SITE}/pricing?utm_source=nl&gclid=G1&email=a@b.co&rt_vid=${VID}#top`, ref: 'https://google.com/search?q=x' },
      { cookie: `rt_vid=${VID}` },
    );
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(SITE);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    const [pv] = await feed<Pageview>('pageviews');
    expect(pv).toMatchObject({
      visitorId: VID,
      url: `${SITE}/pricing?gclid=G1&utm_source=nl`,
      referrerHost: 'google.com',
      referrerUrl: 'https://google.com/search',
      clickIds: { gclid: 'G1' },
      utm: { utm_source: 'nl' },
    });
  });

  it('adopts the visitor id the landing page got from the redirect when it has no cookie', async () => {
    const res = await post({ t: 'pageview', url: `${SITE}/`, vid: VID });
    expect(cookieOf(res.headers['set-cookie'], 'rt_vid')).toContain(`rt_vid=${VID};`);
    expect((await feed<Pageview>('pageviews'))[0]!.visitorId).toBe(VID);
  });

  it('prefers its own cookie over an id in the body, and ignores a malformed one', async () => {
    await post({ t: 'pageview', url: `${SITE}/`, vid: 'x'.repeat(22) + '!' }, { cookie: `rt_vid=${VID}` });
    await post({ t: 'pageview', url: `${SITE}/`, vid: 'ZZZZZZZZZZZZZZZZZZZZZZ' }, { cookie: `rt_vid=${VID}` });
    expect((await feed<Pageview>('pageviews')).map((p) => p.visitorId)).toEqual([VID, VID]);
  });

  it('stores only the keyed hash of the normalised email, never the email', async () => {
    const res = await post({ t: 'identify', email: '  Jane.Doe+news@GMAIL.com ', url: `${SITE}/signup`, src: 'form' }, { cookie: `rt_vid=${VID}` });
    expect(res.statusCode).toBe(204);
    const [identity] = await feed<Identity>('identities');
    expect(identity).toMatchObject({ visitorId: VID, source: 'form', emailHash: await hashEmail(normalizeEmail('janedoe@gmail.com')!, EMAIL_KEY) });
    const dynamo = await import('./support').then((m) => m.sharedDynamo());
    const scan = await dynamo.client().send(new ScanCommand({ TableName: t.config.tableName }));
    const raw = JSON.stringify(scan.Items).toLowerCase();
    expect(raw).not.toContain('jane');
    expect(raw).not.toContain('gmail');
  });

  it('answers a CORS preflight for allowed origins only', async () => {
    const ok = await t.app.inject({ method: 'OPTIONS', url: '/api/v1/collect', headers: { origin: 'https://www.brand.com', 'access-control-request-method': 'POST' } });
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://www.brand.com');
    const no = await t.app.inject({ method: 'OPTIONS', url: '/api/v1/collect', headers: { origin: 'https://evil.example' } });
    expect(no.statusCode).toBe(403);
    expect(no.headers['access-control-allow-origin']).toBeUndefined();
  });

  it.each([
    ['another site', { origin: 'https://evil.example' }, 403],
    ['no origin', { origin: '' }, 403],
  ])('refuses events from %s', async (_name, headers, status) => {
    const res = await post({ t: 'pageview', url: `${SITE}/` }, headers);
    expect(res.statusCode).toBe(status);
    expect(await feed('pageviews')).toEqual([]);
  });

  it.each([
    ['not JSON', '{"t":', /JSON/],
    ['an unknown type', { t: 'purchase', url: `${SITE}/` }, /t:/],
    ['a non-http page', { t: 'pageview', url: 'javascript:alert(1)' }, /url/],
    ['identify without an email', { t: 'identify', url: `${SITE}/`, email: 'not-an-email' }, /email/],
    ['an unknown field', { t: 'pageview', url: `${SITE}/`, ip: '1.2.3.4' }, /ip/],
    ['an overlong click id', { t: 'pageview', url: `${SITE}/?fbclid=${'f'.repeat(600)}` }, /fbclid/],
  ])('answers %s with a clear 400', async (_name, body, message) => {
    const res = await post(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(message);
  });

  it('refuses bodies over 4 KB', async () => {
    const res = await post({ t: 'pageview', url: `${SITE}/?x=${'a'.repeat(5000)}` });
    expect(res.statusCode).toBe(413);
  });

  it('rate-limits each client IP, whatever User-Agent or forwarding headers it sends, and not the others', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 121; i++) {
      // The measurement: a new User-Agent per request got 400 of 400 accepted from one IP.
      const spoof = { 'user-agent': `${CHROME_UA} r${i}`, 'x-forwarded-for': `198.51.100.${i}`, 'cloudfront-viewer-address': `203.0.113.${i}:443` };
      statuses.push((await post({ t: 'pageview', url: `${SITE}/` }, spoof)).statusCode);
    }
    expect(statuses.slice(0, 120).every((s) => s === 204)).toBe(true);
    expect(statuses[120]).toBe(429);
    const other = await t.app.inject({
      method: 'POST',
      url: '/api/v1/collect',
      remoteAddress: '192.0.2.55',
      headers: { origin: SITE, 'content-type': 'text/plain', 'user-agent': CHROME_UA },
      payload: JSON.stringify({ t: 'pageview', url: `${SITE}/` }),
    });
    expect(other.statusCode).toBe(204);
  });
});

describe('erasure', () => {
  it('erases every click, pageview and identity of a visitor, or of an email hash, and says so in a feed', async () => {
    const t = await makeTestApp({ settings: { REVTRAIL_ALLOWED_ORIGINS: SITE } });
    await t.putLink('spring', { destination: 'https://brand.com/', channel: 'Newsletter' });
    const other = 'OtherVisitor0123456789';
    for (const vid of [VID, other, 'ThirdVisitor0123456789']) {
      await t.app.inject({ url: '/spring', cookies: { rt_vid: vid }, headers: { 'user-agent': CHROME_UA } });
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/collect',
        cookies: { rt_vid: vid },
        headers: { origin: SITE, 'content-type': 'text/plain' },
        payload: JSON.stringify({ t: 'identify', email: vid === 'ThirdVisitor0123456789' ? 'third@brand.com' : 'same@brand.com', url: `${SITE}/` }),
      });
    }
    const hash = await hashEmail('same@brand.com', EMAIL_KEY);
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/erase', headers: t.auth, payload: { email: 'same@brand.com' } });
    expect(bad.statusCode).toBe(400);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/erase', headers: t.auth, payload: { emailHash: hash } });
    expect(res.json()).toEqual({ visitors: 2, items: 4 });
    t.clock.advance(1);
    const clicks = (await t.app.inject({ url: '/api/v1/clicks', headers: t.auth })).json().items;
    expect(clicks.map((c: { visitorId: string }) => c.visitorId)).toEqual(['ThirdVisitor0123456789']);
    const erasures = (await t.app.inject({ url: '/api/v1/erasures', headers: t.auth })).json().items;
    expect(erasures).toHaveLength(3);
    // Named by digest only: the feed's items keep nothing of the person.
    const digestOf = (key: { visitorId: string } | { emailHash: string }) => feedErasure(key, 'X', 0);
    expect(erasures.map((e: Erasure) => e.visitorDigest).sort()).toEqual([null, digestOf({ visitorId: other }).visitorDigest, digestOf({ visitorId: VID }).visitorDigest].sort());
    expect(erasures.map((e: Erasure) => e.emailDigest).filter(Boolean)).toEqual([digestOf({ emailHash: hash }).emailDigest]);
    for (const id of [VID, other, hash]) expect(JSON.stringify(erasures)).not.toContain(id);
    const byVisitor = await t.app.inject({ method: 'POST', url: '/api/v1/erase', headers: t.auth, payload: { visitorId: 'ThirdVisitor0123456789' } });
    expect(byVisitor.json()).toEqual({ visitors: 1, items: 2 });
  });
});
