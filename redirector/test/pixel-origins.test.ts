import { afterAll, describe, expect, it } from 'vitest';
import type pino from 'pino';
import { buildApp, type RevtrailApp } from '../src/app';
import { silentLogger } from '../src/log';
import { DynamoStore } from '../src/store/dynamo';
import { mergeRefusals, REFUSED_ORIGINS_KEPT, type OriginRefusals } from '../src/store/origin-refusals';
import { CHROME_UA, closeSharedDynamo, makeTestApp, MemorySpill, type TestApp } from './support';

afterAll(closeSharedDynamo);

// The pixel's allowed origins set through the sync API (kept in the table, taken live by every instance), and
// the refused ones counted per origin, bounded: against dynalite through the real AWS SDK.
const DEPLOYED = 'https://brand.com';
const SHOP = 'https://shop.example';

interface Settings {
  retentionDays: number;
  allowedOrigins: string[];
  allowedOriginsDeployment: string[];
  refusedOrigins: OriginRefusals;
}

const pageview = (app: RevtrailApp, origin: string) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/collect',
    headers: { origin, 'content-type': 'text/plain;charset=UTF-8', 'user-agent': CHROME_UA },
    payload: JSON.stringify({ t: 'pageview', url: `${origin}/` }),
  });

/** Another instance of the same deployment: its own app and caches over the same table, as a second Lambda is. */
async function secondInstance(t: TestApp): Promise<RevtrailApp> {
  const store = new DynamoStore({ tableName: t.config.tableName, retentionDays: 90, client: t.store.client, clock: t.clock });
  const app = await buildApp({ store, config: t.config, log: silentLogger as pino.Logger, clock: t.clock, events: { mode: 'inline', spill: new MemorySpill() } });
  await app.revtrail.pixelOrigins.refresh();
  return app;
}

describe('allowed pixel origins through /api/v1/settings', () => {
  const get = async (t: TestApp, app = t.app) => (await app.inject({ url: '/api/v1/settings', headers: t.auth })).json() as Settings;
  const put = (t: TestApp, payload: unknown) => t.app.inject({ method: 'PUT', url: '/api/v1/settings', headers: t.auth, payload: payload as object });

  it('counts a refused site, allows it from the app without a restart, and keeps the deployment’s beside it', async () => {
    const t = await makeTestApp({ settings: { REVTRAIL_ALLOWED_ORIGINS: DEPLOYED } });
    const other = await secondInstance(t);
    expect((await pageview(t.app, DEPLOYED)).statusCode).toBe(204);
    const refused = await pageview(t.app, SHOP);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.message).toContain('allow its origin in Revtrail');
    expect((await pageview(other, SHOP)).statusCode).toBe(403);
    // A preflight is refused and counted the same way.
    expect((await t.app.inject({ method: 'OPTIONS', url: '/api/v1/collect', headers: { origin: SHOP } })).statusCode).toBe(403);

    const before = await get(t);
    expect(before).toMatchObject({ allowedOrigins: [], allowedOriginsDeployment: [DEPLOYED] });
    expect(before.refusedOrigins).toEqual({ origins: [{ origin: SHOP, count: 3, lastAt: t.clock.now() }], other: { count: 0, lastAt: null } });

    const allowed = await put(t, { allowedOrigins: [SHOP, `${SHOP}/`] });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json()).toMatchObject({ allowedOrigins: [SHOP], allowedOriginsDeployment: [DEPLOYED], refusedOrigins: { origins: [] } });
    expect((await pageview(t.app, SHOP)).statusCode).toBe(204);
    // The other instance read its list before: it reads the table again before refusing (at most once a second).
    t.clock.advance(1_000);
    const there = await pageview(other, SHOP);
    expect([there.statusCode, there.headers['access-control-allow-origin']]).toEqual([204, SHOP]);
    expect((await pageview(t.app, DEPLOYED)).statusCode).toBe(204);

    // Retention alone leaves the origins as they are; a restarted instance reads them from the table.
    expect((await put(t, { retentionDays: 60 })).json()).toMatchObject({ retentionDays: 60, allowedOrigins: [SHOP] });
    const restarted = await secondInstance(t);
    expect((await get(t, restarted)).allowedOrigins).toEqual([SHOP]);

    // Taken back: the instance that did it refuses at once, another within its refresh (10 s).
    expect((await put(t, { allowedOrigins: [] })).json()).toMatchObject({ allowedOrigins: [], allowedOriginsDeployment: [DEPLOYED] });
    expect((await pageview(t.app, SHOP)).statusCode).toBe(403);
    t.clock.advance(10_000);
    await pageview(other, SHOP); // starts the background read
    await expect.poll(async () => (await pageview(other, SHOP)).statusCode).toBe(403);
    for (const app of [other, restarted]) await app.close();
  });

  it('keeps the most refused origins by name and the rest as a count, exact across instances', async () => {
    const t = await makeTestApp({ settings: { REVTRAIL_ALLOWED_ORIGINS: DEPLOYED } });
    const other = await secondInstance(t);
    let sent = 0;
    // Two busy sites and a flood of made-up origins, from two instances at once.
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const app = i % 2 === 0 ? t.app : other;
        for (const origin of [SHOP, SHOP, 'http://localhost:3000', `https://made-up-${i}.example`]) {
          expect((await pageview(app, origin)).statusCode).toBe(403);
          sent += 1;
        }
      }),
    );
    expect((await pageview(t.app, 'null')).statusCode).toBe(403);
    sent += 1;
    await other.revtrail.refusedOrigins.flush(5_000);
    const { refusedOrigins: r } = await get(t);
    expect(r.origins).toHaveLength(REFUSED_ORIGINS_KEPT);
    expect(r.origins.slice(0, 2).map((o) => [o.origin, o.count])).toEqual([
      [SHOP, 80],
      ['http://localhost:3000', 40],
    ]);
    expect(r.origins.reduce((n, o) => n + o.count, 0) + r.other.count).toBe(sent);
    expect(r.other.count).toBe(40 - (REFUSED_ORIGINS_KEPT - 2) + 1);
    await other.close();
  });

  it('refuses what is not a list of origins, saying which', async () => {
    const t = await makeTestApp();
    for (const [payload, message] of [
      [{ allowedOrigins: ['brand.com'] }, 'allowedOrigins[0] must be an origin like https://brand.com'],
      [{ allowedOrigins: ['https://brand.com/shop'] }, 'allowedOrigins[0] must be an origin'],
      [{ allowedOrigins: [DEPLOYED, 'javascript:alert(1)'] }, 'allowedOrigins[1] must be an origin'],
      [{ allowedOrigins: Array.from({ length: 51 }, (_, i) => `https://s${i}.example`) }, 'at most 50 origins'],
      [{ allowedOrigins: 'https://brand.com' }, 'must be a list'],
      [{}, 'give retentionDays, allowedOrigins or both'],
      [{ allowedOrigins: [], colour: 'blue' }, 'colour'],
    ] as const) {
      const res = await put(t, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.message).toContain(message);
    }
    expect((await get(t)).allowedOrigins).toEqual([]);
    expect((await t.app.inject({ method: 'PUT', url: '/api/v1/settings', payload: { allowedOrigins: [SHOP] } })).statusCode).toBe(401);
  });
});

describe('mergeRefusals', () => {
  it('adds counts per origin, keeps the top ones by count then recency, and folds the rest into other', () => {
    const one = (origin: string, count: number, lastAt: number): OriginRefusals => ({ origins: [{ origin, count, lastAt }], other: { count: 0, lastAt: null } });
    let all: OriginRefusals = { origins: [], other: { count: 2, lastAt: 5 } };
    for (let i = 0; i < REFUSED_ORIGINS_KEPT + 3; i++) all = mergeRefusals(all, one(`https://s${i}.example`, 1, 10 + i));
    all = mergeRefusals(all, one('https://s0.example', 4, 100));
    expect(all.origins).toHaveLength(REFUSED_ORIGINS_KEPT);
    // s0's first refusal went into other when it fell out of the top; its later ones count under its name again.
    expect(all.origins[0]).toEqual({ origin: 'https://s0.example', count: 4, lastAt: 100 });
    // Equal counts: the most recent are kept by name (s0, s1, s2, then s3 fell out).
    expect(all.origins.at(-1)!.origin).toBe('https://s4.example');
    expect(all.other).toEqual({ count: 2 + 4, lastAt: 13 });
    expect(all.origins.reduce((n, o) => n + o.count, 0) + all.other.count).toBe(2 + REFUSED_ORIGINS_KEPT + 3 + 4);
  });
});
