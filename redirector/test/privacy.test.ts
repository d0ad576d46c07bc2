import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { hashEmail, normalizeEmail, type Click, type Identity, type Pageview } from '@revtrail/shared';
import { parseConfig } from '../src/config';
import { startLocalRedirector, type LocalRedirector } from '../src/local';
import { silentLogger } from '../src/log';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../src/store/embedded';
import { CHROME_UA, EMAIL_KEY, TOKEN, closeSharedDynamo, cookieOf, makeTestApp, testConfig, type TestApp } from './support';
import type pino from 'pino';

afterAll(closeSharedDynamo);

const SITE = 'https://brand.com';
const VID = 'AbCdEfGhIjKlMnOpQrStUv';
const VID2 = 'ZyXwVuTsRqPoNmLkJiHgFe';
const LINK = { destination: 'https://brand.com/pricing', channel: 'Newsletter' };

async function feed<T>(t: TestApp, kind: string): Promise<T[]> {
  t.clock.advance(1);
  return (await t.app.inject({ url: `/api/v1/${kind}?limit=1000`, headers: t.auth })).json().items as T[];
}

const click = (t: TestApp, headers: Record<string, string> = {}) =>
  t.app.inject({ url: '/spring?utm_source=nl', headers: { 'user-agent': CHROME_UA, ...headers } });
const collect = (t: TestApp, body: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/collect',
    headers: { origin: SITE, 'content-type': 'text/plain;charset=UTF-8', 'user-agent': CHROME_UA, ...headers },
    payload: JSON.stringify(body),
  });

describe('consent settings', () => {
  it('defaults to consent off with Global Privacy Control honoured, and refuses other values', () => {
    expect(testConfig()).toMatchObject({ consent: 'off', honorGpc: true });
    expect(testConfig({ REVTRAIL_CONSENT: 'opt-in', REVTRAIL_HONOR_GPC: 'false' })).toMatchObject({ consent: 'opt-in', honorGpc: false });
    const bad = parseConfig({ ...process.env, REVTRAIL_TABLE: 'revtrail', REVTRAIL_CONSENT: 'yes', REVTRAIL_HONOR_GPC: '1' });
    expect(bad.ok ? [] : bad.errors).toEqual(
      expect.arrayContaining(['REVTRAIL_CONSENT must be one of off, opt-out, opt-in, got "yes"', 'REVTRAIL_HONOR_GPC must be true or false, got "1"']),
    );
  });
});

describe('objections on tracking links', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ settings: { REVTRAIL_COOKIE_DOMAIN: 'brand.com' } });
    await t.putLink('spring', { destination: 'https://shop.example/pricing', channel: 'Newsletter' });
  });

  it('redirects a GPC visitor and counts an anonymous click: no visitor id, no IP hash, no cookie, no id in the URL', async () => {
    const res = await click(t, { 'sec-gpc': '1' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('https://shop.example/pricing?utm_source=nl');
    expect(res.headers['set-cookie']).toBeUndefined();
    const again = await click(t, { 'sec-gpc': '1' });
    expect(again.statusCode).toBe(302);
    const clicks = await feed<Click>(t, 'clicks');
    expect(clicks).toHaveLength(2);
    for (const c of clicks) expect(c).toMatchObject({ visitorId: null, ipHash: null, duplicate: false, slug: 'spring', utm: { utm_source: 'nl' } });
  });

  it('tracks GPC visitors as before when REVTRAIL_HONOR_GPC=false', async () => {
    t = await makeTestApp({ settings: { REVTRAIL_HONOR_GPC: 'false' } });
    await t.putLink('spring', LINK);
    const res = await click(t, { 'sec-gpc': '1' });
    expect(cookieOf(res.headers['set-cookie'], 'rt_vid')).not.toBeNull();
    expect((await feed<Click>(t, 'clicks'))[0]!.visitorId).toMatch(/^[\w-]{22}$/);
  });

  it('an opted-out browser is redirected anonymously and its old visitor cookie removed', async () => {
    const res = await click(t, { cookie: `rt_optout=1; rt_vid=${VID}`, host: 'go.brand.com' });
    expect(res.statusCode).toBe(302);
    expect(cookieOf(res.headers['set-cookie'], 'rt_vid')).toMatch(/^rt_vid=; Max-Age=0; Domain=brand.com;/);
    expect((await feed<Click>(t, 'clicks')).map((c) => c.visitorId)).toEqual([null]);
  });

  it('opt-in: a click sets no cookie until the pixel posted with consent, then is the visitor\'s', async () => {
    t = await makeTestApp({ settings: { REVTRAIL_CONSENT: 'opt-in', REVTRAIL_ALLOWED_ORIGINS: SITE } });
    await t.putLink('spring', LINK);
    const first = await click(t);
    expect(first.headers['set-cookie']).toBeUndefined();
    expect(first.headers.location).not.toContain('rt_vid');

    // The pixel posts only with consent (c: 1); without it the redirector stores nothing either.
    expect((await collect(t, { t: 'pageview', url: `${SITE}/` })).statusCode).toBe(204);
    expect(await feed<Pageview>(t, 'pageviews')).toEqual([]);
    const consented = await collect(t, { t: 'pageview', url: `${SITE}/`, c: 1 });
    const cookie = cookieOf(consented.headers['set-cookie'], 'rt_vid') ?? '';
    const vid = /^rt_vid=([\w-]{22});/.exec(cookie)?.[1];
    expect(vid).toBeDefined();

    await click(t, { cookie: `rt_vid=${vid}` });
    expect((await feed<Click>(t, 'clicks')).map((c) => c.visitorId)).toEqual([null, vid]);
    expect((await feed<Pageview>(t, 'pageviews')).map((p) => p.visitorId)).toEqual([vid]);
  });
});

describe('objections on the pixel\'s events', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ settings: { REVTRAIL_ALLOWED_ORIGINS: SITE, REVTRAIL_CONSENT: 'opt-out' } });
  });

  it('answers 204 and stores nothing for GPC, an opted-out browser, or a withdrawn consent', async () => {
    for (const headers of [{ 'sec-gpc': '1' }, { cookie: 'rt_optout=1' }, { cookie: 'rt_consent=0' }] as Record<string, string>[]) {
      const res = await collect(t, { t: 'identify', email: 'a@b.co', url: `${SITE}/`, vid: VID }, headers);
      expect(res.statusCode).toBe(204);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(await feed<Identity>(t, 'identities')).toEqual([]);
  });

  it('forget removes the visitor cookie and remembers the withdrawal; consent given again lifts it', async () => {
    const forget = await collect(t, { t: 'forget' }, { cookie: `rt_vid=${VID}` });
    expect(forget.statusCode).toBe(204);
    expect(cookieOf(forget.headers['set-cookie'], 'rt_vid')).toMatch(/^rt_vid=; Max-Age=0;/);
    expect(cookieOf(forget.headers['set-cookie'], 'rt_consent')).toMatch(/^rt_consent=0; Max-Age=34560000;/);
    expect(await feed<Pageview>(t, 'pageviews')).toEqual([]);

    await t.putLink('spring', LINK);
    await click(t, { cookie: 'rt_consent=0' });
    expect((await feed<Click>(t, 'clicks')).map((c) => c.visitorId)).toEqual([null]);

    const back = await collect(t, { t: 'pageview', url: `${SITE}/`, vid: VID2, c: 1 }, { cookie: 'rt_consent=0' });
    expect(cookieOf(back.headers['set-cookie'], 'rt_consent')).toMatch(/^rt_consent=; Max-Age=0;/);
    expect((await feed<Pageview>(t, 'pageviews')).map((p) => p.visitorId)).toEqual([VID2]);
  });

  it('refuses a malformed consent flag', async () => {
    const res = await collect(t, { t: 'pageview', url: `${SITE}/`, c: true });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('c must be 1');
  });
});

describe('/optout', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ settings: { REVTRAIL_COOKIE_DOMAIN: 'brand.com' } });
  });
  const host = { host: 'go.brand.com' };

  it('explains, and opts out by its button or a confirmed link, for 400 days, removing the visitor cookie', async () => {
    const page = await t.app.inject({ url: '/optout', headers: host });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post" action="optout"><button>Opt out</button></form>');
    expect(page.headers['set-cookie']).toBeUndefined();

    for (const res of [
      await t.app.inject({ method: 'POST', url: '/optout', headers: { ...host, origin: 'http://go.brand.com', 'content-type': 'application/x-www-form-urlencoded' }, payload: '' }),
      await t.app.inject({ url: '/optout?confirm', headers: host }),
    ]) {
      expect(res.statusCode).toBe(200);
      expect(cookieOf(res.headers['set-cookie'], 'rt_optout')).toBe('rt_optout=1; Max-Age=34560000; Domain=brand.com; Path=/; HttpOnly; SameSite=Lax');
      expect(cookieOf(res.headers['set-cookie'], 'rt_vid')).toMatch(/^rt_vid=; Max-Age=0; Domain=brand.com;/);
      expect(res.body).toContain('You are opted out');
    }
    const status = await t.app.inject({ url: '/optout', headers: { ...host, cookie: 'rt_optout=1' } });
    expect(status.body).toContain('action="optout?undo"');
  });

  it('undoes only by a POST from its own page, never by a link or another site', async () => {
    const link = await t.app.inject({ url: '/optout?undo&confirm', headers: { ...host, cookie: 'rt_optout=1' } });
    expect(link.headers['set-cookie']).toBeUndefined();
    const forged = await t.app.inject({ method: 'POST', url: '/optout?undo', headers: { ...host, origin: 'https://evil.example', cookie: 'rt_optout=1' } });
    expect(forged.statusCode).toBe(403);
    expect(forged.headers['set-cookie']).toBeUndefined();
    const undo = await t.app.inject({ method: 'POST', url: '/optout?undo', headers: { ...host, origin: 'http://go.brand.com', cookie: 'rt_optout=1' } });
    expect(cookieOf(undo.headers['set-cookie'], 'rt_optout')).toMatch(/^rt_optout=; Max-Age=0; Domain=brand.com;/);
  });
});

describe('the cookie lifetime follows the attribution window', () => {
  it('on the redirect and in the pixel the redirector serves', async () => {
    const t = await makeTestApp({ settings: { REVTRAIL_ATTRIBUTION_WINDOW_DAYS: '7', REVTRAIL_CONSENT: 'opt-in', REVTRAIL_HONOR_GPC: 'false' } });
    await t.putLink('spring', LINK);
    const res = await click(t, { cookie: `rt_vid=${VID}` });
    expect(cookieOf(res.headers['set-cookie'], 'rt_vid')).toContain('Max-Age=604800;');
    const pixel = await t.app.inject({ url: '/p.js' });
    expect(pixel.body.trimEnd().endsWith('})(window, document, location, navigator, {"m":604800,"c":"opt-in","g":0,"f":0});')).toBe(true);
  });
});

describe('GET /api/v1/people', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp({ settings: { REVTRAIL_ALLOWED_ORIGINS: SITE } });
    await t.putLink('spring', LINK);
  });

  const people = (query: string, headers = t.auth) => t.app.inject({ url: `/api/v1/people?${query}`, headers });

  it('finds a visitor\'s clicks, pageviews and identities, and through an email hash every visitor bound to it', async () => {
    const emailHash = await hashEmail(normalizeEmail('Ann@Example.com')!, EMAIL_KEY);
    for (const vid of [VID, VID2]) {
      await click(t, { cookie: `rt_vid=${vid}` });
      await collect(t, { t: 'pageview', url: `${SITE}/a` }, { cookie: `rt_vid=${vid}` });
      await collect(t, { t: 'identify', email: 'ann@example.com', url: `${SITE}/a` }, { cookie: `rt_vid=${vid}` });
    }
    await click(t, { cookie: `rt_vid=${VID}` });
    await click(t, { cookie: 'rt_vid=SomeoneElse01234567890' });

    const one = (await people(`visitorId=${VID}`)).json();
    expect(one).toMatchObject({ visitorIds: [VID], emailHashes: [emailHash], counts: { clicks: 2, pageviews: 1, identities: 1 }, cursor: null, hasMore: false });
    expect(one.clicks.map((c: Click) => c.visitorId)).toEqual([VID, VID]);
    expect(one.pageviews).toHaveLength(1);
    expect(one.identities).toEqual([expect.objectContaining({ visitorId: VID, emailHash })]);

    const byEmail = (await people(`emailHash=${emailHash}`)).json();
    expect(byEmail).toMatchObject({ visitorIds: [VID, VID2].sort(), emailHashes: [emailHash], counts: { clicks: 3, pageviews: 2, identities: 2 } });

    // Paged: two at a time, every click and pageview once.
    const seen: string[] = [];
    let cursor = '';
    for (let pages = 0; pages < 10; pages++) {
      const page = (await people(`emailHash=${emailHash}&limit=2${cursor ? `&cursor=${cursor}` : ''}`)).json();
      seen.push(...page.clicks.map((c: Click) => c.id), ...page.pageviews.map((p: Pageview) => p.id));
      expect(page.counts).toEqual(byEmail.counts);
      if (!page.hasMore) break;
      cursor = page.cursor;
    }
    expect(seen.sort()).toEqual([...byEmail.clicks.map((c: Click) => c.id), ...byEmail.pageviews.map((p: Pageview) => p.id)].sort());
    expect(new Set(seen).size).toBe(5);

    const nobody = (await people(`emailHash=${'0'.repeat(64)}`)).json();
    expect(nobody).toMatchObject({ visitorIds: [], emailHashes: [], counts: { clicks: 0, pageviews: 0, identities: 0 }, clicks: [], hasMore: false });
  });

  it('validates its query and needs the sync token', async () => {
    for (const query of ['', `visitorId=${VID}&emailHash=${'a'.repeat(64)}`, 'visitorId=short', 'emailHash=ABC', `visitorId=${VID}&cursor=x`, `visitorId=${VID}&limit=0`, 'name=ann']) {
      const res = await people(query);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('invalid_input');
    }
    expect((await people(`visitorId=${VID}`, { authorization: 'Bearer nope' })).statusCode).toBe(401);
  });
});

describe('/api/v1/settings', () => {
  it('shows the deployment\'s settings, and keeps a retention set through the API in the table, for new items', async () => {
    const t = await makeTestApp({ settings: { REVTRAIL_RETENTION_DAYS: '90', REVTRAIL_CONSENT: 'opt-out' } });
    const get = async () => (await t.app.inject({ url: '/api/v1/settings', headers: t.auth })).json();
    expect(await get()).toEqual({
      retentionDays: 90,
      retentionDaysDefault: 90,
      attributionWindowDays: 30,
      consent: 'opt-out',
      honorGpc: true,
      allowedOrigins: [],
      allowedOriginsDeployment: [],
      refusedOrigins: { origins: [], other: { count: 0, lastAt: null } },
    });

    for (const retentionDays of [0, 3651, 1.5, '30', null]) {
      const res = await t.app.inject({ method: 'PUT', url: '/api/v1/settings', headers: t.auth, payload: { retentionDays } });
      expect(res.statusCode, String(retentionDays)).toBe(400);
    }
    const put = await t.app.inject({ method: 'PUT', url: '/api/v1/settings', headers: t.auth, payload: { retentionDays: 30 } });
    expect(put.json()).toMatchObject({ retentionDays: 30, retentionDaysDefault: 90 });
    expect((await t.app.inject({ url: '/api/v1/status', headers: t.auth })).json().retentionDays).toBe(30);

    await t.putLink('spring', LINK);
    await click(t);
    const items = (await t.store.client.send(new ScanCommand({ TableName: t.config.tableName }))).Items!.map((i) => unmarshall(i));
    const stored = items.find((i) => String(i.pk).startsWith('C#'));
    expect(stored?.expiresAt).toBe(Math.floor(t.clock.now() / 1000) + 30 * 86_400);

    // Another instance on the same table (a restart, another Lambda) reads it.
    const { buildApp } = await import('../src/app');
    const { DynamoStore } = await import('../src/store/dynamo');
    const store = new DynamoStore({ tableName: t.config.tableName, retentionDays: 90, client: t.store.client, clock: t.clock });
    const other = await buildApp({ store, config: t.config, log: silentLogger as pino.Logger, clock: t.clock, events: { mode: 'inline', spill: null } });
    expect((await other.inject({ url: '/api/v1/settings', headers: t.auth })).json().retentionDays).toBe(30);
    expect(store.retentionDays).toBe(30);
    await other.close();
    expect((await t.app.inject({ method: 'PUT', url: '/api/v1/settings', payload: { retentionDays: 30 } })).statusCode).toBe(401);
  });
});

describe('erasure reaches events not yet stored', () => {
  let dataDir: string;
  let dynamo: EmbeddedDynamo | null = null;
  let r: LocalRedirector | null = null;
  afterEach(async () => {
    await r?.close();
    await dynamo?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Every file under `dir` whose bytes hold `needle`. */
  function filesHolding(dir: string, needle: string): string[] {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .map((name) => join(dir, name))
      .filter((path) => statSync(path).isFile() && readFileSync(path).includes(needle));
  }

  it('feed pages read ahead before an erasure are not served: the pages after it hold none of the person', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'revtrail-erase-ahead-'));
    r = await startLocalRedirector({
      dataDir,
      port: 0,
      maintenance: false,
      log: silentLogger as pino.Logger,
      settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0' },
    });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const api = (path: string, init: RequestInit = {}) => fetch(`${r!.url}${path}`, { ...init, headers: { ...auth, ...init.headers } });
    await api('/api/v1/links/spring', { method: 'PUT', body: JSON.stringify(LINK), headers: { 'content-type': 'application/json' } });
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${r.url}/spring`, { redirect: 'manual', headers: { cookie: `rt_vid=${i % 2 ? VID : VID2}`, 'user-agent': CHROME_UA } });
      expect(res.status).toBe(302);
    }
    await r.replaySpill();
    type Page = { items: Click[]; cursor: string; hasMore: boolean };
    const first = (await (await api('/api/v1/clicks?limit=5')).json()) as Page;
    expect(first.items).toHaveLength(5);
    // The next pages are read ahead now, with VID's clicks in them; then VID is erased.
    await new Promise((done) => setTimeout(done, 100));
    expect((await api('/api/v1/erase', { method: 'POST', body: JSON.stringify({ visitorId: VID }), headers: { 'content-type': 'application/json' } })).status).toBe(200);
    const rest: Click[] = [];
    for (let cursor = first.cursor, more = first.hasMore; more; ) {
      const page = (await (await api(`/api/v1/clicks?limit=5&cursor=${cursor}`)).json()) as Page;
      rest.push(...page.items);
      cursor = page.cursor;
      more = page.hasMore;
    }
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.filter((c) => c.visitorId === VID)).toEqual([]);
  });

  it('drops the journal\'s events of an erased visitor and email, and scrubs the quarantine: no file of the journal holds them', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'revtrail-erase-'));
    const store = join(dataDir, 'dynamodb');
    dynamo = await startEmbeddedDynamo({ path: store });
    const port = dynamo.port;
    r = await startLocalRedirector({
      dataDir,
      port: 0,
      dynamo,
      maintenance: false,
      log: silentLogger as pino.Logger,
      settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_ALLOWED_ORIGINS: SITE, REVTRAIL_FEED_SETTLE_MS: '0' },
    });
    const auth = { authorization: `Bearer ${TOKEN}` };
    const api = (path: string, init: RequestInit = {}) => fetch(`${r!.url}${path}`, { ...init, headers: { ...auth, ...init.headers } });
    await api('/api/v1/links/spring', { method: 'PUT', body: JSON.stringify(LINK), headers: { 'content-type': 'application/json' } });
    const visit = (vid: string) => fetch(`${r!.url}/spring`, { redirect: 'manual', headers: { cookie: `rt_vid=${vid}`, 'user-agent': CHROME_UA } });
    const identify = (vid: string, email: string) =>
      fetch(`${r!.url}/api/v1/collect`, { method: 'POST', headers: { origin: SITE, cookie: `rt_vid=${vid}` }, body: JSON.stringify({ t: 'identify', email, url: `${SITE}/` }) });

    // A line of the journal that is not an event, naming the visitor: ingest sets it aside in quarantine.jsonl.
    expect((await visit(VID)).status).toBe(302);
    await r.spill.flushed();
    const segment = readdirSync(join(dataDir, 'journal')).find((n) => n.startsWith('journal-'))!;
    appendFileSync(join(dataDir, 'journal', segment), `{"seq":2,"kind":"clicks","item":{"visitorId":"${VID}","note":"torn"}}\n`);
    await r.replaySpill();
    expect(filesHolding(join(dataDir, 'journal'), VID)).toEqual([join(dataDir, 'journal', 'quarantine.jsonl')]);

    // The store goes down: the visitor's next events, and those of a second visitor identified by the
    // same email, wait in the journal.
    await dynamo.close();
    dynamo = null;
    expect((await visit(VID)).status).toBe(302);
    expect((await identify(VID, 'ann@example.com')).status).toBe(204);
    expect((await visit(VID2)).status).toBe(302);
    expect((await identify(VID2, 'Ann@Example.com')).status).toBe(204);
    expect((await visit('Keep0123456789abcdefgh')).status).toBe(302);
    await expect(r.replaySpill()).rejects.toThrow();

    // Back up; the merchant erases the visitor, then the email, before the journal is ingested.
    dynamo = await startEmbeddedDynamo({ path: store, port });
    const { emailHashKey } = (await (await api('/api/v1/keys')).json()) as { emailHashKey: string };
    const emailHash = await hashEmail('ann@example.com', emailHashKey);
    expect((await (await api('/api/v1/erase', { method: 'POST', body: JSON.stringify({ visitorId: VID }), headers: { 'content-type': 'application/json' } })).json())).toEqual({ visitors: 1, items: 1 });
    expect((await api('/api/v1/erase', { method: 'POST', body: JSON.stringify({ emailHash }), headers: { 'content-type': 'application/json' } })).status).toBe(200);
    await r.replaySpill();

    const status = (await (await api('/api/v1/status')).json()) as { journal: { queued: number }; erasedEventsDropped: number };
    expect(status.journal.queued).toBe(0);
    expect(status.erasedEventsDropped).toBe(4);
    const clicks = ((await (await api('/api/v1/clicks?limit=1000')).json()) as { items: Click[] }).items;
    expect(clicks.map((c) => c.visitorId)).toEqual(['Keep0123456789abcdefgh']);
    expect(((await (await api('/api/v1/identities')).json()) as { items: Identity[] }).items).toEqual([]);
    for (const who of [`visitorId=${VID}`, `visitorId=${VID2}`, `emailHash=${emailHash}`]) {
      expect(((await (await api(`/api/v1/people?${who}`)).json()) as { counts: unknown }).counts, who).toEqual({ clicks: 0, pageviews: 0, identities: 0 });
    }
    // The quarantine keeps where and why, not the line.
    const quarantine = readFileSync(join(dataDir, 'journal', 'quarantine.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(quarantine).toEqual([expect.objectContaining({ segment, reason: expect.any(String), erased: true })]);
    expect(quarantine[0]).not.toHaveProperty('line');
    for (const needle of [VID, VID2, emailHash]) expect(filesHolding(join(dataDir, 'journal'), needle), needle).toEqual([]);
  });
});
