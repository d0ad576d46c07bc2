import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Click } from '@revtrail/shared';
import { silentLogger } from '../src/log';
import { startLocalRedirector, type LocalRedirector } from '../src/local';
import { DynamoStore } from '../src/store/dynamo';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../src/store/embedded';
import { buildApp, type RevtrailApp } from '../src/app';
import { spilledRecords } from '../src/replay';
import { SqsSpill } from '../src/spill/sqs';
import type { Spill } from '../src/spill/types';
import { Journal } from '../src/journal/journal';
import { fakeSqs, slowProxy } from './aws-fakes';
import { CHROME_UA, ManualClock, TOKEN, testConfig } from './support';
import pino from 'pino';

const execFileAsync = promisify(execFile);
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

/** A local redirector in `dir` (on `dynamo` when given), maintenance off, with link `spring` saved. */
async function redirectorWithLink(dir: string, dynamo?: EmbeddedDynamo) {
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
  return r;
}

describe('the store goes down under load', () => {
  it('keeps redirecting, spills every click to disk, and replays them all once it is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revtrail-outage-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    let dynamo: EmbeddedDynamo = await startEmbeddedDynamo({ path: join(dir, 'dynamodb') });
    const port = dynamo.port;
    const r = await redirectorWithLink(dir, dynamo);

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
  it('replaySpill: once it resolves, every click journaled before the call is in the store, even with a pass already running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revtrail-replay-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const r = await redirectorWithLink(dir);
    // A backlog, and a pass over it started (it seals the journal's segment as it starts).
    const backlog = await load(`${r.url}/spring`, 1500, 25);
    await r.app.revtrail.recorder.flush();
    const running = r.replaySpill();
    // Clicks journaled while that pass runs land in the next segment, which that pass does not take.
    const late = await load(`${r.url}/spring`, 40, 4);
    await r.app.revtrail.recorder.flush();
    await r.replaySpill();
    await running;
    expect((await allClicks(r)).length).toBe(backlog.length + late.length);
  }, 60_000);

  it('has every click answered with a 302 in the journal files at the moment of the answer, as a kill would leave them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revtrail-kept-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const r = await redirectorWithLink(dir);
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

/** A pino logger whose lines are kept, as CloudWatch keeps a function's output. */
function capturedLog(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line.trimEnd()) });
  return { log, lines };
}

describe('on Lambda (inline writes): answered means in the table, else in the spill queue, else in the log', () => {
  async function lambdaApp(endpointPort: number, budgetMs: number, spill: Spill | null) {
    const clock = new ManualClock(Date.now());
    const config = testConfig({ REVTRAIL_CLICK_WRITE_BUDGET_MS: String(budgetMs) });
    const store = new DynamoStore({
      tableName: config.tableName,
      retentionDays: 90,
      clock,
      clientConfig: { endpoint: `http://127.0.0.1:${endpointPort}`, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 },
    });
    const { log, lines } = capturedLog();
    const app = await buildApp({ store, config, log, clock, events: { mode: 'inline', spill } });
    cleanups.push(() => app.close());
    return { app, store, config, logLines: lines };
  }

  async function setUp(budgetMs: number, sqsUp = true) {
    const dynamo = await startEmbeddedDynamo();
    cleanups.push(() => dynamo.close());
    const proxy = await slowProxy(dynamo.port);
    cleanups.push(() => proxy.close());
    const sqs = await fakeSqs();
    cleanups.push(() => sqs.close());
    if (!sqsUp) await sqs.close();
    const lambda = await lambdaApp(proxy.port, budgetMs, new SqsSpill(sqs.queueUrl, sqs.client));
    await lambda.store.ensureTable(Date.now());
    const put = await lambda.app.inject({ method: 'PUT', url: '/api/v1/links/spring', headers: { authorization: `Bearer ${TOKEN}` }, payload: { destination: 'https://brand.com/', channel: 'Ads' } });
    expect(put.statusCode).toBe(201);
    // The table as the desktop reads it, straight from dynalite (not through the proxy).
    const table = new DynamoStore({ tableName: lambda.config.tableName, retentionDays: 90, client: dynamo.client() });
    const clickIds = async () => (await table.readFeed('clicks', null, 1000, Date.now() + 60_000)).items.map((c) => c.id);
    return { dynamo, proxy, sqs, table, clickIds, ...lambda };
  }

  const click = (app: RevtrailApp, i: number) => app.inject({ url: `/spring?utm_content=${i}`, headers: { 'user-agent': CHROME_UA } });

  it('writes to the table when it answers in time: nothing spilled, nothing logged', async () => {
    const { app, sqs, logLines, clickIds } = await setUp(1000);
    for (let i = 0; i < 5; i++) expect((await click(app, i)).statusCode).toBe(302);
    expect(await clickIds()).toHaveLength(5);
    expect(sqs.bodies).toEqual([]);
    expect(logLines.filter((l) => l.includes('"spill"'))).toEqual([]);
    expect(app.revtrail.recorder.stats).toMatchObject({ stored: 5, spilled: 0, logged: 0 });
  });

  it('answers within the budget when the table is slow, and the spill queue has every click; its replay stores each once', async () => {
    const { app, proxy, sqs, table, clickIds } = await setUp(100);
    await click(app, -1); // warm the link cache and the connection
    proxy.delayMs = 400;
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const start = performance.now();
      expect((await click(app, i)).statusCode).toBe(302);
      times.push(performance.now() - start);
    }
    expect(Math.max(...times)).toBeLessThan(100 + 250); // the budget plus generous scheduling slack, far below 400
    const spilled = sqs.bodies.flatMap((b) => spilledRecords(b));
    expect(spilled.filter((r) => r.kind === 'clicks')).toHaveLength(10);
    expect(app.revtrail.recorder.stats).toMatchObject({ spilled: 10 });
    expect(app.revtrail.recorder.health().status).toBe('degraded');

    // A write past its budget may still land: say half did. The replay (replay.ts does this per message)
    // must not add second copies of those.
    await table.putEvents(spilled.filter((_, i) => i % 2 === 0));
    for (const body of sqs.bodies) await table.putEventsOnce(spilledRecords(body));
    const ids = await clickIds();
    expect(ids).toHaveLength(11);
    expect(new Set(ids).size).toBe(11);
  });

  it('still redirects cached links when the table and the queue are down, keeps every click in a log line, and npm run replay-log stores them once', async () => {
    const { app, proxy, dynamo, logLines, config, clickIds } = await setUp(150, false);
    await click(app, -1);
    await proxy.close();
    for (let i = 0; i < 20; i++) {
      const res = await click(app, i);
      expect(res.statusCode).toBe(302);
      expect(new URL(res.headers.location as string).origin).toBe('https://brand.com');
    }
    expect(app.revtrail.recorder.stats).toMatchObject({ logged: 20 });
    expect(app.revtrail.recorder.health().reasons).toEqual(['the table and the spill queue failed: events were kept in the log only']);
    const unknown = await app.inject({ url: '/never-seen' });
    expect(unknown.statusCode).toBe(503);
    expect(unknown.headers['retry-after']).toBe('5');

    // As `aws logs tail --format short` prints them: a timestamp, then the line the function wrote.
    const dir = mkdtempSync(join(tmpdir(), 'revtrail-replay-log-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'spill.log');
    writeFileSync(file, logLines.map((l) => `2026-12-04T18:00:00.000000+00:00 ${l}`).join('\n'));
    const run = () =>
      execFileAsync('npx', ['tsx', 'src/replay-log.ts', '--table', config.tableName, file], {
        cwd: join(import.meta.dirname, '..'),
        env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_REGION: 'local', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' },
      });
    const first = await run();
    expect(first.stdout).toContain('20 events in 20 log lines: 20 written');
    const again = await run();
    expect(again.stdout).toContain('0 written to');
    expect(again.stdout).toContain('20 were there already');
    const ids = await clickIds();
    expect(ids).toHaveLength(21);
    expect(new Set(ids).size).toBe(21);
  }, 60_000);
});
