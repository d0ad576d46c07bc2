import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Click, type FeedPage } from '@revtrail/shared';
import { startLocalRedirector, type LocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import type pino from 'pino';
import { DatabaseTooNewError, loadMigrations, migrate } from '../db/migrate';
import { openDatabase, type Db } from '../db/open';
import { listResourceStates } from '../sync-state/repo';
import { RedirectorClient, RedirectorError } from './client';
import { discardLinkPush, listLinkPushes, pendingLinkPushes, queueLinkPush, requeueLinkPush } from './repo';
import { PULL_CACHE_KIB, pullRedirector, pushLinks } from './sync';
import { htmlPage, redirectorError, startProxy } from './testing/proxy';

// The desktop's pull against a real local redirector (embedded DynamoDB), into SQLite on disk.
const TOKEN = 'desktop-sync-token-0123456789abcdefghijkl';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
let dir: string;
let r: LocalRedirector;

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${r.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json() as Promise<Record<string, unknown>>;
}

/** Clicks `count` times on `slug` as `visitors` different visitors, and waits until the feed has them. */
async function click(slug: string, count: number, visitors: string[]) {
  for (let i = 0; i < count; i++) {
    await fetch(`${r.url}/${slug}?utm_content=${i}`, { redirect: 'manual', headers: { 'user-agent': UA, cookie: `rt_vid=${visitors[i % visitors.length]}` } });
  }
  await r.app.revtrail.recorder.flush();
  await r.replaySpill();
}

const count = (db: Db, table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
const newDb = () => openDatabase(join(mkdtempSync(join(dir, 'ws-')), 'workspace.sqlite'));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-desktop-sync-'));
  r = await startLocalRedirector({
    dataDir: join(dir, 'redirector'),
    port: 0,
    log: silentLogger as pino.Logger,
    settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0', REVTRAIL_ALLOWED_ORIGINS: 'https://brand.com' },
  });
  await api('PUT', '/api/v1/links/spring', { destination: 'https://brand.com/pricing', channel: 'Newsletter', campaign: 'spring' });
  await api('PUT', '/api/v1/links/ads', { destination: 'https://brand.com/', channel: 'Paid social' });
}, 60_000);

afterAll(async () => {
  await r?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('workspace database', () => {
  it('migrates a new database once, and refuses one written by a newer version', () => {
    const path = join(mkdtempSync(join(dir, 'm-')), 'w.sqlite');
    const db = openDatabase(path);
    const latest = loadMigrations().at(-1)!.version;
    expect(latest).toBeGreaterThanOrEqual(2);
    expect(db.pragma('user_version', { simple: true })).toBe(latest);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const again = openDatabase(path);
    expect(migrate(again)).toBe(latest);
    again.pragma('user_version = 99');
    again.close();
    expect(() => openDatabase(path)).toThrow(DatabaseTooNewError);
  });
});

describe('pullRedirector', () => {
  it('pulls links and every click, then nothing twice, then only what is new', async () => {
    await click('spring', 30, ['VisitorAAAAAAAAAAAAAAA', 'VisitorBBBBBBBBBBBBBBB']);
    const db = newDb();
    const client = new RedirectorClient(r.url, TOKEN);
    const progress: string[] = [];
    const cache = db.pragma('cache_size', { simple: true });
    const caches = new Set<unknown>();
    const first = await pullRedirector(db, client, {
      clock: systemClock,
      pageSize: 7,
      writeItems: 14,
      onProgress: (p) => {
        progress.push(`${p.feed}:${p.received}`);
        caches.add(db.pragma('cache_size', { simple: true }));
      },
    });
    expect(first).toMatchObject({ links: 2, clicks: 30 });
    // The pull writes with the larger page cache, and gives it back.
    expect([...caches]).toEqual([-PULL_CACHE_KIB]);
    expect(db.pragma('cache_size', { simple: true })).toBe(cache);
    // Pages of 7 written two at a time (14 items gathered), the rest at the feed's end.
    expect(progress.filter((p) => p.startsWith('clicks:'))).toEqual(['clicks:14', 'clicks:28', 'clicks:30']);
    const row = db.prepare(`SELECT * FROM clicks ORDER BY at LIMIT 1`).get() as Record<string, unknown>;
    expect(row).toMatchObject({ slug: 'spring', channel: 'Newsletter', campaign: 'spring', bot: 0, device: 'desktop', browser: 'Chrome' });
    expect(JSON.parse(row.utm_json as string)).toEqual({ utm_content: '0' });
    expect(db.prepare(`SELECT channel FROM links WHERE slug = 'ads'`).get()).toEqual({ channel: 'Paid social' });

    expect((await pullRedirector(db, client, { clock: systemClock })).clicks).toBe(0);
    await click('ads', 3, ['VisitorCCCCCCCCCCCCCCC']);
    expect((await pullRedirector(db, client, { clock: systemClock })).clicks).toBe(3);
    expect(count(db, 'clicks')).toBe(33);
  });

  it('applies erasures, and a re-pull from the start does not bring the erased visitor back', async () => {
    const db = newDb();
    const client = new RedirectorClient(r.url, TOKEN);
    await click('spring', 4, ['EraseMeAAAAAAAAAAAAAAA', 'KeepMeAAAAAAAAAAAAAAAA']);
    await pullRedirector(db, client, { clock: systemClock });
    const before = count(db, 'clicks');
    expect(db.prepare(`SELECT count(*) AS n FROM clicks WHERE visitor_id = 'EraseMeAAAAAAAAAAAAAAA'`).get()).toEqual({ n: 2 });
    await api('POST', '/api/v1/erase', { visitorId: 'EraseMeAAAAAAAAAAAAAAA' });
    const second = await pullRedirector(db, client, { clock: systemClock });
    expect(second.erased).toBe(2);
    expect(count(db, 'clicks')).toBe(before - 2);
    db.prepare(`DELETE FROM sync_cursors`).run();
    await pullRedirector(db, client, { clock: systemClock });
    expect(db.prepare(`SELECT count(*) AS n FROM clicks WHERE visitor_id = 'EraseMeAAAAAAAAAAAAAAA'`).get()).toEqual({ n: 0 });
  });

  it('pushes link changes made here, keeps them while the redirector is down, and keeps what it refuses for the user', async () => {
    const db = newDb();
    queueLinkPush(db, 'local-made', { destination: 'https://brand.com/new', channel: 'Podcast' }, 1000);
    queueLinkPush(db, 'loops', { destination: `${r.url}/spring`, channel: 'X' }, 1001);
    const down = new RedirectorClient('http://127.0.0.1:9', TOKEN);
    await expect(pushLinks(db, down, { clock: systemClock, retries: 0 })).rejects.toThrow(RedirectorError);
    expect(pendingLinkPushes(db).map((p) => p.slug)).toEqual(['local-made', 'loops']);
    expect(listLinkPushes(db)[0]).toMatchObject({ state: 'queued', status: null, reason: expect.stringContaining('did not answer') });

    queueLinkPush(db, 'local-made', { destination: 'https://brand.com/newer', channel: 'Podcast' }, 1002);
    const result = await pullRedirector(db, new RedirectorClient(r.url, TOKEN), { clock: systemClock });
    expect(result.pushed).toBe(1);
    expect(result.rejected).toEqual([{ slug: 'loops', status: 400, message: expect.stringMatching(/tracking domain|self/) }]);
    expect(result.skipped).toEqual([]);
    expect(pendingLinkPushes(db)).toEqual([]);
    expect(listLinkPushes(db)).toEqual([
      { slug: 'loops', input: { destination: `${r.url}/spring`, channel: 'X' }, queuedAt: 1001, state: 'refused', attemptedAt: expect.any(Number), status: 400, reason: result.rejected[0]!.message },
    ]);
    const live = (await api('GET', '/api/v1/links/local-made')) as { link: { destination: string } };
    expect(live.link.destination).toBe('https://brand.com/newer');
    expect(db.prepare(`SELECT destination FROM links WHERE slug = 'local-made'`).get()).toEqual({ destination: 'https://brand.com/newer' });
    const redirect = await fetch(`${r.url}/local-made`, { redirect: 'manual', headers: { 'user-agent': UA } });
    expect(new URL(redirect.headers.get('location')!).pathname).toBe('/newer');

    // A refused change is not sent again by itself; the user retries (refused again here) or discards it.
    const proxy = await startProxy(r.url);
    try {
      await pullRedirector(db, new RedirectorClient(proxy.url, TOKEN), { clock: systemClock });
      expect(proxy.seen.filter((x) => x.startsWith('PUT'))).toEqual([]);
      expect(requeueLinkPush(db, 'loops')).toBe(true);
      const again = await pushLinks(db, new RedirectorClient(proxy.url, TOKEN), { clock: systemClock });
      expect(again.rejected.map((x) => x.slug)).toEqual(['loops']);
      expect(proxy.seen.filter((x) => x.startsWith('PUT'))).toEqual(['PUT /api/v1/links/loops']);
      expect(listLinkPushes(db).map((p) => p.state)).toEqual(['refused']);
      // An edit of the slug replaces the refused change and goes at the next push.
      queueLinkPush(db, 'loops', { destination: 'https://brand.com/fixed', channel: 'X' }, 1003);
      expect(pendingLinkPushes(db)).toMatchObject([{ slug: 'loops', state: 'queued', reason: null, status: null }]);
      expect(discardLinkPush(db, 'loops')).toBe(true);
      expect(discardLinkPush(db, 'loops')).toBe(false);
      expect(listLinkPushes(db)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('keeps a change the redirector refuses with 422 as refused, with its reason', async () => {
    const db = newDb();
    const proxy = await startProxy(r.url);
    proxy.rules = [(m, path) => (m === 'PUT' && path === '/api/v1/links/strict' ? redirectorError(422, 'invalid_input', 'destination is not on the allowed list') : undefined)];
    try {
      queueLinkPush(db, 'strict', { destination: 'https://brand.com/strict', channel: 'X' }, 1000);
      const result = await pullRedirector(db, new RedirectorClient(proxy.url, TOKEN), { clock: systemClock });
      expect(result.rejected).toEqual([{ slug: 'strict', status: 422, message: 'destination is not on the allowed list.' }]);
      expect(result.skipped).toEqual([]);
      expect(listLinkPushes(db)).toMatchObject([{ slug: 'strict', state: 'refused', status: 422, reason: 'destination is not on the allowed list.' }]);
    } finally {
      await proxy.close();
    }
  });

  it("keeps a change queued when a proxy answers the link's PUT with 403, and pulls everything else", async () => {
    const db = newDb();
    const proxy = await startProxy(r.url);
    proxy.rules = [(m) => (m === 'PUT' ? htmlPage(403, '403 Forbidden') : undefined)];
    try {
      queueLinkPush(db, 'behind-proxy', { destination: 'https://brand.com/p', channel: 'X' }, 1000);
      const result = await pullRedirector(db, new RedirectorClient(proxy.url, TOKEN), { clock: systemClock });
      expect(result.rejected).toEqual([]);
      expect(result.links).toBeGreaterThanOrEqual(2);
      expect(result.skipped).toEqual([{ source: 'redirector', resource: 'link-pushes', code: 'blocked', message: expect.stringContaining('proxy or firewall') }]);
      expect(result.skipped[0]!.message).toContain('not a Revtrail redirector');
      expect(pendingLinkPushes(db)).toMatchObject([{ slug: 'behind-proxy', state: 'queued', status: 403, reason: result.skipped[0]!.message }]);

      proxy.rules = [];
      const next = await pullRedirector(db, new RedirectorClient(proxy.url, TOKEN), { clock: systemClock });
      expect([next.pushed, next.skipped]).toEqual([1, []]);
      expect(listLinkPushes(db)).toEqual([]);
      expect(listResourceStates(db, 'redirector').find((s) => s.resource === 'link-pushes')).toMatchObject({ error: null, lastPullAt: expect.any(Number) });
    } finally {
      await proxy.close();
    }
  });

  it('asks an older redirector, which refuses pages of more than 1,000, for pages of 1,000, and pulls everything', async () => {
    await click('spring', 3, ['OlderPagesVisitor01234']);
    const direct = newDb();
    const all = await pullRedirector(direct, new RedirectorClient(r.url, TOKEN), { clock: systemClock });
    const db = newDb();
    const proxy = await startProxy(r.url);
    const limits: string[] = [];
    // What a redirector before pages of 5,000 answers (routes/sync.ts parseFeedQuery then).
    proxy.rules = [
      (m, path, q) => {
        if (m !== 'GET' || path === '/api/v1/links' || !q.has('limit')) return undefined;
        limits.push(`${path} ${q.get('limit')}`);
        return Number(q.get('limit')) > 1000 ? redirectorError(400, 'invalid_input', 'limit must be an integer from 1 to 1000') : undefined;
      },
    ];
    try {
      const result = await pullRedirector(db, new RedirectorClient(proxy.url, TOKEN), { clock: systemClock });
      expect(result.skipped).toEqual([]);
      expect(result.clicks).toBe(all.clicks);
      expect(count(db, 'clicks')).toBe(count(direct, 'clicks'));
      // Each feed: 5,000 once (refused), then 1,000.
      const byFeed = new Map<string, string[]>();
      for (const l of limits) byFeed.set(l.split(' ')[0]!, [...(byFeed.get(l.split(' ')[0]!) ?? []), l.split(' ')[1]!]);
      expect([...byFeed.keys()]).toEqual(['clicks', 'pageviews', 'identities', 'telegram-starts', 'telegram-payments', 'erasures'].map((f) => `/api/v1/${f}`));
      for (const asked of byFeed.values()) expect(asked).toEqual(['5000', ...asked.slice(1).map(() => '1000')]);
      expect(byFeed.get('/api/v1/clicks')!.length).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.close();
      db.close();
      direct.close();
    }
  });

  it('skips a feed the redirector lacks (404), completes the others, and records only their success', async () => {
    await click('spring', 2, ['OlderAAAAAAAAAAAAAAAAA']);
    const db = newDb();
    const proxy = await startProxy(r.url);
    // An older redirector: its not-found answer, for the pageviews feed only.
    proxy.rules = [(_m, path) => (path === '/api/v1/pageviews' ? redirectorError(404, 'not_found', 'Nothing here.') : undefined)];
    try {
      const result = await pullRedirector(db, new RedirectorClient(proxy.url, TOKEN), { clock: { now: () => 5_000 } });
      expect(result.clicks).toBe(count(db, 'clicks'));
      expect(result.clicks).toBeGreaterThan(0);
      expect(result.skipped).toEqual([{ source: 'redirector', resource: 'pageviews', code: 'not_found', message: expect.stringContaining('older than this Revtrail') }]);
      const states = Object.fromEntries(listResourceStates(db, 'redirector').map((s) => [s.resource, s]));
      expect(Object.keys(states).sort()).toEqual(['clicks', 'erasures', 'identities', 'link-pushes', 'links', 'pageviews', 'telegram-payments', 'telegram-starts']);
      expect(states.pageviews).toMatchObject({ lastPullAt: null, lastAttemptAt: 5_000, error: { code: 'not_found', message: result.skipped[0]!.message } });
      expect(states.clicks).toMatchObject({ lastPullAt: 5_000, error: null });

      proxy.rules = [];
      const later = await pullRedirector(db, new RedirectorClient(proxy.url, TOKEN), { clock: { now: () => 9_000 } });
      expect(later.skipped).toEqual([]);
      expect(listResourceStates(db, 'redirector').find((s) => s.resource === 'pageviews')).toMatchObject({ lastPullAt: 9_000, error: null });
    } finally {
      await proxy.close();
    }
  });

  it('applies erasures even when a feed before them fails, and skips a feed that times out', async () => {
    const db = newDb();
    await click('spring', 2, ['ForgetMeAAAAAAAAAAAAAA']);
    await pullRedirector(db, new RedirectorClient(r.url, TOKEN), { clock: systemClock });
    expect(db.prepare(`SELECT count(*) AS n FROM clicks WHERE visitor_id = 'ForgetMeAAAAAAAAAAAAAA'`).get()).toEqual({ n: 2 });
    await api('POST', '/api/v1/erase', { visitorId: 'ForgetMeAAAAAAAAAAAAAA' });
    const proxy = await startProxy(r.url);
    proxy.rules = [(_m, path) => (path === '/api/v1/clicks' ? { status: 503, type: 'text/html', body: '<h1>Down</h1>' } : path === '/api/v1/identities' ? 'hang' : undefined)];
    try {
      const client = new RedirectorClient(proxy.url, TOKEN, { timeoutMs: 300 });
      const result = await pullRedirector(db, client, { clock: systemClock, retries: 1, retryBaseMs: 5 });
      expect(result.skipped.map((f) => [f.resource, f.code])).toEqual([['clicks', 'unavailable'], ['identities', 'unavailable']]);
      expect(result.skipped[1]!.message).toContain('no answer in time');
      expect(result.erased).toBe(2);
      expect(db.prepare(`SELECT count(*) AS n FROM clicks WHERE visitor_id = 'ForgetMeAAAAAAAAAAAAAA'`).get()).toEqual({ n: 0 });
      // clicks: a try and a retry; identities: once, since the redirector already looked unavailable.
      expect(proxy.seen.filter((x) => x === 'GET /api/v1/clicks')).toHaveLength(2);
      expect(proxy.seen.filter((x) => x === 'GET /api/v1/identities')).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('says "not a Revtrail redirector" to an address that answers a web page, and throws when nothing could be read', async () => {
    const site = await startProxy(null);
    try {
      const client = new RedirectorClient(`${site.url}/`, TOKEN);
      const status = await client.status().catch((e: unknown) => e);
      expect(status).toMatchObject({ kind: 'foreign', message: expect.stringContaining('that address is not a Revtrail redirector') });
      expect((status as Error).message).toContain('e.g. https://go.brand.com');
      const db = newDb();
      const pulled = await pullRedirector(db, client, { clock: systemClock }).catch((e: unknown) => e);
      expect(pulled).toMatchObject({ kind: 'foreign' });
      expect(listResourceStates(db).every((s) => s.error?.code === 'blocked' || s.resource === 'link-pushes')).toBe(true);
    } finally {
      await site.close();
    }
  });

  it('stops at once on a refused token: one request, no retry storm, and a message without the token', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls += 1;
      return fetch(input, init);
    };
    const client = new RedirectorClient(r.url, 'wrong-token-0123456789abcdefghijklmnopq', { fetch: counting });
    const err = await pullRedirector(newDb(), client, { clock: systemClock, retryBaseMs: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedirectorError);
    expect((err as RedirectorError).kind).toBe('unauthorized');
    expect((err as Error).message).not.toContain('wrong-token');
    expect(calls).toBe(1);
  });

  it('retries an unreachable redirector with backoff on the first read, tries the rest once, then says so', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls += 1;
      return fetch(input, init);
    };
    const client = new RedirectorClient('http://127.0.0.1:9', TOKEN, { fetch: counting });
    const started = Date.now();
    const db = newDb();
    const err = await pullRedirector(db, client, { clock: systemClock, retries: 3, retryBaseMs: 20 }).catch((e: unknown) => e);
    expect((err as RedirectorError).kind).toBe('unavailable');
    expect(calls).toBe(4 + 6);
    expect(listResourceStates(db).filter((s) => s.error).map((s) => [s.resource, s.error!.code, s.lastPullAt])).toEqual(
      ['clicks', 'erasures', 'identities', 'links', 'pageviews', 'telegram-payments', 'telegram-starts'].map((f) => [f, 'unavailable', null]),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(10 + 20 + 40);
  });

  it('resumes after the pulling process is killed with SIGKILL mid-way, with the same rows and no duplicate', async () => {
    await click('spring', 300, ['KillAAAAAAAAAAAAAAAAAA', 'KillBBBBBBBBBBBBBBBBBB', 'KillCCCCCCCCCCCCCCCCCC']);
    const path = join(mkdtempSync(join(dir, 'kill-')), 'workspace.sqlite');
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'testing', 'pull-process.ts'), path, r.url, TOKEN], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if ((out.match(/^clicks /gm) ?? []).length >= 8 && !child.killed) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`the pull ended before it was killed: ${out.slice(-200)}`)));
    });
    await new Promise((resolve) => child.once('exit', resolve));
    expect(out).not.toContain('finished');

    const db = openDatabase(path);
    const partial = count(db, 'clicks');
    expect(partial).toBeGreaterThanOrEqual(70);
    await pullRedirector(db, new RedirectorClient(r.url, TOKEN), { clock: systemClock });

    const server: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page: FeedPage<Click> = await new RedirectorClient(r.url, TOKEN).feed('clicks', cursor, 1000);
      server.push(...page.items.map((c) => c.id));
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    const local = (db.prepare(`SELECT id FROM clicks ORDER BY id`).all() as { id: string }[]).map((x) => x.id);
    expect(local).toEqual([...new Set(server)].sort());
  }, 60_000);
});
