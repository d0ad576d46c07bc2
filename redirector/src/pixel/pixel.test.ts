import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumMissing, chromiumPath } from '../../test/chromium';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findPixel, loadPixelAsset, pickEncoding, PIXEL_SETTINGS_TEXT, pixelCandidates, renderPixel } from './asset';

const PIXEL = fileURLToPath(new URL('./pixel.js', import.meta.url));
const SOURCE = readFileSync(PIXEL);

describe('pixel asset', () => {
  it('pixel.js is under 2 KB gzipped', () => {
    expect(gzipSync(SOURCE).length).toBeLessThan(2048);
  });

  it('serves pixel.js byte for byte, with gzip and brotli that decode to it and a strong, stable etag', () => {
    const asset = loadPixelAsset();
    expect(asset.body.equals(SOURCE)).toBe(true);
    expect(gunzipSync(asset.gzip).equals(SOURCE)).toBe(true);
    expect(brotliDecompressSync(asset.brotli).equals(SOURCE)).toBe(true);
    expect(asset.gzip.length).toBeLessThan(2048);
    expect(asset.etag).toMatch(/^"[\w-]{22}"$/);
    expect(loadPixelAsset({ path: PIXEL }).etag).toBe(asset.etag);

    const changed = join(mkdtempSync(join(tmpdir(), 'revtrail-pixel-')), 'pixel.js');
    writeFileSync(changed, `${SOURCE.toString()};`);
    expect(loadPixelAsset({ path: changed }).etag).not.toBe(asset.etag);
  });

  it('renders the redirector\'s settings into its last line only, and refuses a pixel.js without the slot', () => {
    expect(renderPixel(SOURCE, { m: 2_592_000, c: 'off', g: 1, f: 0 }).equals(SOURCE)).toBe(true);
    const optin = renderPixel(SOURCE, { m: 604_800, c: 'opt-in', g: 0, f: 1 }).toString();
    expect(optin).toBe(SOURCE.toString().replace(PIXEL_SETTINGS_TEXT, '{"m":604800,"c":"opt-in","g":0,"f":1}'));
    expect(gzipSync(optin).length).toBeLessThan(2048);
    expect(() => renderPixel(Buffer.from('(function(){})()'), { m: 1, c: 'off', g: 1, f: 0 })).toThrow(/must hold/);
  });

  it('looks beside this module, then beside the entry script, then in the working directory', () => {
    expect(pixelCandidates()).toEqual([PIXEL, join(dirname(process.argv[1] ?? ''), 'pixel.js'), join(process.cwd(), 'pixel.js')]);
    const bundled = join(mkdtempSync(join(tmpdir(), 'revtrail-bundle-')), 'pixel.js');
    writeFileSync(bundled, SOURCE);
    expect(findPixel(['/nowhere/pixel.js', bundled])).toBe(bundled);
    expect(() => findPixel(['/nowhere/pixel.js'])).toThrow(/pixel\.js not found; looked in: \/nowhere\/pixel\.js/);
  });
});

describe('pickEncoding', () => {
  it.each([
    [undefined, 'identity'],
    ['', 'identity'],
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['x-gzip', 'gzip'],
    ['BR', 'br'],
    ['deflate, zstd', 'identity'],
    ['br;q=0, gzip', 'gzip'],
    ['br;q=0.0, gzip;q=0', 'identity'],
    ['gzip;q=1.0, br;q=0.5', 'gzip'],
    ['gzip ; Q=0.4, br;q=0.3', 'gzip'],
    ['br;q=0.8, gzip;q=0.8', 'br'],
    ['br;q=2, gzip;q=0.1', 'gzip'],
    ['br;q=abc, gzip;q=0.1', 'gzip'],
    ['*', 'br'],
    ['*;q=0.5, gzip', 'gzip'],
    ['*;q=0', 'identity'],
    ['*;q=0, gzip;q=0.2', 'gzip'],
    ['identity, br;q=0.5', 'identity'],
    ['identity;q=0.5, br', 'br'],
  ])('%j -> %s', (header, expected) => {
    expect(pickEncoding(header)).toBe(expected);
  });
});

const noChromium = chromiumMissing();
if (noChromium) console.warn(`pixel browser tests skipped: ${noChromium}`);

// Visitor ids as the redirector makes them: 22 chars of base64url.
const VID = 'Ab3-_xYz0123456789_-AB';
const VID2 = 'zz_9-0aBcDeFgHiJkLmNoP';

// The stub exactly as asset.ts documents it (pixel.js points there), so the documentation is what gets tested.
const STUB = /<script>(window\.revtrail=.*?)<\/script>/.exec(readFileSync(fileURLToPath(new URL('./asset.ts', import.meta.url)), 'utf8'))?.[1] ?? 'stub missing from asset.ts';

type Hit = { method: string; host: string; path: string; origin: string; cookie: string; type: string; body: string };
type Post = { t: string; url: string; ref?: string; email?: string; src?: string; vid?: string; c?: number; fbc?: string; fbp?: string };

describe.skipIf(noChromium !== '')(`pixel in Chromium${noChromium ? ` (skipped: ${noChromium})` : ''}`, () => {
  const asset = loadPixelAsset();
  // Served under /<name>/p.js, as the redirector renders them for these settings.
  const rendered = new Map([
    ['optin', loadPixelAsset({ settings: { m: 7 * 86_400, c: 'opt-in', g: 1, f: 0 } })],
    ['optout', loadPixelAsset({ settings: { m: 30 * 86_400, c: 'opt-out', g: 1, f: 0 } })],
    ['nogpc', loadPixelAsset({ settings: { m: 30 * 86_400, c: 'off', g: 0, f: 0 } })],
    ['meta', loadPixelAsset({ settings: { m: 30 * 86_400, c: 'off', g: 1, f: 1 } })],
    ['metaoptin', loadPixelAsset({ settings: { m: 30 * 86_400, c: 'opt-in', g: 1, f: 1 } })],
  ]);
  const hits: Hit[] = [];
  const pages = new Map<string, string>();
  const servers: Server[] = [];
  const sessions: { context: BrowserContext; requests: string[]; errors: string[] }[] = [];
  let browser: Browser;
  let pixelOrigin: string; // http://127.0.0.1:A serves the pixel and collect
  let otherSite: string; // http://localhost:B, a different site
  let sameSite: string; // http://localhost:A, a different origin on the same site as otherSite

  function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const origin = req.headers.origin ?? '';
      hits.push({ method: req.method ?? '', host: req.headers.host ?? '', path, origin, cookie: req.headers.cookie ?? '', type: req.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString() });
      if (path.endsWith('/p.js')) {
        const encoding = pickEncoding(req.headers['accept-encoding']);
        const served = rendered.get(path.split('/')[1] ?? '') ?? asset;
        const body = { br: served.brotli, gzip: served.gzip, identity: served.body }[encoding];
        res.setHeader('vary', 'accept-encoding');
        if (encoding !== 'identity') res.setHeader('content-encoding', encoding);
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', etag: asset.etag }).end(body);
      } else if (path.endsWith('/api/v1/collect')) {
        const allowed = [pixelOrigin, otherSite, sameSite].includes(origin);
        const headers: Record<string, string> = allowed ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'origin' } : {};
        // As collect does: the id the pixel sent kept in the HttpOnly cookie (same-origin posts are the ones the test reads).
        const vid = (JSON.parse(Buffer.concat(chunks).toString() || '{}') as Post).vid;
        if (vid) headers['set-cookie'] = `rt_vid=${vid}; Max-Age=${30 * 86_400}; Path=/; HttpOnly; SameSite=Lax`;
        res.writeHead(204, headers);
        res.end();
      } else if (pages.has(path)) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><html><head><link rel="icon" href="data:,"></head><body>${pages.get(path)}</body></html>`);
      } else {
        res.writeHead(404).end();
      }
    });
  }

  async function listen(): Promise<number> {
    const server = createServer(handle);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  beforeAll(async () => {
    const a = await listen();
    const b = await listen();
    pixelOrigin = `http://127.0.0.1:${a}`;
    otherSite = `http://localhost:${b}`;
    sameSite = `http://localhost:${a}`;
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  afterEach(async () => {
    const ours = [pixelOrigin, otherSite, sameSite].map((o) => `${o}/`);
    for (const { context, requests, errors } of sessions.splice(0)) {
      await context.close();
      expect(requests.filter((url) => !ours.some((o) => url.startsWith(o)) && !url.startsWith('data:'))).toEqual([]);
      expect(errors).toEqual([]);
    }
    expect(hits.filter((h) => h.method === 'OPTIONS')).toEqual([]);
    hits.length = 0;
    pages.clear();
  });

  const tag = (src = pixelOrigin, attrs = '') => `<script async src="${src}/p.js"${attrs}></script>`;

  async function open(url: string, opts: { init?: string; referer?: string; cookies?: { name: string; value: string; url: string }[] } = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    const session = { context, requests: [] as string[], errors: [] as string[] };
    sessions.push(session);
    context.on('request', (r) => session.requests.push(r.url()));
    if (opts.cookies) await context.addCookies(opts.cookies);
    if (opts.init) await context.addInitScript(opts.init);
    const page = await context.newPage();
    page.on('pageerror', (e) => session.errors.push(String(e)));
    await page.goto(url, opts.referer ? { referer: opts.referer } : {});
    return { context, page };
  }

  const collected = () => hits.filter((h) => h.method === 'POST' && h.path.endsWith('/api/v1/collect'));
  const posts = (): Post[] => collected().map((h) => JSON.parse(h.body) as Post);

  async function until<T>(find: () => T | undefined, what: string): Promise<T> {
    for (const stop = Date.now() + 5000; Date.now() < stop; await new Promise((r) => setTimeout(r, 20))) {
      const found = find();
      if (found !== undefined) return found;
    }
    throw new Error(`timed out waiting for ${what}; collected: ${JSON.stringify(posts())}`);
  }
  const post = (what: string, match: (p: Post) => boolean) => until(() => posts().find(match), what);

  it('same origin (the site\'s own prefix): posts the adopted id for the server\'s cookie, writes none from JavaScript, takes only rt_vid out of the address bar', async () => {
    pages.set('/adopt', tag());
    const landing = `${pixelOrigin}/adopt?utm_source=news&rt_vid=${VID}&b=x%20y&e#top`;
    const clean = `${pixelOrigin}/adopt?utm_source=news&b=x%20y&e#top`;
    const { context, page } = await open(landing, { referer: 'http://ref.example/', cookies: [{ name: 'rt_click', value: 'c1', url: pixelOrigin }] });

    expect(await post('the pageview', (p) => p.t === 'pageview')).toEqual({ t: 'pageview', url: clean, ref: 'http://ref.example/', vid: VID });
    expect(page.url()).toBe(clean);
    expect(collected()[0]).toMatchObject({ type: 'text/plain;charset=UTF-8', cookie: expect.stringContaining('rt_click=c1') });
    // The only rt_vid is the server's (HttpOnly, from collect's Set-Cookie): the script wrote none.
    await expect.poll(async () => (await context.cookies()).some((c) => c.name === 'rt_vid'), { timeout: 5000 }).toBe(true);
    expect(await page.evaluate('document.cookie')).toBe('rt_click=c1');
    expect((await context.cookies()).filter((c) => c.name === 'rt_vid')).toEqual([expect.objectContaining({ value: VID, httpOnly: true })]);

    expect(await page.evaluate(`[revtrail.identify('nope'), revtrail.identify('a b@c.co'), revtrail.identify(42), revtrail.identify('${'x'.repeat(250)}@b.co')]`)).toEqual([false, false, false, false]);
    expect(await page.evaluate(`revtrail.identify(' A@B.com ')`)).toBe(true);
    expect(await post('the identify', (p) => p.t === 'identify')).toEqual({ t: 'identify', email: 'A@B.com', url: clean, src: 'api', vid: VID });

    // The next page sends no id of its own: the server's cookie goes along and says who it is.
    await page.goto(`${pixelOrigin}/adopt?again=1`);
    expect(await post('the second pageview', (p) => p.url.endsWith('again=1'))).not.toHaveProperty('vid');
    expect(collected().at(-1)?.cookie).toContain(`rt_vid=${VID}`);
    expect(posts().filter((p) => p.t === 'identify')).toHaveLength(1);
    // replaceState, not pushState: going back never reaches the decorated URL
    await page.goBack();
    expect(page.url()).toBe(clean);
    await page.goBack();
    expect(page.url()).toBe('about:blank');
  });

  it('on another site: adopts rt_vid into a first-party cookie of that site for the window, the one cookie it writes', async () => {
    pages.set('/adopt-away', tag());
    const { context, page } = await open(`${sameSite}/adopt-away?rt_vid=${VID}&x=1`);
    expect(await post('the pageview', (p) => p.t === 'pageview')).toEqual({ t: 'pageview', url: `${sameSite}/adopt-away?x=1`, ref: '', vid: VID });
    expect(await page.evaluate('document.cookie')).toBe(`rt_vid=${VID}`);
    const cookie = (await context.cookies(sameSite)).find((c) => c.name === 'rt_vid');
    expect(cookie).toMatchObject({ value: VID, domain: 'localhost', path: '/', sameSite: 'Lax', httpOnly: false, secure: false });
    expect((cookie?.expires ?? 0) * 1000 - Date.now()).toBeGreaterThan(30 * 86_400_000 - 60_000);
    expect((cookie?.expires ?? 0) * 1000 - Date.now()).toBeLessThan(30 * 86_400_000 + 60_000);
    await page.goto(`${sameSite}/adopt-away?again=1`);
    expect(await post('the second pageview', (p) => p.url.endsWith('again=1'))).toMatchObject({ vid: VID });
  });

  it('on another site: replays calls queued by the documented stub and keeps the adopted id on that site', async () => {
    pages.set('/stub', `<script>${STUB}</script><script>revtrail.identify('early@example.com'); revtrail.q.push(['identify', 'pushed@example.com'])</script>${tag()}`);
    const { context, page } = await open(`${otherSite}/stub?rt_vid=${VID2}`);

    expect(await post('the pageview', (p) => p.t === 'pageview')).toEqual({ t: 'pageview', url: `${otherSite}/stub`, ref: '', vid: VID2 });
    for (const email of ['early@example.com', 'pushed@example.com']) {
      expect(await post(email, (p) => p.email === email)).toEqual({ t: 'identify', email, url: `${otherSite}/stub`, src: 'api', vid: VID2 });
    }
    await page.evaluate(`revtrail.q.push(['identify', 'late@example.com'])`);
    await post('an identify pushed after load', (p) => p.email === 'late@example.com');

    expect(collected().every((h) => h.origin === otherSite)).toBe(true);
    expect((await context.cookies(otherSite)).map((c) => `${c.name}=${c.value}`)).toEqual([`rt_vid=${VID2}`]);
    expect(await context.cookies(pixelOrigin)).toEqual([]);
  });

  it('ignores invalid rt_vid values, in the URL or in the cookie', async () => {
    pages.set('/invalid', tag());
    const { context, page } = await open('about:blank');
    const invalid = ['short', `${VID}x`, `${VID.slice(0, 21)}.`, `${VID.slice(0, 21)}%2B`, ''];
    for (const [i, value] of invalid.entries()) {
      await page.goto(`${pixelOrigin}/invalid?rt_vid=${value}&keep=${i}`);
      const url = `${pixelOrigin}/invalid?keep=${i}`;
      expect(await post(`the pageview for rt_vid=${value}`, (p) => p.url === url)).not.toHaveProperty('vid');
      expect(page.url()).toBe(url);
      expect(await context.cookies()).toEqual([]);
    }

    await context.addCookies([{ name: 'rt_vid', value: VID, url: pixelOrigin }]);
    await page.goto(`${pixelOrigin}/invalid?rt_vid=bad&kept=1`);
    expect(await post('the pageview keeping the stored id', (p) => p.url.endsWith('kept=1'))).toMatchObject({ vid: VID });

    await context.addCookies([{ name: 'rt_vid', value: `${VID}x`, url: pixelOrigin }]);
    await page.goto(`${pixelOrigin}/invalid?stored=bad`);
    expect(await post('the pageview with a bad stored id', (p) => p.url.endsWith('stored=bad'))).not.toHaveProperty('vid');
  });

  it('with data-auto-identify, identifies from the first filled email field on submit and lets the form submit', async () => {
    const form = '<form method="post" action="/thanks"><input name="name" value="Jane"><input type="email" name="a"><input name="Work_Email" id="w"><button>Send</button></form>';
    pages.set('/form', form + tag(pixelOrigin, ' data-auto-identify'));
    pages.set('/plain-form', form + tag());
    pages.set('/thanks', `thanks${tag()}`);

    const { page } = await open(`${pixelOrigin}/form`);
    await post('the pageview', (p) => p.t === 'pageview');
    await page.fill('#w', ' Form@Example.com ');
    await Promise.all([page.waitForURL(`${pixelOrigin}/thanks`), page.click('button')]);
    expect(await post('the form identify', (p) => p.t === 'identify')).toEqual({ t: 'identify', email: 'Form@Example.com', url: `${pixelOrigin}/form`, src: 'form' });
    expect(hits.find((h) => h.method === 'POST' && h.path === '/thanks')?.body).toBe('name=Jane&a=&Work_Email=+Form%40Example.com+');

    hits.length = 0;
    await page.goto(`${pixelOrigin}/plain-form`);
    await page.fill('#w', 'plain@example.com');
    await Promise.all([page.waitForURL(`${pixelOrigin}/thanks`), page.click('button')]);
    await post('the thanks pageview', (p) => p.url.endsWith('/thanks'));
    await new Promise((r) => setTimeout(r, 300));
    expect(posts().filter((p) => p.t === 'identify')).toEqual([]);
  });

  const GPC = 'Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true })';
  const quiet = async (ms = 300) => new Promise((r) => setTimeout(r, ms));

  it('opt-in: no cookie and nothing sent until consent; then the pageview waits no more; withdrawal forgets', async () => {
    pages.set('/optin-page', tag(`${pixelOrigin}/optin`));
    const { context, page } = await open(`${otherSite}/optin-page?rt_vid=${VID}&x=1`);
    await page.waitForFunction('window.revtrail && window.revtrail.loaded');
    await quiet();
    expect(posts()).toEqual([]);
    expect(await context.cookies()).toEqual([]);
    expect(page.url()).toBe(`${otherSite}/optin-page?x=1`); // the id leaves the address bar all the same
    expect(await page.evaluate(`revtrail('identify', 'early@example.com')`)).toBe(false);

    expect(await page.evaluate(`revtrail('consent', true)`)).toBeUndefined();
    expect(await post('the pageview', (p) => p.t === 'pageview')).toEqual({ t: 'pageview', url: `${otherSite}/optin-page?x=1`, ref: '', vid: VID, c: 1 });
    const cookies = await context.cookies(otherSite);
    expect(cookies.map((c) => `${c.name}=${c.value}`).sort()).toEqual(['rt_consent=1', `rt_vid=${VID}`]);
    // The cookie lives as long as the redirector's attribution window (7 days here), not a fixed 30.
    for (const c of cookies) expect(Math.abs(c.expires * 1000 - Date.now() - 7 * 86_400_000)).toBeLessThan(60_000);
    expect(await page.evaluate(`revtrail('identify', 'ann@example.com')`)).toBe(true);
    expect(await post('the identify', (p) => p.t === 'identify')).toEqual({ t: 'identify', email: 'ann@example.com', url: `${otherSite}/optin-page?x=1`, src: 'api', vid: VID, c: 1 });

    await page.evaluate(`revtrail('consent', false)`);
    expect(await post('the withdrawal', (p) => p.t === 'forget')).toEqual({ t: 'forget' });
    expect((await context.cookies(otherSite)).map((c) => `${c.name}=${c.value}`)).toEqual(['rt_consent=0']);
    expect(await page.evaluate(`revtrail('identify', 'ann@example.com')`)).toBe(false);
    const before = posts().length;
    await page.reload();
    await page.waitForFunction('window.revtrail && window.revtrail.loaded');
    await quiet();
    expect(posts()).toHaveLength(before);
  });

  it('opt-in through the documented stub: consent and identify queued before the pixel loads', async () => {
    pages.set('/optin-stub', `<script>${STUB}</script><script>revtrail('consent', true); revtrail.identify('q@example.com')</script>${tag(`${pixelOrigin}/optin`)}`);
    await open(`${otherSite}/optin-stub`);
    expect(await post('the pageview', (p) => p.t === 'pageview')).toEqual({ t: 'pageview', url: `${otherSite}/optin-stub`, ref: '', c: 1 });
    expect(await post('the identify', (p) => p.t === 'identify')).toMatchObject({ email: 'q@example.com', c: 1 });
  });

  it('opt-out: sends until consent is refused, which is remembered', async () => {
    pages.set('/optout-page', tag(`${pixelOrigin}/optout`));
    const { page } = await open(`${otherSite}/optout-page`);
    expect(await post('the pageview', (p) => p.t === 'pageview')).toEqual({ t: 'pageview', url: `${otherSite}/optout-page`, ref: '' });
    await page.evaluate(`revtrail.q.push(['consent', false])`);
    await post('the withdrawal', (p) => p.t === 'forget');
    await page.reload();
    await page.waitForFunction('window.revtrail && window.revtrail.loaded');
    await quiet();
    expect(posts().filter((p) => p.t === 'pageview')).toHaveLength(1);
  });

  it('Global Privacy Control: nothing sent, no cookie, whatever the page calls; unless the deployment turns it off', async () => {
    for (const path of ['', '/optin']) {
      pages.set(`/gpc${path.replace('/', '-')}`, tag(`${pixelOrigin}${path}`, ' data-auto-identify'));
      const { context, page } = await open(`${otherSite}/gpc${path.replace('/', '-')}?rt_vid=${VID}`, { init: GPC });
      await page.waitForFunction('window.revtrail && window.revtrail.loaded');
      await page.evaluate(`revtrail('consent', true)`);
      expect(await page.evaluate(`revtrail.identify('gpc@example.com')`)).toBe(false);
      await quiet();
      expect(posts()).toEqual([]);
      expect((await context.cookies()).filter((c) => c.name === 'rt_vid')).toEqual([]);
    }
    pages.set('/gpc-ignored', tag(`${pixelOrigin}/nogpc`));
    await open(`${otherSite}/gpc-ignored`, { init: GPC });
    await post('the pageview', (p) => p.t === 'pageview');
  });

  const FBP = 'fb.1.1596403881668.1116446470';
  const FBCLID = 'IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk';

  it('Meta: passes the site\'s _fbc and _fbp with the pageview as they are, and sets no _fbc where the deployment has Meta off', async () => {
    pages.set('/fb-off', tag());
    const fbc = 'fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890';
    const { context } = await open(`${otherSite}/fb-off?fbclid=${FBCLID}`, { cookies: [{ name: '_fbc', value: fbc, url: otherSite }, { name: '_fbp', value: FBP, url: otherSite }] });
    expect(await post('the pageview', (p) => p.t === 'pageview')).toEqual({ t: 'pageview', url: `${otherSite}/fb-off?fbclid=${FBCLID}`, ref: '', fbc, fbp: FBP });
    expect((await context.cookies(otherSite)).find((c) => c.name === '_fbc')?.value).toBe(fbc);

    pages.set('/fb-none', tag());
    const fresh = await open(`${otherSite}/fb-none?fbclid=${FBCLID}`);
    expect(await post('the pageview without Meta cookies', (p) => p.url.includes('/fb-none'))).not.toHaveProperty('fbc');
    expect((await fresh.context.cookies()).filter((c) => c.name.startsWith('_fb'))).toEqual([]);
  });

  it('Meta on: an fbclid in the landing URL sets _fbc as fb.<subdomain index>.<ms>.<fbclid>, kept for the same click, replaced by a new one', async () => {
    pages.set('/fb-on', tag(`${pixelOrigin}/meta`));
    const before = Date.now();
    const { context, page } = await open(`${otherSite}/fb-on?fbclid=${FBCLID}`, { cookies: [{ name: '_fbp', value: FBP, url: otherSite }] });
    const first = await post('the pageview', (p) => p.t === 'pageview');
    // localhost has no dot: index 0, as Meta counts ('com' = 0, 'example.com' = 1).
    expect(first.fbc).toMatch(new RegExp(`^fb\\.0\\.(\\d{13})\\.${FBCLID}$`));
    const ms = Number(first.fbc!.split('.')[2]);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
    expect(first.fbp).toBe(FBP);
    const cookie = (await context.cookies(otherSite)).find((c) => c.name === '_fbc');
    expect(cookie).toMatchObject({ value: first.fbc, path: '/', sameSite: 'Lax' });
    expect(Math.abs(cookie!.expires * 1000 - Date.now() - 30 * 86_400_000)).toBeLessThan(60_000);

    await page.goto(`${otherSite}/fb-on?fbclid=${FBCLID}&again=1`);
    expect((await post('the same click again', (p) => p.url.includes('again=1'))).fbc).toBe(first.fbc);
    await page.goto(`${otherSite}/fb-on?fbclid=NewClick_123&later=1`);
    expect((await post('a later ad click', (p) => p.url.includes('later=1'))).fbc).toMatch(/^fb\.0\.\d{13}\.NewClick_123$/);
    await page.goto(`${pixelOrigin}/fb-on?fbclid=Other&dots=1`);
    // 127.0.0.1: three dots, index 3.
    expect((await post('on a dotted host', (p) => p.url.includes('dots=1'))).fbc).toMatch(/^fb\.3\.\d{13}\.Other$/);
    // Not a click id Meta's format can carry: no cookie made of it.
    await page.goto(`${pixelOrigin}/fb-on?fbclid=a.b&bad=1`);
    expect((await post('a bad fbclid', (p) => p.url.includes('bad=1'))).fbc).toMatch(/\.Other$/);
  });

  it('Meta on, opt-in: no _fbc cookie before consent, like every other cookie', async () => {
    pages.set('/fb-optin', tag(`${pixelOrigin}/metaoptin`));
    const { context, page } = await open(`${otherSite}/fb-optin?fbclid=${FBCLID}`);
    await page.waitForFunction('window.revtrail && window.revtrail.loaded');
    await quiet();
    expect(await context.cookies()).toEqual([]);
    await page.evaluate(`revtrail('consent', true)`);
    expect((await post('the pageview', (p) => p.t === 'pageview')).fbc).toMatch(new RegExp(`^fb\\.0\\.\\d{13}\\.${FBCLID}$`));
  });

  it('finds its own tag without document.currentScript: the last script whose src is .../p.js', async () => {
    pages.set('/no-current', `<script type="text/x-decoy" src="${otherSite}/p.js"></script><script async src="${pixelOrigin}/sub/p.js?v=2"></script>`);
    await open(`${otherSite}/no-current`, { init: 'Object.defineProperty(Document.prototype, "currentScript", { get: () => null })' });
    await post('the pageview', (p) => p.t === 'pageview');
    expect(collected()[0]).toMatchObject({ host: new URL(pixelOrigin).host, path: '/sub/api/v1/collect' });
  });

  it('falls back to a keepalive fetch with the tracking domain cookies, and never throws when both transports fail', async () => {
    pages.set('/fallback', tag(sameSite));
    const refuse = 'Object.defineProperty(Navigator.prototype, "sendBeacon", { value: () => false })';
    await open(`${otherSite}/fallback?rt_vid=${VID}`, { init: refuse, cookies: [{ name: 'rt_click', value: 'c2', url: sameSite }] });
    expect(await post('the pageview by fetch', (p) => p.t === 'pageview')).toMatchObject({ url: `${otherSite}/fallback`, vid: VID });
    expect(collected()[0]).toMatchObject({ host: new URL(sameSite).host, origin: otherSite, type: 'text/plain', cookie: expect.stringContaining('rt_click=c2') });

    const broken = 'Navigator.prototype.sendBeacon = () => { throw new Error("beacon") }; window.fetch = () => { throw new Error("fetch") };';
    const { page } = await open(`${otherSite}/fallback?broken=1`, { init: broken });
    await page.waitForFunction('window.revtrail && window.revtrail.loaded');
    expect(await page.evaluate(`revtrail.identify('a@b.co')`)).toBe(true);
  });
});
