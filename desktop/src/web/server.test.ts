import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from '@revtrail/shared';
import { createCore, type Core } from '../core/core';
import { EncryptedFileSecretStore } from '../core/secrets/encrypted-file';
import { httpTransport } from '../renderer/rpc';
import { RPC_BODY_LIMIT, startWebServer, type WebServer } from './server';

const TOKEN = 'web-test-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Raw HTTP so the Host header and body are exactly what a test says (fetch would fix them up). A body in
 * `chunks` goes out with chunked transfer encoding, so the server cannot know its size in advance.
 */
function http(port: number, path: string, init: { method?: string; headers?: Record<string, string>; body?: string; chunks?: string[] } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: { host: `127.0.0.1:${port}`, ...init.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', fail);
    for (const c of init.chunks ?? []) req.write(c);
    req.end(init.body);
  });
}

describe('web server (browser mode)', () => {
  let dir: string;
  let core: Core;
  let web: WebServer;
  const rpc = (method: string, body: string, headers: Record<string, string> = {}) =>
    http(web.port, `/rpc/${method}`, { method: 'POST', body, headers: { ...AUTH, 'content-type': 'application/json', ...headers } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-web-'));
    const staticDir = join(dir, 'renderer');
    mkdirSync(join(staticDir, 'assets'), { recursive: true });
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Revtrail</title><script type="module" src="/assets/app-1234.js"></script>');
    writeFileSync(join(staticDir, 'assets', 'app-1234.js'), 'console.log(1)');
    writeFileSync(join(dir, 'outside.txt'), 'secret');
    core = createCore({ dataDir: join(dir, 'data'), clock: { now: () => 1_750_000_000_000 }, log: quiet, secrets: new EncryptedFileSecretStore(join(dir, 's.enc'), join(dir, 's.key')) });
    web = await startWebServer({
      core,
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      staticDir,
      shell: { 'shell.info': async () => ok({ mode: 'browser', dataDir: dir, localRedirector: null, localRedirectorProblem: null, sampleWorkspaceIds: [] }) },
    });
  });

  afterAll(async () => {
    await web.close();
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only and prints a URL carrying the token in its fragment, which no server receives', () => {
    expect(web.url).toBe(`http://127.0.0.1:${web.port}/#token=${TOKEN}`);
  });

  it('calls core methods over POST /rpc/:method and returns their Result', async () => {
    const added = await rpc('workspaces.add', JSON.stringify({ name: 'Shop <b>1</b>' }));
    expect(added.status).toBe(200);
    expect(JSON.parse(added.body)).toMatchObject({ ok: true, value: { name: 'Shop <b>1</b>' } });
    expect(added.headers['cache-control']).toBe('no-store');
    const listed = JSON.parse((await rpc('workspaces.list', '')).body);
    expect(listed.value).toHaveLength(1);
    // An expected failure is a Result in a 200, the same shape the IPC transport carries.
    const dup = await rpc('workspaces.add', JSON.stringify({ name: 'shop <b>1</b>' }));
    expect(dup.status).toBe(200);
    expect(JSON.parse(dup.body)).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('serves shell methods beside the core ones', async () => {
    expect(JSON.parse((await rpc('shell.info', '{}')).body)).toMatchObject({ ok: true, value: { mode: 'browser' } });
  });

  it('refuses bad JSON with 400 and a message saying what to send', async () => {
    const r = await rpc('workspaces.add', '{"name": ');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.message).toMatch(/not valid JSON.*send one JSON object/);
    const arr = await rpc('workspaces.add', '[1]');
    expect(arr.status).toBe(400);
    expect(JSON.parse(arr.body).error.message).toMatch(/one JSON object/);
  });

  it('refuses names that are not methods before any lookup', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'workspaces', 'a.b.c.d', 'x..y']) {
      expect((await rpc(name, '{}')).status, name).toBe(404);
    }
    // A well-formed name the core does not have: the core's own answer.
    expect(JSON.parse((await rpc('nothing.here', '{}')).body)).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringMatching(/Unknown method/) } });
  });

  it('needs the token as a bearer credential: wrong, partial or missing is 401, compared whole', async () => {
    for (const authorization of ['Bearer nope', `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Basic ${TOKEN}`, TOKEN, 'Bearer', `Bearer  `]) {
      const r = await rpc('workspaces.list', '{}', { authorization });
      expect(r.status, authorization).toBe(401);
      expect(JSON.parse(r.body)).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringMatching(/open the address Revtrail printed/) } });
      expect(r.headers['www-authenticate']).toBe('Bearer realm="revtrail"');
    }
    expect((await http(web.port, '/rpc/workspaces.list', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(401);
    expect((await http(web.port, '/events')).status).toBe(401);
  });

  it('takes the auth scheme in any case (RFC 9110: it is case-insensitive)', async () => {
    for (const scheme of ['bearer', 'BEARER', 'beArer']) {
      const r = await rpc('workspaces.list', '{}', { authorization: `${scheme} ${TOKEN}` });
      expect(r.status, scheme).toBe(200);
      expect(JSON.parse(r.body).ok).toBe(true);
    }
  });

  it('refuses a request carrying the token only in a cookie: any cookie for 127.0.0.1 reaches every port', async () => {
    for (const cookie of [`revtrail_token_${web.port}=${TOKEN}`, `token=${TOKEN}`]) {
      const r = await http(web.port, '/rpc/workspaces.list', { method: 'POST', body: '{}', headers: { cookie, 'content-type': 'application/json' } });
      expect(r.status, cookie).toBe(401);
      expect((await http(web.port, '/events', { headers: { cookie } })).status, cookie).toBe(401);
    }
  });

  it('serves the page without the token, never embeds it and never sets a cookie', async () => {
    const responses = await Promise.all([
      http(web.port, '/'),
      http(web.port, `/?token=${TOKEN}`),
      http(web.port, '/assets/app-1234.js'),
      http(web.port, '/missing.js'),
      rpc('workspaces.list', '{}'),
      rpc('workspaces.list', '{}', { authorization: 'Bearer wrong' }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 404, 200, 401]);
    expect(responses[0]!.body).toContain('<title>Revtrail</title>');
    for (const r of responses) {
      expect(r.headers['set-cookie']).toBeUndefined();
      expect(r.body).not.toContain(TOKEN);
    }
  });

  it('answers an RPC body over the limit with 413 and the error shape, whether its size is declared or not', async () => {
    const padded = (size: number) => `{}${' '.repeat(size - 2)}`;
    const atLimit = await rpc('workspaces.list', padded(RPC_BODY_LIMIT));
    expect(atLimit.status).toBe(200);
    expect(JSON.parse(atLimit.body).ok).toBe(true);

    const declared = await rpc('workspaces.list', padded(RPC_BODY_LIMIT + 1));
    const chunk = ' '.repeat(64 * 1024);
    const streamed = await http(web.port, '/rpc/workspaces.list', {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      chunks: ['{}', ...Array.from({ length: (3 * RPC_BODY_LIMIT) / chunk.length }, () => chunk)],
    });
    for (const r of [declared, streamed]) {
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body)).toEqual({ ok: false, error: { code: 'invalid_input', message: 'This request is larger than Revtrail accepts (1 MiB): send it in smaller parts.' } });
    }
    // The server is still answering afterwards.
    expect((await rpc('workspaces.list', '{}')).status).toBe(200);
  });

  it('refuses other Host headers (DNS rebinding) even with the token', async () => {
    for (const host of ['evil.example', `evil.example:${web.port}`, '127.0.0.1', `127.0.0.1:${web.port + 1}`, `localhost.evil.example:${web.port}`]) {
      const r = await http(web.port, '/rpc/workspaces.list', { method: 'POST', body: '{}', headers: { host, ...AUTH, 'content-type': 'application/json' } });
      expect(r.status, host).toBe(403);
    }
    const local = await http(web.port, '/rpc/workspaces.list', { method: 'POST', body: '{}', headers: { host: `localhost:${web.port}`, ...AUTH, 'content-type': 'application/json' } });
    expect(local.status).toBe(200);
  });

  it('refuses cross-origin posts and non-JSON bodies', async () => {
    expect((await rpc('workspaces.list', '{}', { origin: 'https://evil.example' })).status).toBe(403);
    expect((await rpc('workspaces.list', '{}', { origin: `http://127.0.0.1:${web.port}` })).status).toBe(200);
    expect((await rpc('workspaces.list', '{}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await http(web.port, '/rpc/workspaces.list', { headers: AUTH })).status).toBe(405);
  });

  it('sends a strict CSP and nosniff everywhere, caches only hashed assets', async () => {
    const page = await http(web.port, '/');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'self'; script-src 'self'/);
    expect(page.headers['content-security-policy']).not.toMatch(/https?:|unsafe/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-cache');
    const asset = await http(web.port, '/assets/app-1234.js');
    expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
    expect(asset.headers['cache-control']).toMatch(/immutable/);
    expect((await rpc('workspaces.list', '{}')).headers['x-content-type-options']).toBe('nosniff');
  });

  it('never serves files outside the built renderer', async () => {
    for (const path of ['/../outside.txt', '/%2e%2e/outside.txt', '/assets/%2e%2e/%2e%2e/outside.txt', '/missing.js']) {
      const r = await http(web.port, path);
      expect(r.status, path).toBe(404);
      expect(r.body).not.toContain('secret');
    }
  });

  /** The test's core, with an `on` whose listeners the test holds and calls itself. */
  const emittingCore = () => {
    const listeners = new Set<(p: unknown) => void>();
    const on = ((_event: string, l: (p: unknown) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    }) as Core['on'];
    return { listeners, emitting: { call: core.call.bind(core), on } };
  };

  it('streams CoreEvents as server-sent events and lets go of listeners on disconnect', async () => {
    const { listeners, emitting } = emittingCore();
    const staticDir = join(dir, 'renderer');
    const sse = await startWebServer({ core: emitting, host: '127.0.0.1', port: 0, token: TOKEN, staticDir });
    const payload = { workspaceId: 'w1', source: 'redirector', progress: { feed: 'clicks', received: 3, changed: 3, done: false } };
    try {
      const text = await new Promise<string>((done, fail) => {
        const req = request({ host: '127.0.0.1', port: sse.port, path: '/events', headers: { host: `127.0.0.1:${sse.port}`, ...AUTH } }, (res) => {
          expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
          let got = '';
          res.on('data', (c: Buffer) => {
            got += c.toString('utf8');
            if (got.startsWith('retry:') && listeners.size > 0 && !got.includes('event:')) for (const l of listeners) l(payload);
            if (got.includes('\n\nevent: sync.progress\ndata: ') && got.endsWith('\n\n')) {
              req.destroy();
              done(got);
            }
          });
        });
        req.on('error', (e) => (/aborted|socket hang up/.test(e.message) ? undefined : fail(e)));
        req.end();
      });
      const data = /event: sync\.progress\ndata: (.*)\n\n/.exec(text)?.[1];
      expect(JSON.parse(data!)).toEqual(payload);
      await expect.poll(() => listeners.size).toBe(0);
    } finally {
      await sse.close();
    }
  });

  it("is what the renderer's transport speaks: calls with the key, events over a fetch stream, a refused key reported", async () => {
    const { listeners, emitting } = emittingCore();
    const other = await startWebServer({ core: emitting, host: '127.0.0.1', port: 0, token: TOKEN, staticDir: join(dir, 'renderer') });
    try {
      let refusals = 0;
      const transport = httpTransport({ base: other.origin, token: TOKEN, onUnauthorized: () => refusals++ });
      expect(await transport.call('workspaces.list', {})).toMatchObject({ ok: true });
      const received: unknown[] = [];
      transport.on('sync.progress', (p) => received.push(p));
      await expect.poll(() => listeners.size).toBeGreaterThan(0);
      const payload = { workspaceId: 'w1', source: 'stripe', progress: { feed: 'charges', received: 1, changed: 1, done: true } };
      for (const l of listeners) l(payload);
      await expect.poll(() => received).toEqual([payload]);
      expect(refusals).toBe(0);

      const stale = httpTransport({ base: other.origin, token: 'an-older-token-0123456789', onUnauthorized: () => refusals++ });
      expect(await stale.call('workspaces.list', {})).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
      expect(refusals).toBe(1);
      stale.on('sync.progress', () => undefined);
      await expect.poll(() => refusals).toBe(2);
    } finally {
      await other.close();
    }
  });
});
