import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Click } from '@revtrail/shared';
import { silentLogger } from '../src/log';
import { startLocalRedirector, type LocalRedirector } from '../src/local';
import { DynamoStore } from '../src/store/dynamo';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../src/store/embedded';
import { buildApp } from '../src/app';
import { Journal } from '../src/journal/journal';
import { CHROME_UA, MemorySpill, ManualClock, TOKEN, testConfig } from './support';
import type pino from 'pino';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Sends `count` GETs, `concurrency` at a time; returns the status of each. */
async function load(url: string, count: number, concurrency: number): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const res = await fetch(`${url}?utm_content=${i}`, { redirect: 'manual', headers: { 'user-agent': CHROME_UA } });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

async function allClicks(r: LocalRedirector): Promise<Click[]> {
  const items: Click[] = [];
  let cursor = '';
  for (;;) {
    const res = await fetch(`${r.url}/api/v1/clicks?limit=1000&cursor=${cursor}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const page = (await res.json()) as { items: Click[]; cursor: string; hasMore: boolean };
    items.push(...page.items);
    cursor = page.cursor;
    if (!page.hasMore) return items;
  }
}

describe('the store goes down under load', () => {
  it('keeps redirecting, spills every click to disk, and replays them all once it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revtrail-outage-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let dynamo: EmbeddedDynamo = await startEmbeddedDynamo({ path: join(dir, 'dynamodb') });
    const port = dynamo.port;
    const r = await startLocalRedirector({
      dataDir: dir,
      port: 0,
      dynamo,
      maintenance: false,
      log: silentLogger as pino.Logger,
      settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0' },
    });
    cleanups.push(() => r.close());
    const put = await fetch(`${r.url}/api/v1/links/spring`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ destination: 'https://brand.com/pricing', channel: 'Newsletter' }),
    });
    expect(put.status).toBe(201);

    const before = load(`${r.url}/spring`, 600, 25);
    await new Promise((done) => setTimeout(done, 150));
    await dynamo.close(); // mid-load: the table is gone
    const during = await before;
    const down = await load(`${r.url}/spring`, 400, 25);
    await r.app.revtrail.recorder.flush();
    expect(r.app.revtrail.recorder.stats.spilled).toBeGreaterThan(0);
    expect((await r.spill.pending()).length).toBeGreaterThan(0);
    await expect(r.replaySpill()).rejects.toThrow();
    // Still redirecting, so still healthy for a load balancer (200), but it says what is wrong.
    const health = await fetch(`${r.url}/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { status: string; reasons: string[]; journal: { queued: number } };
    expect(body.status).toBe('degraded');
    expect(body.reasons[0]).toMatch(/^the store does not take events/);
    expect(body.journal.queued).toBeGreaterThan(0);

    dynamo = await startEmbeddedDynamo({ path: join(dir, 'dynamodb'), port });
    cleanups.push(() => dynamo.close());
    const after = await load(`${r.url}/spring`, 300, 25);
    await r.app.revtrail.recorder.flush();
    const replayed = await r.replaySpill();
    expect(r.app.revtrail.recorder.stats.stored).toBe(r.app.revtrail.recorder.stats.spilled);
    expect(replayed).toBeGreaterThan(0);
    expect(await r.spill.pending()).toEqual([]);
    const status = await fetch(`${r.url}/api/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const { journal, health: healthAfter } = (await status.json()) as { journal: Record<string, unknown>; health: { status: string } };
    expect(healthAfter.status).toBe('ok');
    expect(journal).toMatchObject({ degraded: null, queued: 0, buffered: 0, dropped: 0, writeFailures: 0, quarantined: 0, lost: 0 });
    expect(journal.appended).toBe(journal.ingested);

    const statuses = [...during, ...down, ...after];
    expect(statuses.filter((s) => s !== 302)).toEqual([]);
    const clicks = await allClicks(r);
    const ids = new Set(clicks.map((c) => c.id));
    expect(ids.size).toBe(statuses.length);
    const contents = new Set(clicks.map((c) => c.utm.utm_content));
    expect(contents.size).toBe(600); // the three loads reuse utm_content 0..599
  }, 120_000);
});

describe('answered means kept (local server)', () => {
  it('has every click answered with a 302 in the journal files at the moment of the answer, as a kill would leave them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revtrail-kept-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const r = await startLocalRedirector({
      dataDir: dir,
      port: 0,
      maintenance: false,
      log: silentLogger as pino.Logger,
      settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0' },
    });
    cleanups.push(() => r.close());
    const put = await fetch(`${r.url}/api/v1/links/spring`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ destination: 'https://brand.com/pricing', channel: 'Newsletter' }),
    });
    expect(put.status).toBe(201);
    const statuses = await load(`${r.url}/spring`, 500, 25);
    // No flush, no close: the files as they are now are what a SIGKILL would leave behind.
    cpSync(join(dir, 'journal'), join(dir, 'after-kill'), { recursive: true });
    const survivor = await Journal.open({ dir: join(dir, 'after-kill'), log: silentLogger });
    cleanups.push(() => survivor.close());
    const store = new DynamoStore({ tableName: 'after_kill', retentionDays: 90, client: r.dynamo.client() });
    await store.ensureTable(Date.now());
    await survivor.ingest(store, async () => undefined);
    const kept = await store.readFeed('clicks', null, 1000, Date.now() + 60_000);
    expect(kept.items).toHaveLength(statuses.filter((s) => s === 302).length);
    expect(statuses.filter((s) => s !== 302)).toEqual([]);
  }, 60_000);
});

/** A TCP proxy in front of dynalite that can add latency to every chunk, or refuse connections. */
async function slowProxy(target: number): Promise<{ port: number; delayMs: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { delayMs: 0 };
  const server: Server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    const pipe = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        const d = state.delayMs;
        if (d === 0) to.write(chunk);
        else setTimeout(() => to.writable && to.write(chunk), d);
      });
    pipe(client, upstream);
    pipe(upstream, client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    port: (server.address() as { port: number }).port,
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v: number) {
      state.delayMs = v;
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}

describe('on Lambda (inline writes), a slow or dead store', () => {
  async function lambdaApp(endpointPort: number, budgetMs: number) {
    const clock = new ManualClock();
    const config = testConfig({ REVTRAIL_CLICK_WRITE_BUDGET_MS: String(budgetMs) });
    const store = new DynamoStore({
      tableName: config.tableName,
      retentionDays: 90,
      clock,
      clientConfig: { endpoint: `http://127.0.0.1:${endpointPort}`, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 },
    });
    const spill = new MemorySpill();
    const app = await buildApp({ store, config, log: silentLogger as pino.Logger, clock, events: { mode: 'inline', spill } });
    cleanups.push(() => app.close());
    return { app, store, spill, clock };
  }

  it('answers within the write budget and spills the clicks a slow store did not take', async () => {
    const dynamo = await startEmbeddedDynamo();
    cleanups.push(() => dynamo.close());
    const proxy = await slowProxy(dynamo.port);
    cleanups.push(() => proxy.close());
    const { app, store, spill } = await lambdaApp(proxy.port, 100);
    await store.ensureTable(Date.now());
    await app.inject({ method: 'PUT', url: '/api/v1/links/spring', headers: { authorization: `Bearer ${TOKEN}` }, payload: { destination: 'https://brand.com/', channel: 'Ads' } });
    await app.inject({ url: '/spring' }); // warm the link cache and the connection

    proxy.delayMs = 400;
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const start = performance.now();
      const res = await app.inject({ url: `/spring?utm_content=${i}`, headers: { 'user-agent': CHROME_UA } });
      times.push(performance.now() - start);
      expect(res.statusCode).toBe(302);
    }
    expect(Math.max(...times)).toBeLessThan(100 + 250); // the budget plus generous scheduling slack, far below 400
    expect(spill.records.filter((r) => r.kind === 'clicks')).toHaveLength(10);
    expect(app.revtrail.recorder.stats).toMatchObject({ spilled: 10 });
  });

  it('still redirects cached links when the store refuses connections, and spills every click', async () => {
    const dynamo = await startEmbeddedDynamo();
    const proxy = await slowProxy(dynamo.port);
    const { app, store, spill } = await lambdaApp(proxy.port, 150);
    await store.ensureTable(Date.now());
    await app.inject({ method: 'PUT', url: '/api/v1/links/spring', headers: { authorization: `Bearer ${TOKEN}` }, payload: { destination: 'https://brand.com/', channel: 'Ads' } });
    await proxy.close();
    await dynamo.close();
    for (let i = 0; i < 20; i++) {
      const res = await app.inject({ url: '/spring', headers: { 'user-agent': CHROME_UA } });
      expect(res.statusCode).toBe(302);
      expect(new URL(res.headers.location as string).origin).toBe('https://brand.com');
    }
    expect(spill.records).toHaveLength(20);
    const unknown = await app.inject({ url: '/never-seen' });
    expect(unknown.statusCode).toBe(503);
    expect(unknown.headers['retry-after']).toBe('5');
  });
});
