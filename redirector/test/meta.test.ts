import { afterAll, describe, expect, it } from 'vitest';
import type { Click, Pageview } from '@revtrail/shared';
import { pixelSettings } from '../src/pixel/asset';
import { CHROME_UA, closeSharedDynamo, makeTestApp, testConfig, type TestApp } from './support';

// What the redirector keeps for Meta forwarding: a click's User-Agent only with REVTRAIL_META=true and an
// fbclid, from a visitor with an id, not a bot; Meta's _fbc/_fbp from the pixel when they are well formed.
afterAll(closeSharedDynamo);

const SITE = 'https://brand.com';
const VID = 'AbCdEfGhIjKlMnOpQrStUv';
const FBCLID = 'IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk';

async function appWith(meta: boolean): Promise<TestApp> {
  const t = await makeTestApp({ settings: { REVTRAIL_ALLOWED_ORIGINS: SITE, ...(meta ? { REVTRAIL_META: 'true' } : {}) } });
  await t.putLink('ad', { destination: `${SITE}/pricing`, channel: 'Meta ads' });
  return t;
}

const feed = async <T>(t: TestApp, kind: string): Promise<T[]> => {
  t.clock.advance(1);
  return (await t.app.inject({ url: `/api/v1/${kind}`, headers: t.auth })).json().items as T[];
};

describe('REVTRAIL_META', () => {
  it('is off unless set to true, and must be true or false', () => {
    expect(testConfig().meta).toBe(false);
    expect(testConfig({ REVTRAIL_META: 'true' }).meta).toBe(true);
    expect(() => testConfig({ REVTRAIL_META: 'on' })).toThrow(/REVTRAIL_META must be true or false/);
    expect(pixelSettings(testConfig({ REVTRAIL_META: 'true' })).f).toBe(1);
    expect(pixelSettings(testConfig()).f).toBe(0);
  });

  it('on: a person\'s click with an fbclid keeps its User-Agent; no other click does', async () => {
    const t = await appWith(true);
    // A millisecond apart, so the feed lists them in this order.
    const click = (query: string, headers: Record<string, string>) => (t.clock.advance(1), t.app.inject({ url: `/ad${query}`, headers: { 'user-agent': CHROME_UA, ...headers } }));
    await click(`?fbclid=${FBCLID}`, { cookie: `rt_vid=${VID}` });
    await click('?utm_source=x', { cookie: `rt_vid=${VID}` });
    await click(`?fbclid=${FBCLID}`, { cookie: `rt_vid=${VID}`, 'user-agent': 'facebookexternalhit/1.1' });
    await click(`?fbclid=${FBCLID}`, { cookie: `rt_vid=${VID}`, 'sec-gpc': '1' });
    await click(`?fbclid=${FBCLID}`, { cookie: `rt_vid=${VID}`, 'user-agent': `${CHROME_UA} ${'x'.repeat(2000)}` });
    const clicks = await feed<Click>(t, 'clicks');
    expect(clicks.map((c) => [c.clickIds.fbclid ?? null, c.bot, c.visitorId !== null, c.userAgent?.slice(0, 20) ?? null])).toEqual([
      [FBCLID, false, true, CHROME_UA.slice(0, 20)],
      [null, false, true, null],
      [FBCLID, true, true, null],
      [FBCLID, false, false, null],
      [FBCLID, false, true, CHROME_UA.slice(0, 20)],
    ]);
    expect(clicks[0]!.userAgent).toBe(CHROME_UA);
    expect(clicks[4]!.userAgent).toHaveLength(1024);
  });

  it('off: no click keeps a User-Agent', async () => {
    const t = await appWith(false);
    await t.app.inject({ url: `/ad?fbclid=${FBCLID}`, headers: { 'user-agent': CHROME_UA, cookie: `rt_vid=${VID}` } });
    const [c] = await feed<Click>(t, 'clicks');
    expect(c!.clickIds.fbclid).toBe(FBCLID);
    expect(c).not.toHaveProperty('userAgent');
  });
});

describe('pageviews with Meta\'s cookies', () => {
  it('keeps well-formed _fbc and _fbp as sent, and leaves out (without refusing the pageview) any other shape', async () => {
    const t = await appWith(false);
    const post = (body: Record<string, unknown>) =>
      (t.clock.advance(1), t.app.inject({ method: 'POST', url: '/api/v1/collect', headers: { origin: SITE, 'content-type': 'text/plain', 'user-agent': CHROME_UA, cookie: `rt_vid=${VID}` }, payload: JSON.stringify({ t: 'pageview', url: `${SITE}/`, ...body }) }));
    const fbc = `fb.1.1554763741205.${FBCLID}`;
    const fbp = 'fb.1.1596403881668.1116446470';
    expect((await post({ fbc, fbp })).statusCode).toBe(204);
    expect((await post({ fbc: 'fb.1.155476374.x', fbp: 'fb.1.1596403881668.abc' })).statusCode).toBe(204);
    expect((await post({ fbc: `fb.1.1554763741205.${FBCLID}.AQEAAQMB` })).statusCode).toBe(204);
    expect((await post({ fbc: 'x'.repeat(700) })).statusCode).toBe(400);
    const pvs = await feed<Pageview>(t, 'pageviews');
    expect(pvs.map((p) => [p.fbc ?? null, p.fbp ?? null])).toEqual([
      [fbc, fbp],
      [null, null],
      [`${fbc}.AQEAAQMB`, null],
    ]);
  });
});
