/**
 * The Lambda's redirect app (app-base.ts buildRedirectApp), built at a cold start, against buildApp's app with
 * every route, which the Lambda builds on the first request the redirect app does not serve: every request
 * redirectAppServes sends to the redirect app must be answered there as the full app answers it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRedirectApp, OTHER_ROOT_PATHS, redirectAppServes } from '../src/app-base';
import { PAGE_PATHS, redirectSlugOf } from '../src/redirect';
import type { RevtrailApp } from '../src/app';
import { CHROME_UA, makeTestApp, type TestApp } from './support';

/** The routes one level below the root, as printRoutes lists them: "name (METHODS)". */
function rootRoutes(app: RevtrailApp): Map<string, string> {
  const lines = app.printRoutes({ commonPrefix: false }).split('\n');
  const routes = new Map<string, string>();
  for (const line of lines) {
    const m = /^ {4}[├└]── (\S+) \(([^)]+)\)$/.exec(line);
    if (m) routes.set(`/${m[1]}`, m[2]!);
  }
  const root = /^└── \/ \(([^)]+)\)$/.exec(lines[0] ?? '');
  if (root) routes.set('/', root[1]!);
  return routes;
}

let t: TestApp;
let redirects: RevtrailApp;
beforeAll(async () => {
  t = await makeTestApp();
  redirects = await buildRedirectApp(t.app.revtrail);
  await t.putLink('spring', { destination: 'https://brand.com/pricing', channel: 'Newsletter', utm: { utm_source: 'nl' } });
});
afterAll(async () => {
  await redirects?.close();
  await t?.app.close();
});

describe('the redirect app', () => {
  it('has a subset of the full app\'s routes, with the same methods', () => {
    const full = rootRoutes(t.app);
    const mine = rootRoutes(redirects);
    expect([...mine.keys()].sort()).toEqual(['/', '/:slug', '/health', '/p.js', '/robots.txt']);
    for (const [path, methods] of mine) expect(full.get(path), path).toBe(methods);
  });

  it('leaves out exactly the single-segment pages OTHER_ROOT_PATHS names, so those go to the full app', () => {
    const single = (app: RevtrailApp) => [...rootRoutes(app).keys()].filter((p) => /^\/[^/:]+$/.test(p));
    const onlyFull = single(t.app).filter((p) => !single(redirects).includes(p));
    expect(onlyFull.sort()).toEqual([...OTHER_ROOT_PATHS].sort());
  });

  it('is given the paths of links and of its own pages, and nothing else', () => {
    for (const path of ['/spring', '/p.js', '/health', '/robots.txt', '/', '/a.b_c~d-e']) expect(redirectAppServes(path), path).toBe(true);
    for (const path of ['/optout', '/proxy-check', '/optout/', '/spring/', '/api/v1/status', '/api/v1/collect', '/webhooks/stripe', '/%6Fptout', '//spring', '']) {
      expect(redirectAppServes(path), path).toBe(false);
    }
  });

  it('leaves every page of the full app to the apps: the Lambda answers directly only what /:slug would get', () => {
    const pages = [...rootRoutes(t.app).keys()].filter((p) => !p.includes(':'));
    expect(pages.filter((p) => /^\/[^/]*$/.test(p) && !OTHER_ROOT_PATHS.includes(p)).sort()).toEqual([...PAGE_PATHS].sort());
    for (const path of pages) for (const method of ['GET', 'HEAD']) expect(redirectSlugOf(method, path), `${method} ${path}`).toBeNull();
    expect(redirectSlugOf('GET', '/spring')).toBe('spring');
    expect(redirectSlugOf('HEAD', '/spring')).toBe('spring');
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) expect(redirectSlugOf(method, '/spring'), method).toBeNull();
  });

  it('answers what it is given as the full app does', async () => {
    const requests = [
      { method: 'GET' as const, url: '/spring?utm_campaign=spring,sale', headers: { 'user-agent': CHROME_UA } },
      { method: 'HEAD' as const, url: '/spring', headers: { 'user-agent': CHROME_UA } },
      { method: 'GET' as const, url: '/no-such-link' },
      { method: 'POST' as const, url: '/spring', payload: 'x' },
      { method: 'OPTIONS' as const, url: '/spring' },
      { method: 'GET' as const, url: '/p.js', headers: { 'accept-encoding': 'gzip' } },
      { method: 'GET' as const, url: '/health' },
      { method: 'GET' as const, url: '/robots.txt' },
      { method: 'GET' as const, url: '/' },
    ];
    for (const req of requests) {
      const [a, b] = [await redirects.inject(req), await t.app.inject(req)];
      const what = `${req.method} ${req.url}`;
      expect(a.statusCode, what).toBe(b.statusCode);
      expect(a.headers['content-type'], what).toBe(b.headers['content-type']);
      expect(a.headers['cache-control'], what).toBe(b.headers['cache-control']);
      // Each redirect gives a new visitor its own id; the rest of the answer is the same.
      expect(a.headers.location?.replace(/rt_vid=[\w-]+/, ''), what).toBe(b.headers.location?.replace(/rt_vid=[\w-]+/, ''));
      if (req.url !== '/health' && a.statusCode !== 302) expect(a.rawPayload.equals(b.rawPayload), what).toBe(true);
    }
  });
});
