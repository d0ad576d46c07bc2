import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRedirector, type LocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import type pino from 'pino';
import { createCore, type Core } from '../core';
import type { SecretStore } from '../secrets/types';
import { readBase, type CheckItemName } from './setting';

// sameOrigin.check against a real local redirector behind the Node recipe of redirector/docs/same-origin/, served
// over plain http on 127.0.0.1 (loopback is the one place http is accepted), and behind broken variants of it.
type Handler = (req: IncomingMessage, res: ServerResponse) => boolean;
type ProxyOptions = { target: string; secret: string; prefix?: string; clientIp?: (req: IncomingMessage) => string | undefined };
const SECRET = 'desktop-same-origin-secret-0123456789abcdef';
const TOKEN = 'desktop-same-origin-token-0123456789abcdefg';
const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

let dir: string;
let r: LocalRedirector;
let core: Core;
const servers: Server[] = [];
let revtrailProxy: (o: ProxyOptions) => Handler;

/** A site on 127.0.0.1: `handler` takes what it wants, the rest is the site's own 404 page. */
async function site(handler: Handler | null, transform?: (req: IncomingMessage) => void): Promise<string> {
  const server = createServer((req, res) => {
    transform?.(req);
    if (handler?.(req, res)) return;
    res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** Forwards what is under `prefix` to `target` as it came, adding nothing: a rule without the recipe's headers. */
function passThrough(target: string, prefix: string): Handler {
  const to = new URL(target);
  return (req, res) => {
    if (!req.url?.startsWith(prefix)) return false;
    const out = request({ hostname: to.hostname, port: to.port, path: `/${req.url.slice(prefix.length)}`, method: req.method, headers: { ...req.headers, host: to.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(out);
    return true;
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-same-origin-'));
  r = await startLocalRedirector({
    dataDir: join(dir, 'redirector'),
    port: 0,
    log: silentLogger as pino.Logger,
    settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_PROXY_SECRET: SECRET },
  });
  ({ revtrailProxy } = (await import(new URL('../../../../redirector/docs/same-origin/node-proxy.mjs', import.meta.url).href)) as { revtrailProxy: (o: ProxyOptions) => Handler });
  const saved = new Map<string, string>();
  const secrets: SecretStore = { description: 'memory (test)', get: async (n) => saved.get(n) ?? null, set: async (n, v) => void saved.set(n, v), delete: async (n) => void saved.delete(n) };
  core = createCore({ dataDir: join(dir, 'home'), clock: { now: () => Date.parse('2026-05-01T12:00:00Z') }, log, secrets, surface: 'app' });
  const ws = await core.call('workspaces.add', { name: 'Shop' });
  if (!ws.ok) throw new Error(ws.error.message);
  const connected = await core.call('redirector.connect', { workspace: 'Shop', url: r.url, token: TOKEN });
  if (!connected.ok) throw new Error(connected.error.message);
}, 60_000);

afterAll(async () => {
  core?.close();
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  await r?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function check(siteUrl: string, prefix?: string) {
  const set = await core.call('sameOrigin.set', { workspace: 'Shop', site: siteUrl, ...(prefix ? { prefix } : {}) });
  if (!set.ok) throw new Error(set.error.message);
  const r = await core.call('sameOrigin.check', { workspace: 'Shop' });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}
const failed = (c: { items: { name: CheckItemName; ok: boolean }[] }) => c.items.filter((i) => !i.ok).map((i) => i.name);

describe('sameOrigin.check', () => {
  it('through the recipe: every item passes, and the result is kept with the workspace', async () => {
    const url = await site(revtrailProxy({ target: r.url, secret: SECRET }));
    const result = await check(url);
    expect(result.items.map((i) => [i.name, i.ok])).toEqual([
      ['reached', true],
      ['proof', true],
      ['host', true],
      ['scheme', true],
      ['address', true],
      ['query', true],
      ['cookie', true],
      ['set-cookie', true],
      ['pixel', true],
    ]);
    expect(result).toMatchObject({ ok: true, base: `${url}/_rt/` });
    const ws = (await core.call('workspaces.list', {})) as { ok: true; value: { sameOrigin?: unknown }[] };
    expect(ws.value[0]!.sameOrigin).toEqual({ base: `${url}/_rt/`, lastCheck: result });
  });

  it('another prefix', async () => {
    const url = await site(revtrailProxy({ target: r.url, secret: SECRET, prefix: '/go/' }));
    expect(await check(url, 'go')).toMatchObject({ ok: true, base: `${url}/go/` });
  });

  it('says which part is missing: no forwarding, no or a wrong secret, no visitor address, no cookies, no Set-Cookie back', async () => {
    const notForwarded = await check(await site(null));
    expect(failed(notForwarded)).toEqual(['reached']);
    expect(notForwarded.items[0]!.message).toMatch(/answered with a page of its own, not Revtrail's/);

    const wrong = await check(await site(revtrailProxy({ target: r.url, secret: SECRET.replace(/.$/, 'x') })));
    expect(failed(wrong)).toEqual(['proof']);
    expect(wrong.items.find((i) => i.name === 'proof')?.message).toBe("The proxy secret the site sends is not the redirector's: set the same value on both.");

    const noAddress = await check(await site(revtrailProxy({ target: r.url, secret: SECRET, clientIp: () => undefined })));
    expect(failed(noAddress)).toEqual(['address']);

    const noCookies = await check(await site(revtrailProxy({ target: r.url, secret: SECRET }), (req) => delete req.headers.cookie));
    expect(failed(noCookies)).toEqual(['cookie']);

    const proxy = revtrailProxy({ target: r.url, secret: SECRET });
    const noSetCookie = await check(
      await site((req, res) => {
        const writeHead = res.writeHead.bind(res) as (status: number, headers: Record<string, unknown>) => ServerResponse;
        (res as unknown as { writeHead: typeof writeHead }).writeHead = (status, { 'set-cookie': _dropped, ...headers }) => writeHead(status, headers);
        return proxy(req, res);
      }),
    );
    expect(failed(noSetCookie)).toEqual(['set-cookie']);
  });

  it('a site that forwards the prefix without the recipe\'s headers: no proof', async () => {
    const plain = await check(await site(passThrough(r.url, '/_rt/')));
    expect(plain.items.find((i) => i.name === 'proof')).toMatchObject({ ok: false, message: expect.stringMatching(/sends no proxy secret/) });
  });

  it('a site that forwards to another redirector: the pixel is not this workspace\'s', async () => {
    // Another redirector, played by a pass-through to this one that serves a pixel of its own.
    const forward = passThrough(r.url, '/');
    const other = await site((req, res) => (req.url === '/p.js' ? res.writeHead(200, { 'content-type': 'application/javascript', etag: '"other"' }).end('//') !== undefined : forward(req, res)));
    const result = await check(await site(revtrailProxy({ target: other, secret: SECRET })));
    expect(failed(result)).toEqual(['pixel']);
    expect(result.items.find((i) => i.name === 'pixel')?.message).toMatch(/not the one this workspace's redirector serves/);
  });

  it('nothing answering at the address', async () => {
    const url = await site(null);
    const server = servers.pop()!;
    await new Promise((ok) => server.close(ok));
    const gone = await check(url);
    expect(failed(gone)).toEqual(['reached']);
    expect(gone.items[0]!.message).toMatch(/^Nothing answered at 127\.0\.0\.1:\d+\/_rt\/ \(/);
  });

  it('is refused before it is set up, and set with a site\'s address only', async () => {
    const off = await core.call('sameOrigin.set', { workspace: 'Shop', site: null });
    expect(off.ok && off.value.sameOrigin).toBeNull();
    const refused = await core.call('sameOrigin.check', { workspace: 'Shop' });
    expect(!refused.ok && refused.error.message).toMatch(/not set up/);
    expect(readBase('https://brand.com', undefined)).toEqual({ ok: true, base: 'https://brand.com/_rt/' });
    expect(readBase('https://Brand.com/', ' go ')).toEqual({ ok: true, base: 'https://brand.com/go/' });
    expect(readBase('https://brand.com', '/a/b/')).toEqual({ ok: true, base: 'https://brand.com/a/b/' });
    for (const [siteUrl, prefix, why] of [
      ['http://brand.com', undefined, /https:\/\//],
      ['https://brand.com/shop', undefined, /without a path/],
      ['https://user:pw@brand.com', undefined, /without a path, query or user name/],
      ['brand.com', undefined, /Give your site's address/],
      ['https://brand.com', 'a b', /path segments/],
      ['https://brand.com', '/../', /path segments/],
    ] as const) {
      const r = readBase(siteUrl, prefix);
      expect(r.ok ? '' : r.message).toMatch(why);
    }
  });
});
