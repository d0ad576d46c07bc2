/**
 * Same-origin mode behind real reverse proxies on this machine (docs/same-origin.md): Debian's nginx with the
 * recipe of docs/same-origin/nginx.conf as written (only the tracking address and the secret file's path put in),
 * the Node recipe (node-proxy.mjs), and the Cloudflare Worker and Netlify recipes run under Node's fetch. The shop
 * is https://www.shop.test:<port> (Chromium maps the name to 127.0.0.1), its cookie domain shop.test.
 * Shown for each: links, the pixel and collect work through the prefix; the visitor cookie is set by the shop's
 * host, HttpOnly, Secure, Domain=shop.test, Max-Age = the window; query and cookies reach the redirector; the
 * visitor's address is the one the proxy saw; forged forwarded headers count for nothing without the secret.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import type { Click, Identity, Pageview } from '@revtrail/shared';
import type pino from 'pino';
import { startLocalRedirector, type LocalRedirector } from '../src/local';
import { silentLogger } from '../src/log';
import type { ProxyCheck } from '../src/routes/same-origin';
import { chromiumMissing, chromiumPath } from './chromium';
import { findNginx, freePort, NGINX_INSTALL, recipe, RECIPES, selfSignedCert, send, serveFetch, startNginx, type Answer, type FetchHandler, type Nginx } from './reverse-proxy';
import { CHROME_UA } from './support';

const nginx = findNginx();
// CI installs nginx (.ci/run): there, a missing one is a failure, not a skip.
if (!nginx && process.env.CI) throw new Error(`nginx is not installed; CI must install it (${NGINX_INSTALL})`);
const noBrowser = chromiumMissing();

const SECRET = 'nginx-test-proxy-secret-0123456789abcdefgh';
const TOKEN = 'nginx-test-sync-token-0123456789abcdefghij';
const HOST = 'www.shop.test';
const WINDOW_S = 30 * 86_400;
/** The address a "visitor" connects from in the fetch-level checks: not the proxy's own 127.0.0.1. */
const VISITOR_IP = '127.0.0.2';
const FORGED = {
  'x-revtrail-proxy-proof': 'forged-by-the-visitor',
  'x-revtrail-client-ip': '198.51.100.1',
  'x-revtrail-host': 'evil.example',
  'x-revtrail-proto': 'http',
  'x-revtrail-country': 'FR',
  'x-forwarded-for': '198.51.100.1',
  'x-forwarded-host': 'evil.example',
  'cloudfront-viewer-country': 'FR',
};

const SHOP_PAGES: Record<string, string> = {
  '/pricing':
    '<!doctype html><title>Pricing</title><link rel="icon" href="data:,"><h1>Pricing</h1>' +
    '<form action="/thanks" method="get"><input type="email" name="email"><button>Buy</button></form>' +
    '<script async src="/_rt/p.js" data-auto-identify></script>',
  '/thanks': '<!doctype html><title>Thanks</title><link rel="icon" href="data:,"><h1>Thanks</h1><script async src="/_rt/p.js"></script>',
};

interface Shop {
  origin: string;
  stop(): Promise<void>;
}

describe.skipIf(!nginx)(`same-origin mode behind nginx and the other recipes${nginx ? '' : ` (skipped: nginx is not installed; ${NGINX_INSTALL})`}`, () => {
  let dir: string;
  let tls: { cert: string; key: string };
  let r: LocalRedirector;
  let proxy: Nginx;
  const shops = new Map<string, Shop>();
  const servers: Server[] = [];

  const feed = async <T>(kind: string): Promise<T[]> =>
    ((await (await fetch(`${r.url}/api/v1/${kind}?limit=1000`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { items: T[] }).items;
  const putLink = async (slug: string, destination: string) => {
    const res = await fetch(`${r.url}/api/v1/links/${slug}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ destination, channel: 'Newsletter', utm: { utm_source: 'newsletter' } }),
    });
    expect(res.status).toBe(201);
  };
  /** The clicks of a link once the journal has `count` of them in the store. */
  const clicksOf = async (slug: string, count: number): Promise<Click[]> => {
    await expect.poll(async () => (await feed<Click>('clicks')).filter((c) => c.slug === slug).length, { timeout: 10_000 }).toBe(count);
    return (await feed<Click>('clicks')).filter((c) => c.slug === slug);
  };

  async function listenTls(server: Server): Promise<string> {
    servers.push(server);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    return `https://${HOST}:${(server.address() as { port: number }).port}`;
  }
  const staticPage = (url: string): Response | null => {
    const page = SHOP_PAGES[new URL(url, 'https://x').pathname];
    return page ? new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8' } }) : null;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-nginx-'));
    tls = selfSignedCert(dir, [HOST]);
    r = await startLocalRedirector({
      dataDir: join(dir, 'redirector'),
      port: 0,
      log: silentLogger as pino.Logger,
      settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_PROXY_SECRET: SECRET, REVTRAIL_COOKIE_DOMAIN: 'shop.test', REVTRAIL_FEED_SETTLE_MS: '0' },
    });

    // nginx: the shop's pages, and the recipe as written but for the two things every site fills in.
    const site = join(dir, 'site');
    mkdirSync(site);
    for (const [path, html] of Object.entries(SHOP_PAGES)) writeFileSync(join(site, `${path.slice(1)}.html`), html);
    const text = recipe('nginx.conf');
    expect(text).toContain('proxy_pass https://go.brand.com/;');
    expect(text).toContain('include /etc/nginx/revtrail-proxy-secret.conf;');
    const withSecret = (secretFile: string) =>
      text.replace('proxy_pass https://go.brand.com/;', `proxy_pass ${r.url}/;`).replace('/etc/nginx/revtrail-proxy-secret.conf', secretFile);
    const secretFile = (name: string, value: string) => {
      const path = join(dir, name);
      writeFileSync(path, `proxy_set_header X-Revtrail-Proxy-Proof "${value}";\n`, { mode: 0o600 });
      return path;
    };
    const [good, wrong] = [await freePort(), await freePort()];
    const server = (port: number, secret: string) => `
  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${HOST};
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    root ${site};
    location / { try_files $uri.html =404; }
    ${withSecret(secret)}
  }`;
    proxy = await startNginx(nginx!, dir, server(good, secretFile('secret.conf', SECRET)) + server(wrong, secretFile('wrong.conf', SECRET.replace(/.$/, 'x'))), [good, wrong]);
    shops.set('nginx', { origin: `https://${HOST}:${good}`, stop: () => proxy.stop() });
    shops.set('nginx, wrong secret', { origin: `https://${HOST}:${wrong}`, stop: async () => undefined });

    // The Node recipe in a node:https server that otherwise serves the shop.
    const { revtrailProxy } = (await import(pathToFileURL(join(RECIPES, 'node-proxy.mjs')).href)) as {
      revtrailProxy(o: { target: string; secret: string }): (req: IncomingMessage, res: ServerResponse) => boolean;
    };
    const revtrail = revtrailProxy({ target: r.url, secret: SECRET });
    const nodeShop = createServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
      if (revtrail(req, res)) return;
      const page = SHOP_PAGES[new URL(req.url ?? '/', 'https://x').pathname];
      res.writeHead(page ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' }).end(page ?? '');
    });
    shops.set('node', { origin: await listenTls(nodeShop), stop: async () => undefined });

    // The Cloudflare Worker and Netlify recipes, their tracking address put in; each platform's own inputs
    // (CF-Connecting-IP, context.ip, Netlify.env) as the platform documents them.
    const load = async (name: string) => {
      const path = join(dir, name);
      writeFileSync(path, recipe(name).replace("const TARGET = 'https://go.brand.com';", `const TARGET = '${r.url}';`));
      return import(pathToFileURL(path).href);
    };
    const worker = ((await load('cloudflare-worker.js')) as { default: { fetch(req: Request, env: Record<string, string>): Promise<Response> } }).default;
    const workerShop: FetchHandler = async (request, socket) => {
      if (!new URL(request.url).pathname.startsWith('/_rt/')) return staticPage(request.url) ?? new Response('', { status: 404 });
      request.headers.set('cf-connecting-ip', socket.remoteAddress); // Cloudflare sets it, replacing any the visitor sent
      return worker.fetch(request, { REVTRAIL_PROXY_SECRET: SECRET });
    };
    shops.set('cloudflare worker', { origin: await listenTls(serveFetch(tls, workerShop)), stop: async () => undefined });

    (globalThis as { Netlify?: unknown }).Netlify = { env: { get: (name: string) => (name === 'REVTRAIL_PROXY_SECRET' ? SECRET : undefined) } };
    const netlify = (await load('netlify-edge-function.ts')) as { default: (req: Request, ctx: { ip: string; geo: object }) => Promise<Response>; config: { path: string } };
    expect(netlify.config).toEqual({ path: '/_rt/*' });
    const netlifyShop: FetchHandler = async (request, socket) =>
      new URL(request.url).pathname.startsWith('/_rt/') ? netlify.default(request, { ip: socket.remoteAddress, geo: {} }) : (staticPage(request.url) ?? new Response('', { status: 404 }));
    shops.set('netlify edge function', { origin: await listenTls(serveFetch(tls, netlifyShop)), stop: async () => undefined });
  }, 60_000);

  afterAll(async () => {
    delete (globalThis as { Netlify?: unknown }).Netlify;
    for (const shop of shops.values()) await shop.stop();
    await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
    await r?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const RECIPE_NAMES = ['nginx', 'node', 'cloudflare worker', 'netlify edge function'];

  describe.each(RECIPE_NAMES)('%s', (name) => {
    const shop = () => shops.get(name)!;

    it('passes the proof, the shop\'s host and scheme, the visitor address, the query and cookies, and Set-Cookie back; replaces forged headers', async () => {
      const check = await send(`${shop().origin}/_rt/proxy-check?rt_probe=n0nce-${name.length}`, {
        localAddress: VISITOR_IP,
        headers: { ...FORGED, cookie: `rt_probe=n0nce-${name.length}; other=1` },
      });
      expect(check.status).toBe(200);
      expect(JSON.parse(check.body) as ProxyCheck).toEqual({
        revtrail: 'proxy-check',
        proof: 'valid',
        clientAddress: 'forwarded',
        host: new URL(shop().origin).host,
        protocol: 'https',
        query: `n0nce-${name.length}`,
        cookie: `n0nce-${name.length}`,
        cookieMaxAgeSeconds: WINDOW_S,
      });
      expect(check.headers['x-revtrail-proxy-check']).toBe('valid');
      expect(setCookie(check, 'rt_probe')).toBe('rt_probe=; Max-Age=0; Domain=shop.test; Path=/; HttpOnly; Secure; SameSite=Lax');
    });

    it('a link through the prefix: 302 to the destination, the shop\'s cookie for the window, the click as the proxy saw the visitor', async () => {
      const slug = `forged-${name.replace(/\W/g, '-')}`;
      await putLink(slug, `${shop().origin}/pricing`);
      const res = await send(`${shop().origin}/_rt/${slug}?gclid=G1`, { localAddress: VISITOR_IP, headers: { ...FORGED, 'user-agent': CHROME_UA } });
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(`${shop().origin}/pricing?gclid=G1&utm_source=newsletter`);
      expect(setCookie(res, 'rt_vid')).toMatch(new RegExp(`^rt_vid=[\\w-]{22}; Max-Age=${WINDOW_S}; Domain=shop\\.test; Path=/; HttpOnly; Secure; SameSite=Lax$`));

      // The same visitor straight at the redirector, as the shop's host: the IP hash shows the proxied click was
      // hashed with the address the proxy saw (127.0.0.2), not the proxy's own or the forged one.
      await send(`${r.url}/${slug}`, { localAddress: VISITOR_IP, host: HOST, headers: { 'user-agent': CHROME_UA } });
      const clicks = await clicksOf(slug, 2);
      const proxied = clicks.find((c) => c.clickIds.gclid === 'G1')!;
      const direct = clicks.find((c) => c !== proxied)!;
      expect(proxied).toMatchObject({ country: null, bot: false });
      expect(proxied.ipHash).toBe(direct.ipHash);
    });
  });

  it('nginx with a wrong secret: the redirector believes none of it', async () => {
    const shop = shops.get('nginx, wrong secret')!;
    const check = JSON.parse((await send(`${shop.origin}/_rt/proxy-check`, { localAddress: VISITOR_IP })).body) as ProxyCheck;
    expect(check).toMatchObject({ proof: 'invalid', clientAddress: null, protocol: 'http' });
    expect(check.host).toBe(new URL(r.url).host); // nginx's Host to its upstream, not the shop's
    await putLink('wrong-secret', `${shop.origin}/pricing`);
    const res = await send(`${shop.origin}/_rt/wrong-secret`, { localAddress: VISITOR_IP, headers: { 'user-agent': CHROME_UA } });
    const cookie = setCookie(res, 'rt_vid')!;
    expect(cookie).not.toContain('Domain=');
    expect(cookie).not.toContain('Secure');
  });

  it('straight at the redirector, forged forwarded headers count for nothing without the secret', async () => {
    await putLink('straight', `https://${HOST}/pricing`);
    const check = JSON.parse((await send(`${r.url}/proxy-check`, { localAddress: VISITOR_IP, headers: FORGED })).body) as ProxyCheck;
    expect(check).toMatchObject({ proof: 'invalid', clientAddress: null, host: new URL(r.url).host, protocol: 'http' });
    const res = await send(`${r.url}/straight?gclid=forged`, { localAddress: VISITOR_IP, headers: { ...FORGED, 'user-agent': CHROME_UA } });
    const cookie = setCookie(res, 'rt_vid')!;
    expect(cookie).not.toContain('Domain=');
    expect(cookie).not.toContain('Secure');
    // Hashed with the socket's address and the redirector's own host, like a plain request.
    await send(`${r.url}/straight`, { localAddress: VISITOR_IP, headers: { 'user-agent': CHROME_UA } });
    const clicks = await clicksOf('straight', 2);
    const forged = clicks.find((c) => c.clickIds.gclid === 'forged')!;
    const plain = clicks.find((c) => c !== forged)!;
    expect(forged.country).toBeNull();
    expect(forged.ipHash).toBe(plain.ipHash);
  });

  describe.skipIf(noBrowser !== '')(`in Chromium${noBrowser ? ` (skipped: ${noBrowser})` : ''}`, () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: chromiumPath(),
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
      });
    }, 60_000);
    afterAll(async () => browser?.close());

    it.each(['nginx', 'node'])('through %s: link, pixel and collect on the shop\'s own host, the cookie set there for the whole window', async (name) => {
      const shop = shops.get(name)!;
      const slug = `journey-${name}`;
      await putLink(slug, `${shop.origin}/pricing`);
      const context = await browser.newContext({ userAgent: CHROME_UA, ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const answers: { url: string; status: number; setCookie: string }[] = [];
      const hosts = new Set<string>();
      page.on('request', (req) => hosts.add(new URL(req.url()).host));
      page.on('response', async (res) => answers.push({ url: res.url(), status: res.status(), setCookie: (await res.allHeaders())['set-cookie'] ?? '' }));

      await page.goto(`${shop.origin}/_rt/${slug}?fbclid=F1`);
      await page.waitForURL(/\/pricing/);
      expect(page.url()).toBe(`${shop.origin}/pricing?fbclid=F1&utm_source=newsletter`); // no rt_vid: the cookie is on this host
      await expect.poll(async () => (await feed<Pageview>('pageviews')).filter((p) => p.url.startsWith(shop.origin)).length, { timeout: 10_000 }).toBe(1);

      const [cookie, ...others] = (await context.cookies(shop.origin)).filter((c) => c.name === 'rt_vid');
      expect(others).toEqual([]);
      expect(cookie).toMatchObject({ domain: '.shop.test', path: '/', httpOnly: true, secure: true, sameSite: 'Lax' });
      expect(Math.abs(cookie!.expires * 1000 - Date.now() - WINDOW_S * 1000)).toBeLessThan(60_000);
      // The pixel wrote no cookie of its own: the only rt_vid is the server's, invisible to scripts.
      expect(await page.evaluate('document.cookie')).not.toContain('rt_vid');

      // Every request went to the shop's host; the redirect and the collect answer both set the cookie there.
      expect([...hosts]).toEqual([new URL(shop.origin).host]);
      const full = `Max-Age=${WINDOW_S}; Domain=shop.test; Path=/; HttpOnly; Secure; SameSite=Lax`;
      await expect.poll(() => answers.some((a) => a.url.endsWith('/_rt/api/v1/collect')), { timeout: 5000 }).toBe(true);
      expect(answers.find((a) => a.url.includes(`/_rt/${slug}`))).toMatchObject({ status: 302, setCookie: `rt_vid=${cookie!.value}; ${full}` });
      expect(answers.find((a) => a.url.endsWith('/_rt/p.js'))).toMatchObject({ status: 200 });
      expect(answers.find((a) => a.url.endsWith('/_rt/api/v1/collect'))).toMatchObject({ status: 204, setCookie: `rt_vid=${cookie!.value}; ${full}` });

      await page.fill('input[type=email]', ` buyer-${name}@example.com `);
      await Promise.all([page.waitForURL(/\/thanks/), page.click('button')]);
      await expect.poll(async () => (await feed<Identity>('identities')).length, { timeout: 10_000 }).toBeGreaterThan(RECIPE_INDEX[name]!);

      const [click] = await clicksOf(slug, 1);
      const pageview = (await feed<Pageview>('pageviews')).find((p) => p.url.startsWith(`${shop.origin}/pricing`))!;
      const identity = (await feed<Identity>('identities'))[RECIPE_INDEX[name]!]!;
      expect(click).toMatchObject({ visitorId: cookie!.value, clickIds: { fbclid: 'F1' }, bot: false });
      expect(pageview).toMatchObject({ visitorId: cookie!.value, url: `${shop.origin}/pricing?fbclid=F1&utm_source=newsletter` });
      expect(identity).toMatchObject({ visitorId: cookie!.value, source: 'form' });
      await context.close();
    }, 60_000);
  });
});

/** Which identity each browser journey adds, in the order they run. */
const RECIPE_INDEX: Record<string, number> = { nginx: 0, node: 1 };

function setCookie(answer: Answer, name: string): string | null {
  const all = answer.headers['set-cookie'];
  return (Array.isArray(all) ? all : all ? [all] : []).find((c) => c.startsWith(`${name}=`)) ?? null;
}
