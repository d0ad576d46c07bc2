/**
 * npm run bench:redirect — the local redirector's redirects against a bare node:http redirect, clicks kept
 * under that load, the Lambda bundle's size and its cold-start ready time, each beside a reference
 * measured in the same run. It reports; a missed target still exits 0. A harness failure exits 1.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, platform, release, arch, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import type pino from 'pino';
import { startLocalRedirector } from '../src/local';
import { silentLogger } from '../src/log';
import { startBareRedirector } from './bare-server';
import { coldStartLines, measureColdStart } from './cold';
import { accountClicks } from './clicks';
import { BROWSER_UA, drive, redirectsOf, type LoadSettings } from './load';
import { printReport, type Results } from './report';

const RESULTS = fileURLToPath(new URL('./results/redirect.json', import.meta.url));
const LOAD: LoadSettings = { connections: 50, warmupSeconds: 2, durationSeconds: 10, userAgent: BROWSER_UA };
const READY_RUNS = 5;
const TARGETS = { ratioMin: 0.5, ingestRatioMin: 0.7, p99MaxMs: 10 };
/** `npm run bench:redirect -w redirector -- --cold`: the Lambda's bundle and cold start alone, without the 30 s of load. */
const COLD_ONLY = process.argv.includes('--cold');
/** `-- --load`: the load, the clicks and the ingestion alone, without the bundle and cold start. */
const LOAD_ONLY = process.argv.includes('--load');

const secret = () => randomBytes(30).toString('base64url'); // 40 characters


async function expectStatus(res: Response, status: number[], what: string): Promise<Response> {
  if (!status.includes(res.status)) throw new Error(`${what} answered ${res.status}: ${await res.text()}`);
  return res;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'revtrail-bench-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(work, { recursive: true, force: true })];
  try {
    const token = secret();
    const auth = { authorization: `Bearer ${token}` };
    const r = await startLocalRedirector({
      dataDir: join(work, 'data'),
      port: 0,
      settings: { REVTRAIL_SYNC_TOKEN: token, REVTRAIL_FEED_SETTLE_MS: '0' },
      // silentLogger is a pino instance typed down to the methods the app calls.
      log: silentLogger as pino.Logger,
    });
    cleanups.push(() => r.close());
    // Requests that reached the server, in flight or answered: what the table must hold once drained.
    let received = 0;
    r.app.server.on('request', (req: IncomingMessage) => {
      if (req.url === '/bench') received += 1;
    });

    await expectStatus(
      await fetch(`${r.url}/api/v1/links/bench`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ destination: 'https://brand.com/pricing', channel: 'Bench', utm: { utm_source: 'bench' } }),
      }),
      [200, 201],
      'PUT /api/v1/links/bench',
    );
    const first = await expectStatus(await fetch(`${r.url}/bench`, { redirect: 'manual', headers: { 'user-agent': BROWSER_UA } }), [302], 'GET /bench');
    const location = first.headers.get('location');
    if (!location) throw new Error('GET /bench answered 302 without a Location');

    const bare = await startBareRedirector(new Map([['bench', location]]));
    cleanups.push(() => bare.close());
    await expectStatus(await fetch(`${bare.url}/bench`, { redirect: 'manual' }), [302], 'the bare server');

    const step = (what: string) => console.log(`[${(performance.now() / 1000).toFixed(1)} s] ${what}`);
    const link = await r.store.getLink('bench');
    if (!link) throw new Error('the bench link is not in the store');
    if (COLD_ONLY) {
      step(`cold start only (--cold): bundling src/lambda.ts as sst deploy does, then ${READY_RUNS} cold starts of the bundle and of the reference`);
      const cold = await measureColdStart({ work, dynamo: r.dynamo, link, retentionDays: r.config.retentionDays, userAgent: BROWSER_UA, runs: READY_RUNS, location });
      console.log(['', ...coldStartLines(cold), '', 'Not measured (--cold): the load, the clicks, the ingestion.'].join('\n'));
      return;
    }
    step(`load: bare node:http, ${LOAD.warmupSeconds} s warm-up + ${LOAD.durationSeconds} s`);
    const bareLoad = await drive(`${bare.url}/bench`, LOAD);
    step(`load: redirector, ${LOAD.warmupSeconds} s warm-up + ${LOAD.durationSeconds} s`);
    const redirectorLoad = await drive(`${r.url}/bench`, LOAD);
    step('clicks: draining the recorder, replaying the spill, paging the feed');
    const clicks = await accountClicks(r, auth);
    const answered = 1 + redirectsOf(redirectorLoad.warmup) + redirectsOf(redirectorLoad.measured);

    if (!LOAD_ONLY) step(`cold start: bundling src/lambda.ts as sst deploy does, then ${READY_RUNS} cold starts of the bundle and of the reference`);
    const cold = LOAD_ONLY ? null : await measureColdStart({ work, dynamo: r.dynamo, link, retentionDays: r.config.retentionDays, userAgent: BROWSER_UA, runs: READY_RUNS, location });
    const ratio = redirectorLoad.measured.requestsPerSecond / bareLoad.measured.requestsPerSecond;
    const ingestRatio = clicks.drainPerSecond / clicks.ceiling.best;
    const lost = Math.max(0, received - clicks.stored, answered - clicks.stored);
    const targets = {
      ratio: { target: `>= ${TARGETS.ratioMin}`, value: ratio, pass: ratio >= TARGETS.ratioMin },
      p99: { target: `< ${TARGETS.p99MaxMs} ms`, value: redirectorLoad.measured.p99Ms, pass: redirectorLoad.measured.p99Ms < TARGETS.p99MaxMs },
      clicksLost: { target: '0 lost', value: lost, pass: lost === 0 && clicks.stored === received && clicks.repeated === 0 },
      ingest: { target: `>= ${TARGETS.ingestRatioMin}`, value: ingestRatio, pass: ingestRatio >= TARGETS.ingestRatioMin },
      ...cold?.targets,
    };

    const cpu = cpus();
    const machine = { cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', os: `${platform()} ${release()} ${arch()}`, memoryBytes: totalmem(), node: process.version };
    const results: Results = {
      date: new Date().toISOString(),
      machine,
      load: { ...LOAD, path: '/bench', loadGenerator: 'autocannon 8 in a separate node process (bench/load-process.mjs)' },
      redirector: redirectorLoad.measured,
      bare: bareLoad.measured,
      warmup: { redirector: redirectorLoad.warmup, bare: bareLoad.warmup },
      ratio,
      clicks: { ...clicks, answered302: answered, received, inFlightAtStop: received - answered, lost },
      bundle: cold?.bundle,
      ready: cold?.ready,
      ...(cold?.profile ? { coldProfile: cold.profile } : {}),
      targets,
    };
    mkdirSync(join(RESULTS, '..'), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

    printReport(results, RESULTS);
  } finally {
    // Every server, the store and the temp dir go, even when one of them fails to close.
    for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch((e: unknown) => console.error('cleanup failed:', e));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench:redirect failed:', err);
    process.exit(1);
  },
);
